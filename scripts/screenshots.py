"""Take the README's screenshots of the real Home Assistant UI into docs/images/.

Runs `scripts/develop --demo` in the background and waits for its "ready" line, logs in through
Home Assistant's auth API (devtools/harness.py), then drives headless Chromium over the DevTools
protocol: the tokens go into the frontend's localStorage before each page loads, and every wait
polls the DOM (through shadow roots) with a deadline. Everything started here is stopped at the
end by pid, also on failure. Not part of CI; retake after any UI change.

    scripts/screenshots        (.venv/bin/python scripts/screenshots.py, from the repository)
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
import contextlib
import io
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
from PIL import Image

from devtools.harness import (
    DEMO_RECORDS,
    DOMAIN,
    HOME,
    LAST_SYNC,
    NEW_PUBLIC,
    OTHER_DOMAIN,
    OTHER_RECORD_VALUE,
    PASSWORD,
    PUBLIC,
    RECORD,
    SUGGESTED_INTERFACE_ID,
    SUGGESTED_NAME,
    USERNAME,
    Hass,
    HassError,
    subentries,
)

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--lang=en-US", "--hide-scrollbars", "--remote-debugging-port=0",
]  # fmt: skip
WIDTH, HEIGHT = 1280, 900
MARGIN = 16  # around a dialog, in pixels
# In the demo's config folder (scripts/develop's, ESDDNS_DEMO_CONFIG too), ignored by git.
FAILED = REPO / os.environ.get("ESDDNS_DEMO_CONFIG", ".ha-config/demo") / "screenshots-failed.png"
# The demo's token already has its account; the config flow refuses it again, so the pictures
# of a new account's flow use a second token of the fake Gandi for the same two domains.
SECOND_TOKEN = "demo-token-2"  # noqa: S105 - the fake's, on loopback
ACCOUNT = f"{DOMAIN}, {OTHER_DOMAIN}"

# Finds elements and text through every open shadow root; prefixed to each evaluated expression.
_DEEP_JS = """
const deepAll = (selector, root = document) => {
  const found = [];
  const walk = (node) => {
    for (const el of node.querySelectorAll("*")) {
      if (el.matches(selector)) found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(root.shadowRoot ?? root);
  return found;
};
const deep = (selector, root) => deepAll(selector, root)[0] ?? null;
const deepText = (node) => {
  if (!node) return "";
  if (node.nodeType === Node.TEXT_NODE) return node.data;
  if (["STYLE", "SCRIPT"].includes(node.nodeName)) return "";
  let text = node.shadowRoot ? deepText(node.shadowRoot) : "";
  for (const child of node.childNodes) text += " " + deepText(child);
  return text.replace(/\\s+/g, " ");
};
const busy = (root) =>
  deepAll("ha-spinner, ha-circular-progress, ha-skeleton", root).some((el) => el.offsetParent);
"""


# ----------------------------------------------------------------------------- the demo


@contextlib.contextmanager
def demo(log: Path, within: float = 240.0) -> Iterator[dict[str, str]]:
    """`scripts/develop --demo` in its own process group; its URLs once it is ready."""
    process = spawn([str(REPO / "scripts" / "develop"), "--demo"], log)
    try:
        deadline = time.monotonic() + within
        while "develop: ready" not in (text := log.read_text(errors="replace")):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("scripts/develop --demo did not get ready")
            time.sleep(0.5)
        hass = re.search(r"ESDDNS demo is ready: (\S+)", text)
        gandi = re.search(r"fake Gandi LiveDNS: (\S+)", text)
        control = re.search(r"control API .*: (\S+)", text)
        sources = re.search(r"curl -X POST (\S+)/address", text)
        if not hass or not gandi or not control or not sources:
            raise RuntimeError("unexpected output of scripts/develop --demo")
        yield {
            "hass": hass[1],
            "gandi": gandi[1],
            "gandi_control": control[1],
            "sources": sources[1],
        }
    finally:
        stop(process, "scripts/develop")


def spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start a command of ours in its own process group, its output into ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 (fixed commands)
            argv,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM the process (scripts/develop then stops its own children), then its group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            print(f"screenshots: {name} ignored SIGTERM; killing it", file=sys.stderr)
            process.kill()
            process.wait()
    # Its process group (its pid, from start_new_session) may hold stragglers.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        time.sleep(1)


async def login(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """The frontend's stored tokens for the demo user, from the login flow (as the UI does)."""
    hass = Hass(session, url)
    flow = await hass.request(
        "POST",
        "/auth/login_flow",
        {"client_id": hass.client_id, "handler": ["homeassistant", None], "redirect_uri": url},
    )
    done = await hass.request(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": hass.client_id, "username": USERNAME, "password": PASSWORD},
    )
    if done.get("type") != "create_entry":
        raise HassError(f"login failed: {done}")
    data = {"grant_type": "authorization_code", "code": done["result"], "client_id": hass.client_id}
    async with session.post(url + "/auth/token", data=data) as response:
        response.raise_for_status()
        tokens: dict[str, Any] = await response.json()
    expires = int(time.time() * 1000) + tokens["expires_in"] * 1000
    return {**tokens, "hassUrl": url, "clientId": hass.client_id, "expires": expires}


# ----------------------------------------------------------------------------- the browser


class Page:
    """One Chromium tab over the DevTools protocol (events are ignored)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap the tab's DevTools WebSocket."""
        self.ws = ws
        self._next_id = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result."""
        self._next_id += 1
        await self.ws.send_json({"id": self._next_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=60)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    async def js(self, expression: str) -> Any:
        """Evaluate an expression (with the deep* helpers in scope); its JSON value."""
        answer = await self.send(
            "Runtime.evaluate",
            expression=f"(() => {{ {_DEEP_JS}; return ({expression}); }})()",
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def wait(self, expression: str, what: str, within: float = 30.0) -> None:
        """Poll until the expression is truthy."""
        deadline = time.monotonic() + within
        while not await self.js(f"!!({expression})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {within:.0f} s for {what}")
            await asyncio.sleep(0.25)

    async def goto(self, url: str, height: int = HEIGHT) -> None:
        """Load a page in a WIDTH x ``height`` window; the caller waits for what it needs."""
        await self.resize(height)
        await self.send("Page.navigate", url=url)

    async def resize(self, height: int) -> None:
        """Make the window WIDTH x ``height``, keeping the page."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    async def shoot(self, name: str, settle: str, clip: str | None = None) -> None:
        """Wait until the expression ``settle`` holds twice in a row, then save docs/images/NAME:
        the window, or the element ``clip`` (an expression) with a margin and nothing behind."""
        for _ in range(2):  # twice, a beat apart: dialog animations and late renders are over
            await self.wait(
                f"({settle}) && !busy(document) && document.fonts.status == 'loaded'", name
            )
            await asyncio.sleep(0.4)
        params: dict[str, Any] = {"format": "png"}
        if clip:  # just the dialog, on its scrim: the page behind it is hidden
            await self.js("deep('home-assistant-main').style.opacity = '0'")
            box = await self.js(
                f"(r => ({{x: r.x - {MARGIN}, y: r.y - {MARGIN}, width: r.width + {2 * MARGIN},"
                f" height: r.height + {2 * MARGIN}, scale: 1}}))"
                f"(({clip}).getBoundingClientRect())"
            )
            params["clip"] = {k: max(0, v) if k in "xy" else v for k, v in box.items()}
        shot = await self.send("Page.captureScreenshot", **params)
        image = Image.open(io.BytesIO(base64.b64decode(shot["data"])))
        path = IMAGES / name
        image.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
        print(f"screenshots: {path.relative_to(REPO)} ({path.stat().st_size // 1024} KiB)")


@contextlib.asynccontextmanager
async def chromium(session: aiohttp.ClientSession, storage: dict[str, str]) -> AsyncIterator[Page]:
    """Headless Chromium with a fresh profile; its first tab, which gets ``storage`` as
    localStorage before any page script runs."""
    with tempfile.TemporaryDirectory(prefix="esddns-chromium-") as profile:
        log = Path(profile) / "chromium.log"
        process = spawn([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"], log)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.is_file() or not port_file.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chromium did not start: {log.read_text()[-2000:]}")
                await asyncio.sleep(0.1)
            port = port_file.read_text().split()[0]
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            tab = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with session.ws_connect(tab, max_msg_size=0) as ws:
                page = Page(ws)
                await page.send("Page.enable")
                await page.send(
                    "Emulation.setEmulatedMedia",
                    features=[{"name": "prefers-color-scheme", "value": "light"}],
                )
                await page.send("Emulation.setTimezoneOverride", timezoneId="UTC")
                sets = "".join(
                    f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});"
                    for k, v in storage.items()
                )
                await page.send("Page.addScriptToEvaluateOnNewDocument", source=sets)
                yield page
        finally:
            stop(process, "chromium")


# ----------------------------------------------------------------------------- the pictures

_DIALOG = "deep('dialog-data-entry-flow')"
_SURFACE = f"deep('.mdc-dialog__surface', deep('ha-dialog', {_DIALOG}))"


async def click(page: Page, root: str, label: str) -> None:
    """Wait for a button or menu item labelled ``label`` inside ``root`` (a JS expression), and
    click it."""
    find = (
        f"({root}) && deepAll('ha-button, mwc-button, ha-icon-button, ha-list-item,"
        f" ha-md-menu-item', {root})"
        f".find((b) => (deepText(b) + ' ' + (b.label ?? '')).trim().toLowerCase()"
        f" === {json.dumps(label.lower())})"
    )
    await page.wait(find, f"the {label} button")
    await page.js(f"{find}.click() || true")


async def fill(page: Page, form: str, values: dict[str, Any]) -> None:
    """Set a form's fields as typing would (ha-form's value-changed event)."""
    await page.js(
        f"(f => f.dispatchEvent(new CustomEvent('value-changed', {{detail: {{value:"
        f" {{...f.data, ...{json.dumps(values)}}}}}, bubbles: true, composed: true}}))"
        f")(deep('ha-form', {form})) || true"
    )


async def config_flow(page: Page, url: str, gandi: str) -> None:
    """The config flow's credential step as it opens, then its first record's step."""
    await page.goto(f"{url}/config/integrations/dashboard/add?domain=esddns")
    # The dashboard asks "Do you want to set up ESDDNS?" first.
    await click(page, "deep('dialog-box')", "OK")
    form = f"deep('step-flow-form', {_DIALOG})"
    await page.shoot(
        "config-flow.png",
        f"{_DIALOG} && {form} && deepText({_DIALOG}).includes('Connect a Gandi account')"
        f" && deepText({_DIALOG}).includes('Advanced') && deep('ha-form', {form})",
        _SURFACE,
    )
    step = {"credential_kind": "token", "secret": SECOND_TOKEN, "advanced": {"api_url": gandi}}
    await fill(page, form, step)
    await click(page, form, "Submit")
    await page.wait(f"deepText({_DIALOG}).includes('Choose the first record')", "the record step")
    await fill(page, form, {"domain": OTHER_DOMAIN})
    await page.shoot(
        "config-flow-records.png",
        f"deepText({_DIALOG}).includes('Sync automatically')"
        f" && deepText({_DIALOG}).includes('IPv6 interface identifier')"
        f" && deepText({_DIALOG}).includes({json.dumps(OTHER_DOMAIN)})",
        _SURFACE,
    )


_INTEGRATION = "deep('ha-config-integration-page')"


async def integration_page(page: Page, url: str) -> None:
    """The integration's page: the account, its records (subentries) and "Add record"."""
    await page.goto(f"{url}/config/integrations/integration/esddns", height=1000)
    labels = [ACCOUNT, *(record.label for record in DEMO_RECORDS)]
    await page.shoot(
        "integration-page.png",
        f"{_INTEGRATION}"
        f" && {json.dumps(labels)}.every((s) => deepText({_INTEGRATION}).includes(s))",
    )


async def add_record(page: Page, url: str) -> None:
    """The account's "+ Add record" form (the record subentry flow), filled with the record the
    demo suggests (proxy AAAA ::20): the demo already has nas AAAA ::10, which it would refuse."""
    await page.goto(f"{url}/config/integrations/integration/esddns", height=1000)
    await click(page, _INTEGRATION, "Add record")
    form = f"deep('step-flow-form', {_DIALOG})"
    await page.wait(f"deepText({_DIALOG}).includes('Add a record to')", "the Add record form")
    suggested = {"record_types": ["AAAA"], "interface_id": SUGGESTED_INTERFACE_ID}
    await fill(page, form, {"name": SUGGESTED_NAME, **suggested})
    await page.shoot(
        "add-record.png",
        f"deepText({_DIALOG}).includes('Add a record to {ACCOUNT}')"
        f" && deepText({_DIALOG}).includes('IPv6 interface identifier')"
        f" && deep('ha-form', {form}).data.name == {json.dumps(SUGGESTED_NAME)}",
        _SURFACE,
    )


async def device_page(page: Page, url: str, device_id: str) -> None:
    """The account's device page: the detection and the whole account's sync."""
    # Tall enough for both public address sensors and every record device under them.
    await page.goto(f"{url}/config/devices/device/{device_id}", height=1100)
    main = "deep('ha-config-device-page')"
    shown = ["Sync now", "Public IPv4", "Public IPv6", "DNS up to date", "Last successful sync"]
    shown += [NEW_PUBLIC, *(record.label for record in DEMO_RECORDS)]
    await page.shoot(
        "device-page.png",
        f"{main} && {json.dumps(shown)}"
        f".every((s) => deepText({main}).includes(s)) && !deepText({main}).includes('Unknown')",
    )


async def record_device_page(page: Page, url: str, device_id: str) -> None:
    """A record's device page: what Gandi holds, its drift, its own Sync now."""
    await page.goto(f"{url}/config/devices/device/{device_id}")
    main = "deep('ha-config-device-page')"
    await page.shoot(
        "record-device.png",
        f"{main} && ['Sync now', 'A record', 'A drift', {NEW_PUBLIC!r}, {HOME.label!r}]"
        f".every((s) => deepText({main}).includes(s))",
    )


async def logbook(page: Page, url: str) -> None:
    """The logbook panel: ESDDNS's own lines (the rewrites) among the entities' changes."""
    await page.goto(f"{url}/logbook", height=1400)  # the whole story, both rewrites
    main = "deep('ha-panel-logbook')"
    await page.shoot(
        "logbook.png",
        f"{main} && deepText({main}).includes('rewritten: {OTHER_RECORD_VALUE}')"
        f" && deepText({main}).includes('rewritten: {PUBLIC}')",
    )


async def options_flow(page: Page, url: str) -> None:
    """The options flow (detection), opened from the integration's page."""
    # Tall enough for the whole dialog with the demo's eight sources, down to its Submit.
    await page.goto(f"{url}/config/integrations/integration/esddns", height=1850)
    await click(page, _INTEGRATION, "Configure")
    await page.shoot(
        "options.png",
        f"{_DIALOG} && deepText({_DIALOG}).includes('Sources to ask')"
        f" && deepText({_DIALOG}).includes('Record check interval')"
        f" && deepText({_DIALOG}).includes('Address filters')",
        _SURFACE,
    )
    # The address filters, opened, with a VPN's prefix and a mistyped one: the form names it.
    form = f"deep('step-flow-form', {_DIALOG})"
    await page.js(f"deep('ha-expansion-panel', {form}).expanded = true")
    filters = {"ipv4_never": ["10.8.0.0/33"], "ipv6_never": ["2001:db8:9::/48"]}
    await fill(page, form, {"address_filters": filters})
    await click(page, form, "Submit")
    await page.resize(2500)  # down to the opened section's last field and the Submit
    await page.shoot(
        "options-filters.png",
        f"deepText({_DIALOG}).includes('is not an IPv4 prefix')"
        f" && deepText({_DIALOG}).includes('IPv6 prefixes never to publish')",
        _SURFACE,
    )


async def take(urls: dict[str, str]) -> None:
    """Log in, find the devices, and take every picture."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    url = urls["hass"]
    async with aiohttp.ClientSession() as session:
        tokens = await login(session, url)
        hass = Hass(session, url, tokens["access_token"])
        async with hass.websocket() as ws:
            devices = await ws.command("config/device_registry/list")
            entries = await hass.request("GET", "/api/config/config_entries/entry?domain=esddns")
            ids = await subentries(ws, entries[0]["entry_id"])
        by_identifier = {
            identifier[1]: device["id"]
            for device in devices
            for identifier in device["identifiers"]
            if identifier[0] == "esddns"
        }
        account_device = by_identifier[entries[0]["entry_id"]]
        home_device = by_identifier[ids[HOME.label]]
        new_token = {"secret": SECOND_TOKEN, "domains": [DOMAIN, OTHER_DOMAIN]}
        async with session.post(urls["gandi_control"] + "/token", json=new_token) as response:
            response.raise_for_status()
        # The demo's story, so the device pages have a sync time and the logbook has entries:
        # the public address changes, the records drift and ESDDNS rewrites them.
        async with session.post(urls["sources"] + "/address", data=NEW_PUBLIC) as response:
            response.raise_for_status()
        await hass.detect_now()
        for record in DEMO_RECORDS:
            if "A" in record.types:  # the IPv6 address stays: the AAAA record is not rewritten
                await hass.wait_for_state(record.record("A"), NEW_PUBLIC, within=60)
        # Then someone changes a record at Gandi, and its "Sync now" puts it right.
        drifted = {"domain": DOMAIN, "name": RECORD, "type": "A", "values": [OTHER_RECORD_VALUE]}
        async with session.post(urls["gandi_control"] + "/rrset", json=drifted) as response:
            response.raise_for_status()
        await hass.call_service("button", "press", {"entity_id": HOME.sync_now})
        await hass.wait_for_state(HOME.record("A"), NEW_PUBLIC, within=30)
        deadline = time.monotonic() + 30
        while (await hass.wait_for_state(LAST_SYNC))["state"] in ("unknown", "unavailable"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{LAST_SYNC} stayed unknown")
            await asyncio.sleep(0.2)
        storage = {
            "hassTokens": json.dumps(tokens),
            "selectedTheme": json.dumps({"theme": "default", "dark": False}),
            "selectedLanguage": json.dumps("en"),
        }
        async with chromium(session, storage) as page:
            try:
                await config_flow(page, url, urls["gandi"])
                await integration_page(page, url)
                await add_record(page, url)
                await device_page(page, url, account_device)
                await record_device_page(page, url, home_device)
                await logbook(page, url)
                await options_flow(page, url)
            except Exception:
                shot = await page.send("Page.captureScreenshot", format="png")
                FAILED.write_bytes(base64.b64decode(shot["data"]))
                print(f"screenshots: the window when it failed: {FAILED.relative_to(REPO)}")
                raise


def main() -> int:
    """Run the demo, take the pictures, stop everything."""
    if not os.access(CHROMIUM, os.X_OK):  # before the demo's minute of starting up
        print(
            f"screenshots: no Chromium at {CHROMIUM}; scripts/screenshots installs Debian's"
            " (apt-get install --no-install-recommends chromium), or set CHROMIUM",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the cleanup runs
    with tempfile.TemporaryDirectory(prefix="esddns-screenshots-") as work:
        log = Path(work) / "develop.log"
        try:
            with demo(log) as urls:
                asyncio.run(take(urls))
        except BaseException:
            print(f"screenshots: failed; scripts/develop --demo said:\n{log.read_text()[-3000:]}")
            raise
    print(f"screenshots: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
