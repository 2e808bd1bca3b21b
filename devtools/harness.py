"""Drive a real Home Assistant over its REST and WebSocket APIs: one implementation for the demo
(`scripts/develop --demo`) and the end-to-end tests.

It writes the config folder, completes onboarding, adds an ESDDNS account through the config flow
(credential, then the first record), points it at the loopback sources through the options flow
and adds more records with "+ Add record" (the record subentry flow), exactly as a person would in
the frontend. Command line (used by scripts/develop)::

    python -m devtools.harness config DIR --port 8123 [--develop]
    python -m devtools.harness demo --hass URL --gandi JSON --sources JSON --config DIR
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
import ipaddress
import json
import os
from pathlib import Path
import re
import sys
import time
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]

USERNAME = "demo"
PASSWORD = "demo-esddns"
TOKEN = "demo-token"  # the fake Gandi's personal access token
DOMAIN = "example.com"
OTHER_DOMAIN = "example.org"  # the token manages it too: "+ Add record" offers both
RECORD = "home"
PUBLIC = "81.2.69.142"  # what the loopback sources report at first
NEW_PUBLIC = "81.2.69.160"  # the address the demo suggests changing to
PUBLIC6 = "2a01:4f8:c17:1::1"  # what the IPv6 loopback sources report at first
NEW_PUBLIC6 = "2a01:4f8:c17:2::1"  # a new /64 prefix, as after a new delegation
OTHER_RECORD_VALUE = "192.0.2.10"  # what the demo suggests writing at Gandi behind ESDDNS's back
TTL = 300


def with_interface_id(public6: str, interface_id: str) -> str:
    """The address of ``interface_id`` in the /64 of ``public6``."""
    prefix = int(ipaddress.IPv6Address(public6)) >> 64 << 64
    return str(ipaddress.IPv6Address(prefix | int(ipaddress.IPv6Address(interface_id))))


def slug(text: str) -> str:
    """Home Assistant's entity id slug of a device name ("home.example.com" → home_example_com)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Record:
    """One managed name, as the "record" form asks for it."""

    domain: str
    name: str
    types: tuple[str, ...]
    interface_id: str | None = None

    @property
    def label(self) -> str:
        """The FQDN: the subentry's title and the record device's name."""
        return self.domain if self.name == "@" else f"{self.name}.{self.domain}"

    def form(self) -> dict[str, Any]:
        """The record form's answers."""
        answers: dict[str, Any] = {
            "domain": self.domain,
            "name": self.name,
            "record_types": list(self.types),
            "ttl": TTL,
            "auto_sync": True,
        }
        if self.interface_id is not None:
            answers["interface_id"] = self.interface_id
        return answers

    def record(self, rtype: str) -> str:
        """The "<type> record" sensor: what Gandi holds."""
        return f"sensor.{slug(self.label)}_{rtype.lower()}_record"

    def drift(self, rtype: str) -> str:
        """The "<type> drift" binary sensor."""
        return f"binary_sensor.{slug(self.label)}_{rtype.lower()}_drift"

    @property
    def sync_now(self) -> str:
        """The record's own "Sync now" button."""
        return f"button.{slug(self.label)}_sync_now"

    def entities(self) -> list[str]:
        """Every entity of the record's device."""
        return [
            *(e for t in self.types for e in (self.record(t), self.drift(t))),
            self.sync_now,
        ]

    def path(self, rtype: str) -> str:
        """The rrset's LiveDNS path."""
        return f"/v5/livedns/domains/{self.domain}/records/{self.name}/{rtype}"

    def values(self, rtype: str, public: str, public6: str) -> list[str]:
        """What the record's ``rtype`` rrset must hold for these public addresses."""
        if rtype == "A":
            return [public]
        if self.interface_id is not None:
            return [with_interface_id(public6, self.interface_id)]
        return [public6]


