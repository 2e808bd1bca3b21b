"""When periodic work runs: each interval spread by a random ±JITTER, so that homes that started
together don't ask the same free services in lockstep."""

from __future__ import annotations

from datetime import timedelta
import random

from .const import JITTER

_RANDOM = random.Random()


def jittered(interval: timedelta) -> timedelta:
    """``interval`` spread by a random ±JITTER."""
    return interval * _RANDOM.uniform(1 - JITTER, 1 + JITTER)
