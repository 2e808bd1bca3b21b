"""Repair issues: only problems the user can act on."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .records import UnusableRecord
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
    placeholders = {"family": family.label, "answers": detection.answers_text}
    _raise(hass, issue_id, "sources_disagree", placeholders)


def async_record_overwritten(hass: HomeAssistant, issue_id: str, record: str, rtype: str) -> None:
    """Someone else keeps rewriting a record we manage: two updaters fighting."""
    _raise(hass, issue_id, "record_overwritten", {"record": record, "type": rtype})


def async_router_problem(
    hass: HomeAssistant, issue_id: str, translation_key: str, **placeholders: str
) -> None:
    """A router entity shows that inbound connections to the records won't reach home."""
    _raise(hass, issue_id, translation_key, placeholders)


def async_domains_missing(
    hass: HomeAssistant, entry_id: str, missing: Iterable[str], *, clear: bool = True
) -> None:
    """One repair per domain of the account that Gandi no longer knows (it left LiveDNS, or the
    credential's account); with ``clear``, none for the account's other domains."""
    prefix = f"domain_missing_{entry_id}_"
    wanted = {f"{prefix}{domain}": domain for domain in missing}
    for issue_id, domain in wanted.items():
        _raise(hass, issue_id, "domain_missing", {"domain": domain}, ir.IssueSeverity.ERROR)
    if clear:
        _clear_others(hass, prefix, set(wanted))


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
    _clear_others(hass, prefix, wanted)


def _clear_others(hass: HomeAssistant, prefix: str, wanted: set[str]) -> None:
    """Drop the repairs whose ids start with ``prefix``, except ``wanted``."""
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix) and issue_id not in wanted:
            async_clear(hass, issue_id)


def async_token_expires(
    hass: HomeAssistant, entry_id: str, account: str, expires: str | None
) -> None:
    """The account's token expires on ``expires`` (None: not soon, or no date): a repair that
    says the date, and whose fix starts re-authentication (repairs.py)."""
    issue_id = f"token_expires_{entry_id}"
    if expires is None:
        async_clear(hass, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key="token_expiring",
        translation_placeholders={"account": account, "expires": expires},
        data={"entry_id": entry_id},
    )


def async_clear_detection_orphans(hass: HomeAssistant, fingerprints: set[str]) -> None:
    """Drop the detection repairs of settings no account has any more (changed while Home
    Assistant was stopped, or by an upgrade that changed what the settings hold)."""
    for domain, issue_id in list(ir.async_get(hass).issues):
        kind, _, rest = issue_id.partition("_")
        if kind == "sources" and rest.startswith("disagree_"):
            rest = rest.removeprefix("disagree_")
        elif kind != "router":
            continue
        if domain == DOMAIN and rest.split("_", 1)[0] not in fingerprints:
            async_clear(hass, issue_id)


def async_clear(hass: HomeAssistant, issue_id: str) -> None:
    """The problem is gone."""
    ir.async_delete_issue(hass, DOMAIN, issue_id)
