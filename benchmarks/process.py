"""What the benchmarks share: their own process's figures, and the loopback fakes they start."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import json
import os
import subprocess
import sys
from typing import Any


def open_fds() -> int:
    """File descriptors this process holds: a leak shows as a difference."""
    return len(os.listdir("/proc/self/fd"))


def status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def serving(module: str, *args: str) -> Iterator[dict[str, Any]]:
    """Run ``python -m module args`` (a fake that prints one JSON line once it listens): that
    line, until the block ends and the process is stopped."""
    process = subprocess.Popen(  # noqa: S603 - our own modules, fixed arguments
        [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