HOME = Record(DOMAIN, RECORD, ("A",))
# Another device of the home network (a NAS, its interface identifier ::10) inside the public
# IPv6 /64: what 0.2's interface identifiers are for.
DEMO_NAS = Record(DOMAIN, "nas", ("AAAA",), "::10")
# The demo: three records, so the account shows three record devices. DEMO_NAS comes before the
# record in OTHER_DOMAIN (see _ACCOUNT below).
DEMO_RECORDS = (HOME, DEMO_NAS, Record(OTHER_DOMAIN, "www", ("A",)))

# The account's entities follow from its device name when they are first made, "ESDDNS <first
# domain>", and stay when later records add domains to the title. add_esddns adds the records one
# at a time, each once the account has loaded again; so a record that brings a family (the public
# IPv6 address sensor) must come before any record in another domain.
_ACCOUNT = f"esddns_{slug(DOMAIN)}"
PUBLIC_IPV4 = f"sensor.{_ACCOUNT}_public_ipv4_address"
PUBLIC_IPV6 = f"sensor.{_ACCOUNT}_public_ipv6_address"
LAST_SYNC = f"sensor.{_ACCOUNT}_last_successful_sync"
DNS_UP_TO_DATE = f"binary_sensor.{_ACCOUNT}_dns_up_to_date"
SYNC_NOW = f"button.{_ACCOUNT}_sync_now"
RECORD_A = HOME.record("A")
DRIFT_A = HOME.drift("A")

_CONFIGURATION = """\
# Written by devtools/harness.py. No default_config: its bluetooth, cloud, zeroconf, ssdp,
# dhcp and usb pieces need hardware or the internet. Home Assistant always loads the frontend
# with what it depends on (http, api, auth, config, onboarding, websocket_api, person, ...).
# Country and language set, so no repair asks for them.
homeassistant:
  name: ESDDNS
  country: GB
  language: en
  time_zone: UTC
  unit_system: metric
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
  logs:
    custom_components.esddns: debug
"""
# For a person watching: the record's and the drift's history, and the logbook.
_DEVELOP_EXTRA = """\
history:
logbook:
"""


def write_config(config_dir: Path, port: int, *, develop: bool = False) -> None:
    """Write configuration.yaml and link this checkout's integration into the config folder."""
    config_dir.mkdir(parents=True, exist_ok=True)
    text = _CONFIGURATION.format(port=port) + (_DEVELOP_EXTRA if develop else "")
    (config_dir / "configuration.yaml").write_text(text)
    link = config_dir / "custom_components" / "esddns"
    link.parent.mkdir(exist_ok=True)
    target = os.path.relpath(REPO / "custom_components" / "esddns", link.parent)
    if link.is_symlink():
        if os.readlink(link) == target:
            return
        link.unlink()
    elif link.exists():
        raise FileExistsError(f"{link} is not a symlink; move it away first")
    link.symlink_to(target, target_is_directory=True)


def hass_command(config_dir: Path) -> list[str]:
    """Home Assistant on loopback only (see devtools/loopback.py), installing nothing."""
    return [
        sys.executable, "-m", "devtools.loopback", "-c", str(config_dir),
        "--skip-pip", "--log-no-color",
    ]  # fmt: skip


class HassError(RuntimeError):
    """Home Assistant answered something the harness did not expect."""


