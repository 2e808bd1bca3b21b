"""Constants of the ESDDNS integration: domain, option keys and defaults."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "esddns"
LOGGER: Final = logging.getLogger(__package__)
PLATFORMS: Final = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]

# Config entry version 2: one entry per Gandi credential, one subentry per managed record.
# Minor version 2: record names are relative to their domain (see migration.py).
ENTRY_VERSION: Final = 2
ENTRY_MINOR_VERSION: Final = 2

# Account entry data (set by the config flow): the credential and its endpoint.
CONF_CREDENTIAL_KIND: Final = "credential_kind"
CONF_SECRET: Final = "secret"  # noqa: S105 - the option key, not a secret
CONF_ADVANCED: Final = "advanced"
CONF_API_URL: Final = "api_url"
# The expiry date the user gave a personal access token (ISO date; optional, tokens only).
CONF_TOKEN_EXPIRES: Final = "token_expires"  # noqa: S105 - the option key, not a secret
# A 0.1.0 entry merged into another account by the migration: it only waits to be removed.
CONF_MERGED_INTO: Final = "merged_into"
# On the account: the ids of the 0.1.0 entries merged into it, with the record subentries each
# brought, so that esddns.sync calls naming such an id keep syncing those records.
CONF_MERGED_FROM: Final = "merged_from"

# Record subentry data (set by the record subentry flow).
SUBENTRY_RECORD: Final = "record"
CONF_DOMAIN: Final = "domain"
CONF_NAME: Final = "name"
CONF_RECORD_TYPES: Final = "record_types"
CONF_TTL: Final = "ttl"
CONF_AUTO_SYNC: Final = "auto_sync"
CONF_INTERFACE_ID: Final = "interface_id"
CONF_PREFIX_BITS: Final = "ipv6_prefix_length"

# 0.1.0 entry data (version 1), read only by the migration.
CONF_RECORDS: Final = "records"

# Entry options (set by the options flow).
CONF_DETECTION_MODE: Final = "detection_mode"
CONF_STUN_SERVERS: Final = "stun_servers"
CONF_HTTPS_SOURCES: Final = "https_sources"
CONF_ENTITY_SOURCES: Final = "entity_sources"
CONF_INTERFACE_SOURCE: Final = "interface_source"
CONF_QUORUM: Final = "quorum"
CONF_DETECTION_INTERVAL: Final = "detection_interval"
CONF_RECORD_CHECK_INTERVAL: Final = "record_check_interval"
CONF_CHANGE_CHECK_INTERVAL: Final = "change_check_interval"
# Address filters, per family (lists of prefixes, in the form's "Address filters" section):
# addresses never to publish, and prefixes an address must fall in (empty: anywhere).
CONF_ADDRESS_FILTERS: Final = "address_filters"
CONF_IPV4_NEVER: Final = "ipv4_never"
CONF_IPV4_ONLY: Final = "ipv4_only"
CONF_IPV6_NEVER: Final = "ipv6_never"
CONF_IPV6_ONLY: Final = "ipv6_only"

DEFAULT_NAME: Final = "@"
DEFAULT_RECORD_TYPES: Final = ("A",)
DEFAULT_TTL: Final = 300
DEFAULT_AUTO_SYNC: Final = True
DEFAULT_DETECTION_MODE: Final = "all"
DEFAULT_QUORUM: Final = 2
MIN_QUORUM: Final = 2
MAX_QUORUM: Final = 5
# Full rounds are the change canary's backstop: 20 minutes keeps a round's ~3 requests and the
# canary's one a minute within 1.2 third-party requests a minute per family (README).
DEFAULT_DETECTION_INTERVAL: Final = 20  # minutes
MIN_DETECTION_INTERVAL: Final = 1
MAX_DETECTION_INTERVAL: Final = 60
# The change canary: one cheap source asked between full rounds (0 turns it off).
DEFAULT_CHANGE_CHECK_INTERVAL: Final = 1  # minutes
MIN_CHANGE_CHECK_INTERVAL: Final = 0
MAX_CHANGE_CHECK_INTERVAL: Final = 60
# A canary whose differing answers full rounds refute this many times in a row loses its place.
CANARY_STRIKES: Final = 3
# How often the host's IPv6 addresses are looked at (a local file: no network traffic).
INTERFACE_CHECK_INTERVAL: Final = timedelta(seconds=5)
# Every periodic detection, record check and canary is spread by a random share of its interval
# (ddclient #888): thousands of homes must not ask the same services in lockstep.
JITTER: Final = 0.1
DEFAULT_RECORD_CHECK_INTERVAL: Final = 60  # minutes
MIN_RECORD_CHECK_INTERVAL: Final = 5
MAX_RECORD_CHECK_INTERVAL: Final = 1440

# Each source gets this long to answer; consensus usually comes far sooner.
DETECTION_TIMEOUT: Final = 5.0
# A detection older than this is too stale to write from.
MAX_DETECTION_AGE: Final = timedelta(minutes=2 * MAX_DETECTION_INTERVAL)
# Wait when Gandi answers 429 without saying how long.
DEFAULT_RATE_LIMIT_WAIT: Final = 60.0
# How long a failed write, unreadable records, a lost consensus, or a drift the automatic sync
# has not fixed, must last before "DNS up to date" calls it a problem (at most one detection
# interval): a sync under way fixes an address change within seconds.
PROBLEM_GRACE: Final = timedelta(minutes=2)
# How long before a token's expiry date the repair (and the health sensor) say so.
TOKEN_EXPIRY_WARNING: Final = timedelta(days=14)
# Cycles in a row before a repair issue is raised.
REPAIR_THRESHOLD: Final = 3
# The per-source scoreboard is saved at most this often (seconds); Home Assistant also saves
# it when it stops.
SCOREBOARD_SAVE_DELAY: Final = 300
SCOREBOARD_STORAGE_VERSION: Final = 1
SCOREBOARDS_KEPT: Final = 4  # sets of detection settings
# Sync history entries kept across restarts.
HISTORY_LENGTH: Final = 20

EVENT_PUBLIC_IP_CHANGED: Final = "esddns_public_ip_changed"
EVENT_RECORD_SYNCED: Final = "esddns_record_synced"

SERVICE_SYNC: Final = "sync"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_FORCE: Final = "force"
ATTR_DRY_RUN: Final = "dry_run"
ATTR_DETECT: Final = "detect"
