"""Config entry migration: 0.1.0's one entry per domain (version 1) to one per credential (2),
and 0.2.0's record names to names relative to their domain (2.1 to 2.2).

Home Assistant migrates the entries of a domain concurrently. Entries that share a credential
become one account, so whichever of them runs first migrates the whole group, without awaiting
anything until every registry change is made: the others then find themselves at version 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import SOURCE_IGNORE, ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util.hass_dict import HassKey

from . import records
from .const import (
    CONF_API_URL,
    CONF_AUTO_SYNC,
    CONF_CREDENTIAL_KIND,
    CONF_DOMAIN,
    CONF_MERGED_FROM,
    CONF_MERGED_INTO,
    CONF_NAME,
    CONF_RECORD_TYPES,
    CONF_RECORDS,
    CONF_SECRET,
    CONF_TTL,
    DEFAULT_AUTO_SYNC,
    DEFAULT_NAME,
    DEFAULT_RECORD_TYPES,
    DEFAULT_TTL,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    LOGGER,
    SUBENTRY_RECORD,
)
from .gandi import (
    PRODUCTION_URL,
    GandiInputError,
    normalize_api_url,
    normalize_domain,
    normalize_name,
    normalize_secret,
)
from .history import async_merge_histories

# Merged entries whose removal was asked for in this run.
DATA_REMOVING: HassKey[set[str]] = HassKey(f"{DOMAIN}_removing")
# Accounts whose merged sync history is being written, by entry id.
DATA_MERGING: HassKey[dict[str, asyncio.Event]] = HassKey(f"{DOMAIN}_merging")
# 0.1.0's entry-level entities that stay on the account's service device.
ACCOUNT_KEYS = ("public_ipv4", "public_ipv6", "last_sync", "dns_up_to_date")
SYNC_NOW = "sync_now"
CREDENTIAL_FIELDS = (CONF_CREDENTIAL_KIND, CONF_SECRET, CONF_API_URL)

type CredentialKey = tuple[str, str, str]
# A 0.1.0 entity key -> its version 2 unique id and record subentry.
type Moves = dict[str, tuple[str, str]]


async def async_merged_history(hass: HomeAssistant, entry_id: str) -> None:
    """Wait until the sync histories merged into this account are saved."""
    if (done := hass.data.get(DATA_MERGING, {}).get(entry_id)) is not None:
        await done.wait()


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Migrate ``entry``, with every version 1 entry that shares its credential."""
    if entry.version > ENTRY_VERSION:
        LOGGER.error(
            "Config entry %s has version %s: downgrade not supported: this ESDDNS understands "
            "version %s",
            entry.title,
            entry.version,
            ENTRY_VERSION,
        )
        return False
    if entry.version == ENTRY_VERSION:
        if entry.minor_version < ENTRY_MINOR_VERSION:
            _async_relative_names(hass, entry)
        return True
    if _records(entry) is None:
        LOGGER.error(
            "Config entry %s can't be migrated: its 0.1.0 settings are incomplete", entry.title
        )
        return False
    leader, *members = _group(hass, entry)
    _async_migrate_group(hass, leader, members)
    # The account may be set up while this awaits (when a member migrated first): its setup
    # waits for the merged history (async_merged_history).
    merging = hass.data.setdefault(DATA_MERGING, {})
    done = merging[leader.entry_id] = asyncio.Event()
    try:
        await async_merge_histories(hass, leader.entry_id, [m.entry_id for m in members])
    finally:
        done.set()
        merging.pop(leader.entry_id, None)
    # Removed only now: removing an entry deletes its history file.
    for member in members:
        async_remove_merged(hass, member.entry_id)
    return True


@callback
def async_remove_merged(hass: HomeAssistant, entry_id: str) -> None:
    """Remove an entry merged into an account, once: by the migration, or at the next start if
    Home Assistant stopped before (the entry's setup asks again)."""
    removing = hass.data.setdefault(DATA_REMOVING, set())
    if entry_id in removing or hass.config_entries.async_get_entry(entry_id) is None:
        return  # already asked for (or done): a second removal would find nothing to remove
    removing.add(entry_id)
    hass.async_create_task(
        hass.config_entries.async_remove(entry_id), f"{DOMAIN} remove merged entry {entry_id}"
    )


def credential_key(data: Mapping[str, Any]) -> CredentialKey:
    """What makes two 0.1.0 entries one account: the credential and the endpoint it goes to."""
    return (
        str(data.get(CONF_CREDENTIAL_KIND)),
        _normalized(normalize_secret, data.get(CONF_SECRET)),
        _normalized(normalize_api_url, data.get(CONF_API_URL, PRODUCTION_URL)),
    )