@dataclass
class Hass:
    """A client of one Home Assistant's REST and WebSocket APIs."""

    session: aiohttp.ClientSession
    url: str  # http://127.0.0.1:PORT
    token: str | None = None

    @property
    def client_id(self) -> str:
        """The frontend's client id (any URL of the instance is valid to indieauth)."""
        return self.url + "/"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(
        self, method: str, path: str, body: Any = None, *, expect: Sequence[int] = (200,)
    ) -> Any:
        """One REST call; the JSON answer, or HassError with the body when the status is off."""
        async with self.session.request(
            method, self.url + path, json=body, headers=self._headers()
        ) as response:
            text = await response.text()
            if response.status not in expect:
                raise HassError(f"{method} {path}: {response.status} {text[:500]}")
            return json.loads(text) if text else None

    async def wait_until_up(self, deadline: float) -> None:
        """Poll until the API answers (before onboarding, only onboarding's status does)."""
        while True:
            try:
                await self.request("GET", "/api/" if self.token else "/api/onboarding")
            except (aiohttp.ClientError, HassError, OSError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)
            else:
                return

    async def onboard(self, username: str = USERNAME, password: str = PASSWORD) -> None:
        """Every onboarding step, as the frontend does them; keeps the access token."""
        created = await self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": username.capitalize(),
                "username": username,
                "password": password,
                "language": "en",
            },
        )
        await self._token_from_code(created["auth_code"])
        await self.request("POST", "/api/onboarding/core_config")
        await self.request("POST", "/api/onboarding/analytics")
        await self.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": self.client_id + "?auth_callback=1"},
        )

    async def _token_from_code(self, code: str) -> None:
        data = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(self.url + "/auth/token", data=data) as response:
            if response.status != 200:
                raise HassError(f"/auth/token: {response.status} {await response.text()}")
            self.token = (await response.json())["access_token"]

    async def flow(self, base: str, handler: Any, steps: Sequence[Mapping[str, Any]]) -> Any:
        """Start a config, options or subentry flow and answer its forms in order; the final
        result. A subentry flow's handler is [entry_id, subentry_type]."""
        result = await self.request("POST", base, {"handler": handler})
        for step in steps:
            if result.get("type") != "form":
                raise HassError(f"flow ended early: {result}")
            result = await self.request("POST", f"{base}/{result['flow_id']}", dict(step))
            if result.get("errors"):
                raise HassError(f"flow step {result.get('step_id')}: {result['errors']}")
        if result.get("type") != "create_entry":
            raise HassError(f"flow did not finish: {result}")
        return result

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """An entity's state object, or None while it does not exist."""
        try:
            found: dict[str, Any] = await self.request("GET", f"/api/states/{entity_id}")
        except HassError as err:
            if ": 404 " in str(err):
                return None
            raise
        return found

    async def wait_for_state(
        self, entity_id: str, state: str | None = None, *, within: float = 20.0
    ) -> dict[str, Any]:
        """Poll an entity until it exists (and holds ``state``) for ``within`` s at most."""
        deadline = time.monotonic() + within
        while True:
            found = await self.state(entity_id)
            if found is not None and (state is None or found["state"] == state):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{entity_id}: wanted {state!r}, last seen {found}")
            await asyncio.sleep(0.2)

    async def wait_for_entry(
        self, entry_id: str, state: str = "loaded", *, within: float = 60.0
    ) -> None:
        """Poll a config entry until it is in ``state``, for ``within`` s at most."""
        deadline = time.monotonic() + within
        while True:
            entries = await self.request("GET", "/api/config/config_entries/entry")
            found = next((e["state"] for e in entries if e["entry_id"] == entry_id), None)
            if found == state:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"entry {entry_id}: wanted {state!r}, last seen {found!r}")
            await asyncio.sleep(0.2)

    async def call_service(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        return_response: bool = False,
    ) -> Any:
        """A REST service call; with ``return_response`` the service's response data."""
        query = "?return_response" if return_response else ""
        answer = await self.request("POST", f"/api/services/{domain}/{service}{query}", data or {})
        return answer["service_response"] if return_response else answer

    async def detect_now(self) -> None:
        """Run a detection round now, instead of waiting for the interval."""
        await self.call_service("homeassistant", "update_entity", {"entity_id": PUBLIC_IPV4})

    @contextlib.asynccontextmanager
    async def websocket(self) -> AsyncIterator[HassWebSocket]:
        """An authenticated WebSocket connection."""
        async with self.session.ws_connect(self.url + "/api/websocket") as ws:
            if (await ws.receive_json())["type"] != "auth_required":
                raise HassError("no auth_required")
            await ws.send_json({"type": "auth", "access_token": self.token})
            answer = await ws.receive_json()
            if answer["type"] != "auth_ok":
                raise HassError(f"websocket auth: {answer}")
            yield HassWebSocket(ws)


