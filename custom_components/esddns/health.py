"""The account's health: what keeps its records from being right, once it has lasted.

"DNS up to date" is the alarm users watch: a drift that the automatic sync is about to fix, a
write that fails once, a read or a detection that fails once are no problems until they have
lasted PROBLEM_GRACE (or one detection interval, when that is shorter). A drift on a record
without automatic sync is one at once: nothing else will fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from homeassistant.util import dt as dt_util

from .const import PROBLEM_GRACE
from .expiry import TokenExpiry
from .streaks import Lasting
from .syncer import AccountSyncer


class AccountHealth:
    """The problems of one account, in the words of its health sensor's attributes."""

    def __init__(self, syncer: AccountSyncer, expiry: TokenExpiry) -> None:
        """Judge what ``syncer`` knows of the records and the public address, and how soon
        the account's token expires."""
        self._syncer = syncer
        self._expiry = expiry
        self._lasting: Lasting[tuple[str, str]] = Lasting()

    @property
    def grace(self) -> timedelta:
        """How long something must last to be a problem."""
        interval = self._syncer.detection.update_interval or PROBLEM_GRACE
        return min(PROBLEM_GRACE, interval)

    def problems(self) -> dict[str, list[str]]:
        """What keeps the records from being up to date and has lasted (or counts at once)."""
        now = dt_util.utcnow()
        found = self._problems_now()
        self._lasting.update(now, ((kind, item) for kind, items in found.items() for item in items))
        return {
            kind: [
                item
                for item, at_once in items.items()
                if at_once or self._lasting.lasted(now, (kind, item), self.grace)
            ]
            for kind, items in found.items()
        }

    def seed(self, shown: Mapping[str, Any]) -> None:
        """What the sensor showed before a reload or restart has lasted already: if it still
        holds, it shows again at once instead of after a new grace (no off-then-on alarm)."""
        long_ago = dt_util.utcnow() - self.grace
        for kind, items in shown.items():
            if isinstance(items, list):
                self._lasting.seed(long_ago, ((kind, str(item)) for item in items))

    def next_check(self) -> datetime | None:
        """When a problem seen now will have lasted long enough to count."""
        return self._lasting.next_due(dt_util.utcnow(), self.grace)

    def _problems_now(self) -> dict[str, dict[str, bool]]:
        """Everything wrong right now, each with whether it counts at once."""
        syncer = self._syncer
        records = syncer.records
        public = syncer.addresses(fresh=True)
        readable = records.last_update_success and records.data is not None
        return {
            "drifted_records": {
                key.description: not records.record_of[key].auto_sync
                for key in records.keys
                if syncer.drift(key)
            },
            "failed_writes": {
                f"{key.description}: {reason}": False
                for key, reason in syncer.failed_writes.items()
            },
            "no_consensus": {
                family.label: False for family in sorted(records.families) if family not in public
            },
            "unreadable_records": {
                key.description: False
                for key in records.keys
                if not readable or (records.data is not None and key not in records.data)
            },
            # From TOKEN_EXPIRY_WARNING before the date the user gave: a new token is needed.
            "token_expires": (
                {self._expiry.expires.isoformat(): True}
                if self._expiry.due() and self._expiry.expires is not None
                else {}
            ),
        }