def _normalized(normalize: Callable[[str], str], value: Any) -> str:
    try:
        return normalize(value)
    except GandiInputError:
        # Whatever the stored text is, equal texts are the same credential.
        return str(value).strip()


def _group(hass: HomeAssistant, entry: ConfigEntry) -> list[ConfigEntry]:
    """The version 1 entries sharing ``entry``'s credential, in Home Assistant's order.

    Only entries enabled (or disabled) like ``entry``: merging a disabled entry into a running
    account would start syncing its records, and the other way round would stop them. An entry
    whose settings can't be read is left out, to fail its own migration alone.
    """
    key = credential_key(entry.data)
    enabled = entry.disabled_by is None
    return [
        other
        for other in hass.config_entries.async_entries(DOMAIN)
        if other.version == 1
        and other.source != SOURCE_IGNORE
        and (other.disabled_by is None) == enabled
        and credential_key(other.data) == key
        and _records(other) is not None
    ]


@callback
def _async_migrate_group(
    hass: HomeAssistant, leader: ConfigEntry, members: list[ConfigEntry]
) -> None:
    """Make ``leader`` the account of every record of the group; ``members`` only wait removal."""
    entities = er.async_get(hass)
    # The leader's 0.1.0 device, the account's service device from now on. (Not looked up with
    # async_get_device: Home Assistant 2026.x deprecates it.)
    service_device_id = next(
        (
            device.id
            for device in dr.async_entries_for_config_entry(dr.async_get(hass), leader.entry_id)
            if (DOMAIN, leader.entry_id) in device.identifiers
        ),
        None,
    )
    merged_from: dict[str, list[str]] = {}
    for entry in (leader, *members):
        subentry_ids, moves = _async_add_record_subentries(hass, leader, entry)
        if entry is not leader:
            merged_from[entry.entry_id] = subentry_ids
        if entry is not leader and subentry_ids:
            # The entry's "Sync now" becomes the one of its (first) record.
            first = subentry_ids[0]
            moves[SYNC_NOW] = (f"{first}_{SYNC_NOW}", first)
        prefix = f"{entry.entry_id}_"
        for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
            key = entity.unique_id.removeprefix(prefix)
            if key in moves:
                unique_id, subentry_id = moves[key]
                device_id = None  # the record's device is made at setup, which attaches it
            elif entry is not leader and key in ACCOUNT_KEYS:
                unique_id, subentry_id = f"{leader.entry_id}_{key}", None
                device_id = service_device_id
                if entities.async_get_entity_id(entity.domain, DOMAIN, unique_id):
                    # The account has this one already (same detection for every record).
                    entities.async_remove(entity.entity_id)
                    continue
            else:
                continue  # anything else of a member goes with it; the leader keeps its own
            entities.async_update_entity(
                entity.entity_id,
                config_entry_id=leader.entry_id,
                config_subentry_id=subentry_id,
                device_id=device_id,
                new_unique_id=unique_id,
            )

    domains = [str(entry.data[CONF_DOMAIN]) for entry in (leader, *members)]
    if members:
        differing = [e.title for e in members if dict(e.options) != dict(leader.options)]
        LOGGER.info(
            "%s merged into one account (one Gandi credential)%s",
            ", ".join(domains),
            f": kept the detection options of {leader.title}, not those of {', '.join(differing)}"
            if differing
            else "",
        )
    hass.config_entries.async_update_entry(
        leader,
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
        data={
            **dict(zip(CREDENTIAL_FIELDS, credential_key(leader.data), strict=True)),
            # 0.1.0 automations name a merged entry in esddns.sync: it syncs its records still.
            **({CONF_MERGED_FROM: merged_from} if merged_from else {}),
        },
        title=records.account_title(domains),
        unique_id=None,
    )
    for member in members:
        hass.config_entries.async_update_entry(
            member,
            version=ENTRY_VERSION,
            minor_version=ENTRY_MINOR_VERSION,
            data={CONF_MERGED_INTO: leader.entry_id},
            unique_id=None,
        )