class HassWebSocket:
    """Commands over one WebSocket connection; subscription events are queued."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap an authenticated connection."""
        self.ws = ws
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._next_id = 0

    async def command(self, kind: str, **fields: Any) -> Any:
        """Send one command and return its result; events that arrive meanwhile are queued."""
        self._next_id += 1
        await self.ws.send_json({"id": self._next_id, "type": kind, **fields})
        while True:
            message = await self.ws.receive_json()
            if message["type"] == "event":
                await self.events.put(message["event"])
            elif message.get("id") == self._next_id:
                if not message.get("success"):
                    raise HassError(f"{kind}: {message.get('error')}")
                return message.get("result")

    async def next_event(self, within: float) -> dict[str, Any]:
        """The next queued or incoming subscription event, waiting ``within`` s at most."""
        if not self.events.empty():
            return self.events.get_nowait()
        async with asyncio.timeout(within):
            while True:
                message = await self.ws.receive_json()
                if message["type"] == "event":
                    event: dict[str, Any] = message["event"]
                    return event


def esddns_options(sources: Mapping[str, Any], extra_stun: Sequence[str] = ()) -> dict[str, Any]:
    """Options that make ESDDNS ask exactly the loopback sources (devtools.fakes.sources).

    Each endpoint is its own provider; with two STUN and two HTTP fakes per family, a quorum of
    3 needs both kinds. Detection runs every minute, the shortest interval, so a change shows
    soon.
    """
    return {
        "detection_mode": "stun_https",
        "stun_servers": [*sources["stun"], *sources.get("stun6", []), *extra_stun],
        "https_sources": [*sources["http"], *sources.get("http6", [])],
        "quorum": 3,
        "detection_interval": 1,
        "record_check_interval": 5,
    }


async def add_esddns(
    hass: Hass,
    gandi_url: str,
    options: Mapping[str, Any],
    records: Sequence[Record] = (HOME,),
) -> str:
    """The config flow against the fake Gandi (credential, then the first record), the options
    flow, then "+ Add record" for each further record; the entry id."""
    first, *more = records
    created = await hass.flow(
        "/api/config/config_entries/flow",
        "esddns",
        [
            {
                "credential_kind": "token",
                "secret": TOKEN,
                # As a token made for a year, some months ago: the sensor shows its date.
                "token_expires": (date.today() + timedelta(days=200)).isoformat(),
                "advanced": {"api_url": gandi_url},
            },
            first.form(),
        ],
    )
    entry_id: str = created["result"]["entry_id"]
    # Before the other records: their quorum is checked against these sources (IPv6 ones).
    # The form always sends its sections, "Address filters" included.
    form = {"address_filters": {}, **options}
    await hass.flow("/api/config/config_entries/options/flow", entry_id, [form])
    # The options reload the account, and each record is applied in place. Until the account's
    # entities of one record exist, a record in another domain would rename the account first,
    # and so their entity ids: each record waits for the one before it.
    await hass.wait_for_entry(entry_id, "loaded")
    for record in more:
        await add_record(hass, entry_id, record)
        for entity_id in record.entities():  # made once the account has applied the record
            await hass.wait_for_state(entity_id)
        await hass.wait_for_entry(entry_id, "loaded")
    return entry_id


async def add_record(hass: Hass, entry_id: str, record: Record) -> None:
    """ "+ Add record" on the account: the record subentry flow over REST."""
    await hass.flow(
        "/api/config/config_entries/subentries/flow", [entry_id, "record"], [record.form()]
    )


async def subentries(ws: HassWebSocket, entry_id: str) -> dict[str, str]:
    """The account's record subentries: title (FQDN) → subentry id."""
    found = await ws.command("config_entries/subentries/list", entry_id=entry_id)
    return {s["title"]: s["subentry_id"] for s in found if s["subentry_type"] == "record"}


async def remove_record(ws: HassWebSocket, entry_id: str, label: str) -> str:
    """Delete a record's subentry, as its menu's "Delete" does; its subentry id."""
    subentry_id = (await subentries(ws, entry_id))[label]
    await ws.command("config_entries/subentries/delete", entry_id=entry_id, subentry_id=subentry_id)
    return subentry_id


