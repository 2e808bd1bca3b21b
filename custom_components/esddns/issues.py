"""Repair issues: only problems the user can act on."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .sync import describe_answers
from .wan import Detection, Family


def _raise(
    hass: HomeAssistant,
    issue_id: str,
    translation_key: str,
    placeholders: dict[str, str],
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
) -> None:
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=severity,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


def async_sources_disagree(
    hass: HomeAssistant, issue_id: str, family: Family, detection: Detection
) -> None:
    """Sources keep naming different public addresses: two WAN links, or a lying source."""
    placeholders = {"family": family.value, "answers": describe_answers(detection)}
    _raise(hass, issue_id, "sources_disagree", placeholders)


def async_record_overwritten(hass: HomeAssistant, issue_id: str, record: str, rtype: str) -> None:
    """Someone else keeps rewriting a record we manage: two updaters fighting."""
    _raise(hass, issue_id, "record_overwritten", {"record": record, "type": rtype})


def async_router_problem(
    hass: HomeAssistant, issue_id: str, translation_key: str, **placeholders: str
) -> None:
    """A router entity shows that inbound connections to the records won't reach home."""
    _raise(hass, issue_id, translation_key, placeholders)


def async_domain_missing(hass: HomeAssistant, issue_id: str, domain: str) -> None:
    """Gandi no longer knows the domain: it left LiveDNS, or the account."""
    _raise(hass, issue_id, "domain_missing", {"domain": domain}, ir.IssueSeverity.ERROR)


def async_clear(hass: HomeAssistant, issue_id: str) -> None:
    """The problem is gone."""
    ir.async_delete_issue(hass, DOMAIN, issue_id)
