"""Repair issues: only problems the user can act on."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .sync import describe_answers
from .wan import Detection, Family


def async_sources_disagree(
    hass: HomeAssistant, issue_id: str, family: Family, detection: Detection
) -> None:
    """Sources keep naming different public addresses: two WAN links, or a lying source."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="sources_disagree",
        translation_placeholders={"family": family.value, "answers": describe_answers(detection)},
    )


def async_record_overwritten(hass: HomeAssistant, issue_id: str, record: str, rtype: str) -> None:
    """Someone else keeps rewriting a record we manage: two updaters fighting."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="record_overwritten",
        translation_placeholders={"record": record, "type": rtype},
    )


def async_router_problem(
    hass: HomeAssistant, issue_id: str, translation_key: str, **placeholders: str
) -> None:
    """A router entity shows that inbound connections to the records won't reach home."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


def async_domain_missing(hass: HomeAssistant, issue_id: str, domain: str) -> None:
    """Gandi no longer knows the domain: it left LiveDNS, or the account."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="domain_missing",
        translation_placeholders={"domain": domain},
    )


def async_clear(hass: HomeAssistant, issue_id: str) -> None:
    """The problem is gone."""
    ir.async_delete_issue(hass, DOMAIN, issue_id)