@dataclass
class Demo:
    """What `scripts/develop --demo` set up, for the text it prints."""

    hass: str  # Home Assistant's URL
    gandi: Mapping[str, Any]  # the JSON line of devtools.fakes.gandi
    sources: Mapping[str, Any]  # the JSON line of devtools.fakes.sources
    config: str  # the config folder
    token: str  # a long-lived access token of the demo user
    devices: Mapping[str, str]  # device name → device id: the account's, then each record's
    public: str  # the IPv4 address detected first
    public6: str  # the IPv6 address detected first


# What the demo suggests adding with "+ Add record": another device in the same IPv6 /64.
SUGGESTED_NAME = "proxy"
SUGGESTED_INTERFACE_ID = "::20"


def demo_text(demo: Demo) -> str:
    """The demo's instructions: where everything is, and what to try (scripts/develop)."""
    control = demo.gandi["control_url"]
    auth = "-H \"Authorization: Bearer $HA_TOKEN\" -H 'Content-Type: application/json'"
    drifted = {"domain": DOMAIN, "name": RECORD, "type": "A", "values": [OTHER_RECORD_VALUE]}

    def describe(record: Record) -> str:
        text = f"    {record.label} {'+'.join(record.types)}"
        if record.interface_id is not None:
            text += f", interface identifier {record.interface_id}: a device in the IPv6 /64"
        return text

    records = "\n".join(describe(record) for record in DEMO_RECORDS)
    pages = "\n".join(
        f"    {name}: {demo.hass}/config/devices/device/{device_id}"
        for name, device_id in demo.devices.items()
    )
    nas = DEMO_NAS
    nas_new = nas.values("AAAA", NEW_PUBLIC, NEW_PUBLIC6)[0]
    nas_rrset = f"{control}/rrset?domain={nas.domain}&name={nas.name}&type=AAAA"
    suggested = with_interface_id(demo.public6, SUGGESTED_INTERFACE_ID)
    return f"""
ESDDNS demo is ready: {demo.hass}  (login: {USERNAME} / {PASSWORD})
  ESDDNS account: token {TOKEN}, automatic sync on, records:
{records}
  public IPv4 address {demo.public}, public IPv6 address {demo.public6}
  device pages (the account, then one per record):
{pages}
  fake Gandi LiveDNS: {demo.gandi["url"]}  token: {TOKEN}
    control API (to change its records, and its request log): {control}
  loopback IPv4 sources: STUN {", ".join(demo.sources["stun"])}
                         HTTP {", ".join(demo.sources["http"])}
  loopback IPv6 sources: STUN {", ".join(demo.sources["stun6"])}
                         HTTP {", ".join(demo.sources["http6"])}
  config folder: {demo.config}  (log: {demo.config}/home-assistant.log)

The token manages {DOMAIN} and {OTHER_DOMAIN}: to try "+ Add record", open Settings > Devices &
services > ESDDNS; the account's "+ Add record" offers both domains, a name, A and/or AAAA, and
an IPv6 interface identifier. To publish another device of your network as {nas.label}
does, choose AAAA only and give the device's interface identifier, for example:
  name {SUGGESTED_NAME}, type AAAA, IPv6 interface identifier {SUGGESTED_INTERFACE_ID}
ESDDNS then writes {suggested} (the detected IPv6 /64 followed by {SUGGESTED_INTERFACE_ID}), and
follows the prefix when it changes (2. below).

For the REST calls below, the demo user's access token (valid 30 days):
  export HA_TOKEN={demo.token}

1. Change the public IPv4 address that every IPv4 loopback source reports:
  curl -X POST {demo.sources["control"]}/address -d {NEW_PUBLIC}
ESDDNS notices it at the next detection (every minute), or at once with:
  curl -X POST {auth} \\
    -d '{json.dumps({"entity_id": PUBLIC_IPV4})}' \\
    {demo.hass}/api/services/homeassistant/update_entity
Then the A drift sensors ({DRIFT_A}, ...) turn on
and ESDDNS rewrites every A record.

2. Change the IPv6 prefix that every IPv6 loopback source reports (a new /64, as when the
provider delegates another prefix):
  curl -X POST {demo.sources["control"]}/address -d {NEW_PUBLIC6}
ESDDNS notices it at the next detection (every minute), or at once with:
  curl -X POST {auth} \\
    -d '{json.dumps({"entity_id": PUBLIC_IPV6})}' \\
    {demo.hass}/api/services/homeassistant/update_entity
Then ESDDNS rewrites {nas.label} AAAA to {nas_new}, the new /64 followed by the
record's interface identifier {nas.interface_id} ({nas.record("AAAA")}). What the fake Gandi
holds for it:
  curl '{nas_rrset}'

3. Change the record at Gandi behind ESDDNS's back:
  curl -X POST -H 'Content-Type: application/json' \\
    -d '{json.dumps(drifted)}' \\
    {control}/rrset
ESDDNS sees it at its next read of the records (every 5 minutes) and rewrites it. "Sync now"
on the {HOME.label} device page reads and rewrites that record at once, as does:
  curl -X POST {auth} \\
    -d '{json.dumps({"entity_id": HOME.sync_now})}' \\
    {demo.hass}/api/services/button/press
({SYNC_NOW}, on the account's page, syncs every record.)

4. Every request ESDDNS sent to the fake Gandi (GET reads, PUT writes):
  curl {control}/requests

Ctrl-C stops Home Assistant and the fakes."""


