"""When periodic work runs: each interval spread by a random ±JITTER, so that homes that started
together don't ask the same free services in lockstep."""

from __future__ import annotations

from datetime import timedelta
import random

from .const import JITTER

_RANDOM = random.Random()


def jittered(interval: timedelta, *, at_most: bool = False) -> timedelta:
    """``interval`` spread by a random ±JITTER; with ``at_most``, never longer than it (the
    change canary: a change must be seen within one interval)."""
    return interval * _RANDOM.uniform(1 - JITTER, 1 if at_most else 1 + JITTER)
