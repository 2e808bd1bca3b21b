"""How long a problem has lasted: rounds in a row (when to log or raise a repair, once, and when
it is over), or time (when the health sensor calls it a problem)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from datetime import datetime, timedelta


class Streaks[K: Hashable]:
    """One counter per problem (a family, a record, a router entity...).

    Logs are written on the first round of a streak and repairs raised after a few, so that
    one odd round doesn't alarm anyone; ``over`` says whether there was something to end.
    """

    def __init__(self) -> None:
        """No problem seen yet."""
        self._rounds: dict[K, int] = {}

    def seen(self, key: K) -> int:
        """One more round with the problem; how many in a row now."""
        self._rounds[key] = self._rounds.get(key, 0) + 1
        return self._rounds[key]

    def over(self, key: K) -> bool:
        """The problem is gone; True when it had been seen (so the end is worth telling)."""
        return self._rounds.pop(key, 0) > 0

    def __contains__(self, key: object) -> bool:
        return key in self._rounds

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._rounds))


class Lasting[K: Hashable]:
    """Problems that count only once they have lasted ``grace``: one that a sync under way
    fixes within seconds is not worth an alarm."""

    def __init__(self) -> None:
        """No problem seen yet."""
        self._since: dict[K, datetime] = {}

    def update(self, now: datetime, current: Iterable[K]) -> None:
        """The problems there are ``now``: new ones start their wait, gone ones are forgotten."""
        present = set(current)
        self._since = {key: self._since.get(key, now) for key in present}

    def seed(self, since: datetime, keys: Iterable[K]) -> None:
        """Problems known to have lasted since ``since`` (from before a restart)."""
        for key in keys:
            self._since.setdefault(key, since)

    def lasted(self, now: datetime, key: K, grace: timedelta) -> bool:
        """Whether ``key`` has been a problem for at least ``grace``."""
        since = self._since.get(key)
        return since is not None and now - since >= grace

    def next_due(self, now: datetime, grace: timedelta) -> datetime | None:
        """When the next problem that has not lasted yet will have: the time to look again."""
        due = [since + grace for since in self._since.values() if now - since < grace]
        return min(due, default=None)
