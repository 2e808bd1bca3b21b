"""Repair issues: only problems the user can act on."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .records import UnusableRecord
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
    placeholders = {"family": family.label, "answers": describe_answers(detection)}
    _raise(hass, issue_id, "sources_disagree", placeholders)


def async_record_overwritten(hass: HomeAssistant, issue_id: str, record: str, rtype: str) -> None:
    """Someone else keeps rewriting a record we manage: two updaters fighting."""
    _raise(hass, issue_id, "record_overwritten", {"record": record, "type": rtype})


def async_router_problem(
    hass: HomeAssistant, issue_id: str, translation_key: str, **placeholders: str
) -> None:
    """A router entity shows that inbound connections to the records won't reach home."""
    _raise(hass, issue_id, translation_key, placeholders)


def domain_missing_id(entry_id: str, domain: str) -> str:
    """The id of an account's "Gandi no longer knows <domain>" repair."""
    return f"domain_missing_{entry_id}_{domain}"


def async_domain_missing(hass: HomeAssistant, entry_id: str, domain: str) -> None:
    """Gandi no longer knows the domain: it left LiveDNS, or the account."""
    issue_id = domain_missing_id(entry_id, domain)
    _raise(hass, issue_id, "domain_missing", {"domain": domain}, ir.IssueSeverity.ERROR)


def domains_missing(hass: HomeAssistant, entry_id: str) -> set[str]:
    """The domains an account has a "domain missing" repair for (raised by an earlier setup,
    which may have been waiting to retry and is never unloaded)."""
    prefix = domain_missing_id(entry_id, "")
    return {
        issue_id.removeprefix(prefix)
        for domain, issue_id in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith(prefix)
    }


def async_clear_domain_missing(hass: HomeAssistant, entry_id: str, domains: Iterable[str]) -> None:
    """The account can read these domains again, or is gone."""
    for domain in domains:
        async_clear(hass, domain_missing_id(entry_id, domain))


def async_records_unusable(
    hass: HomeAssistant, entry_id: str, unusable: Iterable[UnusableRecord]
) -> None:
    """One repair per record of the account that is left out of the syncs (and none for the
    others): it names the record and says why."""
    prefix = f"record_unusable_{entry_id}_"
    wanted: set[str] = set()
    for record in unusable:
        issue_id = f"{prefix}{record.subentry_id}"
        wanted.add(issue_id)
        placeholders = {"record": record.title, "detail": record.detail}
        if record.reason == "name_too_long":
            _raise(hass, issue_id, "record_name_too_long", placeholders, ir.IssueSeverity.ERROR)
        else:
            _raise(hass, issue_id, "record_unusable", placeholders, ir.IssueSeverity.ERROR)
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in wanted:
            async_clear(hass, issue_id)


def async_clear(hass: HomeAssistant, issue_id: str) -> None:
    """The problem is gone."""
    ir.async_delete_issue(hass, DOMAIN, issue_id)