@callback
def _async_relative_names(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """0.2.0's record names typed as full names (home.example.com in example.com) become the
    names they meant (home), said in the log."""
    kept: list[tuple[str, str, set[str]]] = []
    changes: list[tuple[ConfigSubentry, str]] = []
    subentries = [s for s in entry.subentries.values() if s.subentry_type == SUBENTRY_RECORD]
    for subentry in subentries:
        domain, name = str(subentry.data.get(CONF_DOMAIN)), str(subentry.data.get(CONF_NAME))
        types = {str(rtype) for rtype in subentry.data.get(CONF_RECORD_TYPES) or ()}
        kept.append((domain, name, types))
    for subentry, (domain, name, types) in zip(subentries, kept, strict=True):
        others = [other for other in kept if other != (domain, name, types)]
        fixed = _relative_name(domain, name, types, others, entry.title)
        if fixed != name:
            changes.append((subentry, fixed))
    for subentry, fixed in changes:
        domain = str(subentry.data[CONF_DOMAIN])
        hass.config_entries.async_update_subentry(
            entry,
            subentry,
            data={**subentry.data, CONF_NAME: fixed},
            title=records.label(domain, fixed),
        )
    hass.config_entries.async_update_entry(entry, minor_version=ENTRY_MINOR_VERSION)


def _relative_name(
    domain: str,
    name: str,
    types: set[str],
    others: list[tuple[str, str, set[str]]],
    account: str,
) -> str:
    """The name a record meant, when it was typed as a full name inside its domain.

    Earlier versions took ``home.example.com`` in ``example.com`` as typed, and wrote
    ``home.example.com.example.com``. Kept as it is when the name it means is already another
    record of the account (two records would write one rrset), or can't be read.
    """
    try:
        meant = normalize_name(name, normalize_domain(domain))
    except GandiInputError:
        return name  # the setup leaves it out, with a repair that says why
    try:
        typed = normalize_name(name)
    except GandiInputError:
        typed = None
    if meant == typed:
        return name
    written = records.label(domain, typed or name)
    if any((d, n) == (domain, meant) and types & t for d, n, t in others):
        LOGGER.warning(
            "The record %s of %s is kept as it is: %s is another record of the account. "
            "Delete it if it was meant to be that one",
            written,
            account,
            records.label(domain, meant),
        )
        return name
    LOGGER.warning(
        "The record name %r of %s is the full name of %s: ESDDNS now keeps %s (name %r). "
        "Earlier versions wrote %s instead; that record is left at Gandi as it is",
        name,
        account,
        records.label(domain, meant),
        records.label(domain, meant),
        meant,
        written,
    )
    return meant


def _records(entry: ConfigEntry) -> list[dict[str, Any]] | None:
    """The record subentries' data a 0.1.0 entry's settings describe; None if unreadable.

    Read in full before anything changes, so a migration never stops half-way.
    """
    data = entry.data
    try:
        # 0.1.0 read these two with its defaults: the apex, and A.
        domain = data[CONF_DOMAIN]
        names = data.get(CONF_RECORDS, [DEFAULT_NAME])
        types = data.get(CONF_RECORD_TYPES, list(DEFAULT_RECORD_TYPES))
        ttl = int(data.get(CONF_TTL, DEFAULT_TTL))
    except (KeyError, TypeError, ValueError):
        return None
    if not (
        isinstance(names, list)
        and isinstance(types, list)
        and all(isinstance(text, str) for text in (domain, *names, *types))
    ):
        return None
    return [
        {
            CONF_DOMAIN: domain,
            CONF_NAME: name,
            CONF_RECORD_TYPES: sorted(types),
            CONF_TTL: ttl,
            CONF_AUTO_SYNC: bool(data.get(CONF_AUTO_SYNC, DEFAULT_AUTO_SYNC)),
        }
        for name in names
    ]


@callback
def _async_add_record_subentries(
    hass: HomeAssistant, leader: ConfigEntry, entry: ConfigEntry
) -> tuple[list[str], Moves]:
    """Add one record subentry per name of ``entry`` to ``leader``: their ids, and where the
    entry's record entities go."""
    subentry_ids: list[str] = []
    moves: Moves = {}
    found = _records(entry) or []
    named = [(d[CONF_DOMAIN], d[CONF_NAME], set(d[CONF_RECORD_TYPES])) for d in found]
    for data, this in zip(found, named, strict=True):
        others = [other for other in named if other != this]
        name = _relative_name(*this, others, entry.title)
        subentry = ConfigSubentry(
            data=MappingProxyType({**data, CONF_NAME: name}),
            subentry_type=SUBENTRY_RECORD,
            title=records.label(data[CONF_DOMAIN], name),
            unique_id=None,
        )
        hass.config_entries.async_add_subentry(leader, subentry)
        subentry_ids.append(subentry.subentry_id)
        for rtype in data[CONF_RECORD_TYPES]:
            for kind in ("record", "drift"):
                moves[f"{kind}_{data[CONF_NAME]}_{rtype}"] = (
                    f"{subentry.subentry_id}_{kind}_{rtype}",
                    subentry.subentry_id,
                )
    return subentry_ids, moves
