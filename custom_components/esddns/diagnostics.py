"""Diagnostics: everything needed to understand a report, with the secret redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import CONF_SECRET
from .data import EsddnsConfigEntry
from .gandi import scrub
from .wan import Detection, Scoreboard

TO_REDACT = {CONF_SECRET}


def _detection(detection: Detection) -> dict[str, Any]:
    return {
        "address": str(detection.address) if detection.address is not None else None,
        "quorum": detection.quorum,
        "elapsed_ms": round(detection.elapsed_ms, 1),
        "full_round": detection.full,
        "widened": detection.widened,
        "outcomes": [
            {
                "source": outcome.source.name,
                "kind": outcome.source.kind.value,
                "provider": outcome.source.provider,
                "status": outcome.status.value,
                "address": str(outcome.address) if outcome.address is not None else None,
                "latency_ms": (
                    round(outcome.latency_ms, 1) if outcome.latency_ms is not None else None
                ),
                "detail": outcome.detail,
            }
            for outcome in detection.outcomes
        ],
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EsddnsConfigEntry
) -> dict[str, Any]:
    """Entry, options, last detection with every source's outcome, records, sync history.

    Every text is scrubbed of the secret too: an endpoint may have echoed it into a message
    that reached the history or an outcome's detail.
    """
    dump: dict[str, Any] = _scrubbed(_dump(entry), [entry.data[CONF_SECRET]])
    return dump


def _scrubbed(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {key: _scrubbed(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item, secrets) for item in value]
    return value


def _scoreboard(scoreboard: Scoreboard) -> dict[str, Any]:
    """What each source did in past rounds: why it is asked first, later, or not at all."""
    return {
        family.value: {
            "round": board.round,
            "sources": {
                name: {
                    "asked": stats.asked,
                    "answered": stats.answered,
                    "failures_in_row": stats.failures_in_row,
                    "miss_rate": round(stats.miss_rate, 3),
                    "last_asked_round": stats.seen,
                    "latency_ms": (
                        round(stats.latency_ms, 1) if stats.latency_ms is not None else None
                    ),
                    "skipped_until_round": stats.skip_until,
                    "last_failure": (
                        {
                            "at": dt_util.utc_from_timestamp(stats.last_failure.at).isoformat(),
                            "status": stats.last_failure.status,
                            "detail": stats.last_failure.detail,
                        }
                        if stats.last_failure is not None
                        else None
                    ),
                }
                for name, stats in sorted(board.sources.items())
            },
        }
        for family, board in sorted(scoreboard.families.items())
    }


def _dump(entry: EsddnsConfigEntry) -> dict[str, Any]:
    data = entry.runtime_data
    detection = data.detection
    public = detection.data
    return {
        "entry": {
            "title": entry.title,
            # A date, not a secret: as the user gave it.
            "token_expires": data.expiry.expires.isoformat() if data.expiry.expires else None,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
            "records": [
                {
                    "subentry_id": record.subentry_id,
                    "record": record.label,
                    "types": [rtype.value for rtype in record.types],
                    "ttl": record.ttl,
                    "auto_sync": record.auto_sync,
                    "interface_id": (
                        str(record.interface_id) if record.interface_id is not None else None
                    ),
                    "ipv6_prefix_length": record.prefix_bits,
                }
                for record in data.records.records
            ],
            # Left out of the syncs, each with a repair.
            "unusable_records": [
                {"subentry_id": r.subentry_id, "record": r.title, "reason": r.detail}
                for r in data.account_records.unusable
            ],
        },
        "detection": {
            "last_update_success": detection.last_update_success,
            "shared_by_accounts": len(data.shared.users),
            "detected_at": public.detected_at.isoformat() if public is not None else None,
            "families": {
                family.value: _detection(detection)
                for family, detection in (public.detections.items() if public else ())
            },
            "scoreboard": _scoreboard(detection.scoreboard),
            "last_trigger": public.trigger if public is not None else None,
            "recent_rounds": list(data.shared.reporter.recent),
            "change_check": {
                family.value: {
                    "source": record.source,
                    "asked": record.asked,
                    "agreed": record.agreed,
                    "differed": record.differed,
                    "refuted": record.refuted,
                    "strikes": dict(record.strikes),
                    "demoted": sorted(record.demoted),
                    "last": record.last,
                }
                for family, record in sorted(data.shared.triggers.canary.items())
                if family in detection.families
            },
        },
        "records": {
            "last_update_success": data.records.last_update_success,
            "values": [
                {
                    "domain": key.domain,
                    "name": key.name,
                    "type": key.type.value,
                    "values": list(rrset.values) if rrset is not None else None,
                    "ttl": rrset.ttl if rrset is not None else None,
                    "desired": str(desired) if (desired := data.syncer.desired(key)) else None,
                    "drift": data.syncer.drift(key),
                }
                for key in data.records.keys
                if key in (data.records.data or {})
                for rrset in [(data.records.data or {})[key]]
            ],
        },
        "history": data.history.items,
    }