async def demo(args: argparse.Namespace) -> None:
    """Onboard, add the account and its records, wait for the first detection and for every
    record to hold its address, print how to use the demo."""
    sources = json.loads(args.sources)
    gandi = json.loads(args.gandi)
    async with aiohttp.ClientSession() as session:
        hass = Hass(session, args.hass)
        await hass.wait_until_up(time.monotonic() + 120)
        await hass.onboard()
        entry_id = await add_esddns(hass, gandi["url"], esddns_options(sources), DEMO_RECORDS)
        public = (await hass.wait_for_state(PUBLIC_IPV4, PUBLIC, within=60))["state"]
        public6 = (await hass.wait_for_state(PUBLIC_IPV6, PUBLIC6, within=60))["state"]
        for record in DEMO_RECORDS:
            for rtype in record.types:
                value = record.values(rtype, public, public6)[0]
                await hass.wait_for_state(record.record(rtype), value, within=60)
        async with hass.websocket() as ws:
            token = await ws.command(
                "auth/long_lived_access_token", client_name="ESDDNS demo", lifespan=30
            )
            found = await ws.command("config/device_registry/list")
            ids = await subentries(ws, entry_id)
    by_identifier = {
        identifier[1]: device
        for device in found
        for identifier in device["identifiers"]
        if identifier[0] == "esddns"
    }
    account = by_identifier[entry_id]
    devices = {account["name_by_user"] or account["name"]: account["id"]}
    devices |= {r.label: by_identifier[ids[r.label]]["id"] for r in DEMO_RECORDS}
    found_demo = Demo(args.hass, gandi, sources, args.config, token, devices, public, public6)
    print(demo_text(found_demo), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`config` writes a config folder; `demo` sets up a running Home Assistant."""
    parser = argparse.ArgumentParser(prog="python -m devtools.harness")
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="write configuration.yaml and the symlink")
    config.add_argument("dir", type=Path)
    config.add_argument("--port", type=int, default=8123)
    config.add_argument("--develop", action="store_true", help="add history and logbook")
    run = commands.add_parser("demo", help="onboard and add the ESDDNS account and records")
    run.add_argument("--hass", required=True, help="http://127.0.0.1:PORT")
    run.add_argument("--gandi", required=True, help="the JSON line of devtools.fakes.gandi")
    run.add_argument("--sources", required=True, help="the JSON line of devtools.fakes.sources")
    run.add_argument("--config", required=True, help="the config folder, to print")
    args = parser.parse_args(argv)
    if args.command == "config":
        write_config(args.dir, args.port, develop=args.develop)
    else:
        asyncio.run(demo(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
