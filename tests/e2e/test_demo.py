"""`scripts/develop --demo` as a newcomer uses it: the commands it prints, pasted into a shell,
do what it says, and its Home Assistant log holds no error that is not ESDDNS's own."""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import re
import select
import signal
import subprocess
import time
from typing import Any
import urllib.request

import aiohttp
import pytest
import pytest_socket  # type: ignore[import-untyped]

from devtools import harness
from tests.fixtures_wan import free_port

from .test_e2e import FIRST_ROUND, log_records

# scripts/develop runs the Home Assistant of .venv (scripts/setup): the demo is what a developer
# gets on the floor leg. scripts/test --latest deselects it by this marker, in plain sight.
pytestmark = [pytest.mark.e2e, pytest.mark.floor_only]

READY_TIMEOUT = 180.0  # hass, the fakes and the harness on 2 busy cores
WAIT = 60.0  # for a write the demo announces (detections run every minute)


class Demo:
    """A running `scripts/develop --demo` and what it printed."""

    def __init__(self, process: subprocess.Popen[str], text: str, config: Path) -> None:
        """Keep the process, its output up to "ready", and its config folder."""
        self.process = process
        self.text = text
        self.config = config
        token = re.search(r"^  export HA_TOKEN=(\S+)$", text, re.MULTILINE)
        assert token, text
        self.token = token[1]
        url = re.search(r"^ESDDNS demo is ready: (\S+)", text, re.MULTILINE)
        assert url, text
        self.url = url[1]

    def command(self, needle: str) -> str:
        """The printed shell command (with its continuation lines) that contains ``needle``."""
        commands = re.findall(r"^  (curl (?:.*\\\n)*.*)$", self.text, re.MULTILINE)
        found = [c for c in commands if needle in c]
        assert len(found) == 1, f"{needle!r} in {commands}"
        return str(found[0])

    def run(self, needle: str) -> str:
        """Paste a printed command into bash, as the user would; its output."""
        done = subprocess.run(  # noqa: S603 - bash with the demo's own command
            ["/bin/bash", "-c", "set -e; " + self.command(needle)],
            env={**os.environ, "HA_TOKEN": self.token},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    def gandi_requests(self) -> list[dict[str, Any]]:
        """The fake Gandi's request log, through the printed command."""
        found: list[dict[str, Any]] = json.loads(self.run("/_fake/requests"))
        return found

    def gandi_nas(self) -> list[str]:
        """What the fake Gandi holds for the interface-id record, through the printed command."""
        found: list[str] = json.loads(self.run("/_fake/rrset?"))["values"]
        return found

    def state(self, entity_id: str) -> str:
        """An entity's state over REST with the printed token."""
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            f"{self.url}/api/states/{entity_id}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return str(json.load(response)["state"])


def _read_until_ready(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    text = ""
    deadline = time.monotonic() + READY_TIMEOUT
    while "develop: ready" not in text:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        line = process.stdout.readline() if ready else ""
        if ready and not line:
            raise AssertionError(f"scripts/develop --demo ended ({process.wait()}):\n{text}")
        text += line
        if time.monotonic() > deadline:
            raise AssertionError(f"scripts/develop --demo not ready in {READY_TIMEOUT} s:\n{text}")
    return text


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`scripts/develop --demo` on a free port and a temporary config folder."""
    pytest_socket.enable_socket()  # module-scoped setup runs before socket_enabled
    config = tmp_path_factory.mktemp("demo") / "config"
    env = {
        **os.environ,
        "ESDDNS_HASS_PORT": str(free_port()),
        "ESDDNS_DEMO_CONFIG": str(config),
    }
    process = subprocess.Popen(  # noqa: S603 - our own script
        [str(harness.REPO / "scripts" / "develop"), "--demo"],
        cwd=harness.REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, stopped as one below
    )
    try:
        yield Demo(process, _read_until_ready(process), config)
    finally:
        # scripts/develop stops what it started on SIGTERM; the group catches stragglers.
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_prints_the_login_the_fake_gandi_and_its_other_domain(
    demo: Demo, socket_enabled: None
) -> None:
    """Everything a newcomer needs to log in and to try "+ Add record" is on the screen."""
    assert f"(login: {harness.USERNAME} / {harness.PASSWORD})" in demo.text
    assert re.search(r"fake Gandi LiveDNS: http://127\.0\.0\.1:\d+/v5/livedns  token: demo-token",
                     demo.text)  # fmt: skip
    assert f"The token manages {harness.DOMAIN} and {harness.OTHER_DOMAIN}" in demo.text
    assert '"+ Add record"' in demo.text


def test_prints_the_ipv6_sources_and_the_interface_id_record(
    demo: Demo, socket_enabled: None
) -> None:
    """The IPv6 sources on ::1, the record with an interface identifier, and the address a
    record added with "+ Add record" and an identifier gets, as the user would read them."""
    assert re.search(r"^  loopback IPv6 sources: STUN \[::1\]:\d+, \[::1\]:\d+$", demo.text, re.M)
    assert re.search(r"^ +HTTP http://\[::1\]:\d+/, http://\[::1\]:\d+/$", demo.text, re.M)
    assert f"public IPv6 address {harness.PUBLIC6}" in demo.text
    nas = harness.DEMO_NAS
    assert f"\n    {nas.label} AAAA, interface identifier {nas.interface_id}: " in demo.text
    suggested = harness.with_interface_id(harness.PUBLIC6, harness.SUGGESTED_INTERFACE_ID)
    assert f"ESDDNS then writes {suggested} (the detected IPv6 /64" in demo.text
    new = nas.values("AAAA", harness.NEW_PUBLIC, harness.NEW_PUBLIC6)[0]
    assert f"rewrites {nas.label} AAAA to {new}, the new /64" in " ".join(demo.text.split())
    assert demo.gandi_nas() == nas.values("AAAA", harness.PUBLIC, harness.PUBLIC6)


async def test_account_and_record_devices_are_printed_and_real(
    demo: Demo, socket_enabled: None
) -> None:
    """The printed device pages are the account's and each record's; each record device has
    its "<type> record", "<type> drift" and "Sync now" entities, under the printed entity ids."""
    pages = dict(re.findall(r"^    (.+): http\S+/config/devices/device/(\w+)$", demo.text, re.M))
    account, *labels = pages
    assert labels == [record.label for record in harness.DEMO_RECORDS]
    assert account == f"ESDDNS {harness.DOMAIN}, {harness.OTHER_DOMAIN}"
    async with aiohttp.ClientSession() as session:
        hass = harness.Hass(session, demo.url, demo.token)
        async with hass.websocket() as ws:
            devices = {d["id"]: d for d in await ws.command("config/device_registry/list")}
            entities = await ws.command("config/entity_registry/list")
        for record in harness.DEMO_RECORDS:
            device = devices[pages[record.label]]
            assert device["via_device_id"] == pages[account]
            on_device = {e["entity_id"] for e in entities if e["device_id"] == device["id"]}
            assert on_device == set(record.entities())
            for rtype in record.types:
                assert await hass.state(record.record(rtype)) is not None
    assert harness.DRIFT_A in demo.text
    assert harness.HOME.sync_now in demo.command("button/press")


def test_record_changed_behind_its_back_is_read_and_rewritten_by_sync_now(
    demo: Demo, socket_enabled: None
) -> None:
    """The printed rrset command drifts the record; the printed press of that record's "Sync
    now" reads Gandi, writes that record once, and its drift sensor is off again."""
    before = len(demo.gandi_requests())
    demo.run(harness.OTHER_RECORD_VALUE)  # the POST to /_fake/rrset
    demo.run("button/press")
    new = [(r["method"], r["path"], r["body"]) for r in demo.gandi_requests()[before:]]
    path = harness.HOME.path("A")
    written = {"rrset_values": [harness.PUBLIC], "rrset_ttl": 300}
    # The button reads the account's records again (every rrset, once), writes the drifted one
    # and reads the account back (verification).
    every_rrset = sorted(("GET", r.path(t), None) for r in harness.DEMO_RECORDS for t in r.types)
    put = new.index(("PUT", path, written))
    assert sorted(new[:put]) == every_rrset
    assert sorted(new[put + 1 :]) == every_rrset
    assert demo.state(harness.RECORD_A) == harness.PUBLIC
    assert demo.state(harness.DRIFT_A) == "off"


def test_new_public_address_is_detected_and_written(demo: Demo, socket_enabled: None) -> None:
    """The printed IPv4 address change and detection lead to one write of the new address to
    each A record; the AAAA record is left alone."""
    with_a = [record for record in harness.DEMO_RECORDS if "A" in record.types]
    before = len(demo.gandi_requests())
    demo.run(f"/address -d {harness.NEW_PUBLIC}")
    demo.run(harness.PUBLIC_IPV4)  # update_entity
    deadline = time.monotonic() + WAIT
    for record in with_a:
        while demo.state(record.record("A")) != harness.NEW_PUBLIC:
            assert time.monotonic() < deadline, f"{record.label}: the new address was not written"
            time.sleep(0.5)
    puts = [(r["path"], r["body"]) for r in demo.gandi_requests()[before:] if r["method"] == "PUT"]
    written = {"rrset_values": [harness.NEW_PUBLIC], "rrset_ttl": 300}
    assert sorted(puts) == sorted((r.path("A"), written) for r in with_a)
    for record in with_a:
        assert demo.state(record.drift("A")) == "off"


def test_new_ipv6_prefix_is_written_with_the_interface_id(demo: Demo, socket_enabled: None) -> None:
    """The printed IPv6 prefix change and detection lead to one write to the interface-id
    record: the new /64 followed by ::10, which the printed command then finds at Gandi."""
    nas = harness.DEMO_NAS
    new = nas.values("AAAA", harness.NEW_PUBLIC, harness.NEW_PUBLIC6)
    assert new == ["2a01:4f8:c17:2::10"]
    before = len(demo.gandi_requests())
    demo.run(f"/address -d {harness.NEW_PUBLIC6}")
    demo.run(harness.PUBLIC_IPV6)  # update_entity
    deadline = time.monotonic() + WAIT
    while demo.gandi_nas() != new:
        assert time.monotonic() < deadline, f"{nas.label}: the new prefix was not written"
        time.sleep(0.5)
    puts = [(r["path"], r["body"]) for r in demo.gandi_requests()[before:] if r["method"] == "PUT"]
    assert puts == [(nas.path("AAAA"), {"rrset_values": new, "rrset_ttl": 300})]
    while demo.state(nas.record("AAAA")) != new[0]:
        assert time.monotonic() < deadline, f"{nas.label}: its sensor did not follow"
        time.sleep(0.5)
    assert demo.state(nas.drift("AAAA")) == "off"
    assert demo.state(harness.PUBLIC_IPV6) == harness.NEW_PUBLIC6


async def test_no_repair_and_every_entry_loaded(demo: Demo, socket_enabled: None) -> None:
    """No "country not configured" repair, no "Failed to set up" card from onboarding."""
    async with aiohttp.ClientSession() as session:
        hass = harness.Hass(session, demo.url, demo.token)
        entries = await hass.request("GET", "/api/config/config_entries/entry")
        async with hass.websocket() as ws:
            issues = await ws.command("repairs/list_issues")
    assert [e["title"] for e in entries if e["state"] != "loaded"] == []
    assert issues["issues"] == []


def test_log_has_no_error_but_the_first_round(demo: Demo, socket_enabled: None) -> None:
    """No traceback from onboarding's internet integrations, the camera's libturbojpeg or
    anything else. The entry's first detection, with the built-in internet sources before the
    options point it at the loopback ones, is the only error (and ESDDNS's own)."""
    log = (demo.config / "home-assistant.log").read_text()
    errors = [
        record
        for level, record in log_records(log)
        if (level in ("ERROR", "CRITICAL") or "Traceback" in record)
        and not re.search(FIRST_ROUND, record)
    ]
    assert errors == []
