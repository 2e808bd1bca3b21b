"""Helpers shared by the wan tests."""

from __future__ import annotations

from collections.abc import Iterable
import os
from pathlib import Path


def _socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def sockets_connected_to(ports: Iterable[int]) -> int:
    """How many sockets this process holds whose remote end is 127.0.0.1 on one of `ports`."""
    wanted = {f"0100007F:{port:04X}" for port in ports}
    mine = _socket_inodes()
    count = 0
    for table in ("tcp", "udp"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2] in wanted and fields[9] in mine:
                count += 1
    return count
