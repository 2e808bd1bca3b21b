"""Rounds in a row that showed a problem: when to tell the user (once), and when it is over."""

from __future__ import annotations

from collections.abc import Hashable, Iterator


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
