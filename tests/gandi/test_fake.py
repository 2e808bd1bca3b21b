"""The fake LiveDNS itself: Gandi's answer shapes, its control API, and running as a process."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import signal
import sys
from typing import Any
import zlib

import aiohttp
import pytest

from custom_components.esddns.gandi import (
    Credential,
    CredentialKind,
    GandiClient,
    GandiDomainNotFoundError,
    Rrset,
)
from devtools.fakes.gandi import FakeGandi, main
from tests.fixtures_gandi import EXAMPLE_TOKEN, NO_RIGHTS_TOKEN

BEARER = {"Authorization": f"Bearer {EXAMPLE_TOKEN}"}
GANDI_ERROR_KEYS = {"cause", "code", "message", "object"}
ROOT = Path(__file__).resolve().parents[2]


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    json_body: Any = None,
) -> tuple[int, Any]:
    async with session.request(method, url, headers=headers, data=data, json=json_body) as resp:
        text = await resp.text()
        return resp.status, json.loads(
            text
        ) if text and resp.content_type == "application/json" else text


async def test_error_bodies_have_gandis_shape(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    records = fake_gandi.url + "/domains/example.com/records/home/A"
    cases = [
        ({}, fake_gandi.url + "/domains", 401),
        ({"Authorization": "Bearer nope"}, fake_gandi.url + "/domains", 401),
        ({"Authorization": f"Bearer {NO_RIGHTS_TOKEN}"}, records, 403),
        (BEARER, fake_gandi.url + "/domains/unknown.example/records/home/A", 404),
        (BEARER, records, 404),
        (BEARER, fake_gandi.url + "/nothing/here", 404),
    ]
    for headers, url, status in cases:
        got, body = await call(session, "GET", url, headers=headers)
        assert got == status
        assert set(body) == GANDI_ERROR_KEYS
        assert body["code"] == status
    _, unknown = await call(session, "GET", cases[3][1], headers=BEARER)
    _, absent = await call(session, "GET", records, headers=BEARER)
    assert (unknown["message"], absent["message"]) == (
        "Unknown domain",
        "The resource could not be found.",
    )


async def test_domain_list_objects_look_like_gandis(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    status, body = await call(session, "GET", fake_gandi.url + "/domains", headers=BEARER)
    assert status == 200
    assert [item["fqdn"] for item in body] == ["example.com", "example.org"]
    assert body[0] == {
        "fqdn": "example.com",
        "domain_href": f"{fake_gandi.url}/domains/example.com",
        "domain_keys_href": f"{fake_gandi.url}/domains/example.com/keys",
        "domain_records_href": f"{fake_gandi.url}/domains/example.com/records",
        "automatic_snapshots": True,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rrset_values": ["81.2.69.142"], "rrset_ttl": 299}, "rrset_ttl"),
        ({"rrset_values": ["81.2.69.142"], "rrset_ttl": 2_592_001}, "rrset_ttl"),
        ({"rrset_values": ["81.2.69.142"], "rrset_ttl": "300"}, "rrset_ttl"),
        ({"rrset_values": [], "rrset_ttl": 300}, "rrset_values"),
        ({"rrset_values": ["2001:db8::1"], "rrset_ttl": 300}, "rrset_values"),
        ({"rrset_values": ["081.2.69.142"]}, "rrset_values"),
        ({"rrset_values": [7]}, "rrset_values"),
        ({"rrset_ttl": 300}, "rrset_values"),
        ({"rrset_values": ["81.2.69.142"], "rrset_name": "home"}, "rrset_name"),
        (["81.2.69.142"], "body"),
        (b"not json", "body"),
    ],
)
async def test_a_bad_write_gets_400_naming_the_field(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, body: Any, field: str
) -> None:
    url = fake_gandi.url + "/domains/example.com/records/home/A"
    headers = {**BEARER, "Content-Type": "application/json"}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, answer = await call(session, "PUT", url, headers=headers, data=data)
    assert status == 400
    assert answer["status"] == "error"
    assert field in [error["name"] for error in answer["errors"]]
    assert fake_gandi.get_rrset("example.com", "home", "A") is None


async def test_a_write_needs_json_and_a_valid_path(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    base = fake_gandi.url + "/domains/example.com/records"
    body = b'{"rrset_values": ["81.2.69.142"]}'
    status, answer = await call(
        session,
        "PUT",
        base + "/home/A",
        headers={**BEARER, "Content-Type": "text/plain"},
        data=body,
    )
    assert (status, answer["errors"][0]["name"]) == (400, "Content-Type")
    for path, field in (("/ho%20me/A", "rrset_name"), ("/home/BOGUS", "rrset_type")):
        status, answer = await call(session, "PUT", base + path, headers=BEARER, json_body={})
        assert (status, answer["errors"][0]["name"]) == (400, field)
    status, answer = await call(session, "PUT", base + "/home/A", headers=BEARER, json_body={
        "rrset_values": ["81.2.69.142"]})  # fmt: skip
    assert (status, answer) == (201, {"message": "DNS Record Created"})
    stored = fake_gandi.get_rrset("example.com", "home", "A")
    assert stored is not None
    assert stored.ttl == 10800  # LiveDNS's default TTL


async def test_other_record_routes_and_methods(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    fake_gandi.set_rrset("example.com", "@", "A", ["81.2.69.142"], 300)
    fake_gandi.set_rrset("example.com", "www", "CNAME", ["example.com."], 300)
    base = fake_gandi.url + "/domains/example.com"
    status, listed = await call(session, "GET", base + "/records", headers=BEARER)
    assert (status, [r["rrset_name"] for r in listed]) == (200, ["@", "www"])
    assert listed[0]["rrset_href"] == f"{base}/records/%40/A"
    status, named = await call(session, "GET", base + "/records/WWW", headers=BEARER)
    assert (status, [r["rrset_type"] for r in named]) == (200, ["CNAME"])
    status, domain = await call(session, "GET", base, headers=BEARER)
    assert (status, domain["fqdn"]) == (200, "example.com")
    assert (await call(session, "DELETE", base + "/records/www/CNAME", headers=BEARER))[0] == 204
    assert (await call(session, "DELETE", base + "/records/www/CNAME", headers=BEARER))[0] == 404
    for method, url in (
        ("POST", fake_gandi.url + "/domains"),
        ("PATCH", base + "/records/%40/A"),
        ("POST", base),
        ("POST", base + "/records"),
        ("GET", base + "/records/a/b/c"),
    ):
        status, _ = await call(session, method, url, headers=BEARER, json_body={})
        assert status in (404, 405)
    assert fake_gandi.get_rrset("example.com", "@", "A") is not None


async def test_the_control_api(session: aiohttp.ClientSession, fake_gandi: FakeGandi) -> None:
    control = fake_gandi.root_url + "/_fake"
    rrset = {"domain": "example.com", "name": "home", "type": "A", "values": ["81.2.69.142"]}
    assert (await call(session, "POST", control + "/rrset", json_body={**rrset, "ttl": 600}))[
        0
    ] == 204
    query = "?domain=example.com&name=home&type=A"
    status, read = await call(session, "GET", control + "/rrset" + query)
    assert (status, read) == (
        200,
        {"name": "home", "type": "A", "ttl": 600, "values": ["81.2.69.142"]},
    )

    await call(
        session, "GET", fake_gandi.url + "/domains/example.com/records/home/A", headers=BEARER
    )
    status, log = await call(session, "GET", control + "/requests")
    assert status == 200
    assert [
        (r["method"], r["path"], r["auth_scheme"], r["principal"], r["status"]) for r in log
    ] == [("GET", "/v5/livedns/domains/example.com/records/home/A", "Bearer", "example-token", 200)]
    assert EXAMPLE_TOKEN not in json.dumps(log)
    assert (await call(session, "DELETE", control + "/requests"))[0] == 204
    assert fake_gandi.requests == []

    assert (await call(session, "DELETE", control + "/rrset" + query))[0] == 204
    assert (await call(session, "GET", control + "/rrset" + query))[0] == 404

    payload = {"kind": "429", "count": 1, "retry_after": "9"}
    assert (await call(session, "POST", control + "/fail", json_body=payload))[0] == 204
    status, _ = await call(session, "GET", fake_gandi.url + "/domains", headers=BEARER)
    assert status == 429
    assert (await call(session, "POST", control + "/rate_limit", json_body={"max_requests": 0}))[
        0
    ] == 204
    assert (await call(session, "GET", fake_gandi.url + "/domains", headers=BEARER))[0] == 429
    assert (await call(session, "DELETE", control + "/rate_limit"))[0] == 204
    # Queued faults can be dropped (a demo user who queued too many).
    payload = {"kind": "503", "count": 40}
    assert (await call(session, "POST", control + "/fail", json_body=payload))[0] == 204
    assert (await call(session, "DELETE", control + "/fail"))[0] == 204
    assert (await call(session, "GET", fake_gandi.url + "/domains", headers=BEARER))[0] == 200
    token = {"secret": "key-2", "domains": ["example.net"], "kind": "api_key", "name": "k2"}
    assert (await call(session, "POST", control + "/token", json_body=token))[0] == 204
    status, body = await call(
        session, "GET", fake_gandi.url + "/domains", headers={"Authorization": "Apikey key-2"}
    )
    assert (status, [d["fqdn"] for d in body]) == (200, ["example.net"])

    assert (await call(session, "POST", control + "/fail", json_body={"kind": "nope"}))[0] == 400
    assert (await call(session, "POST", control + "/rrset", json_body={"domain": "x"}))[0] == 400
    assert (await call(session, "GET", control + "/unknown"))[0] == 404


def test_fail_next_refuses_an_unknown_fault() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FakeGandi().fail_next("teapot")
    with pytest.raises(RuntimeError):
        _ = FakeGandi().url


def test_the_command_line_refuses_malformed_arguments() -> None:
    for argv in (["--token", "no-equals"], ["--record", "example.com/home=1.2.3.4"]):
        with pytest.raises(SystemExit):
            main(argv)


async def test_the_fake_runs_as_a_process(socket_enabled: None) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devtools.fakes.gandi", "--port", "0",
        "--token", "token-proc=example.com,example.org", "--api-key", "key-proc=example.com",
        "--record", "example.com/home/A=81.2.69.142,81.2.69.143", "--ttl", "600",
        "--generic-unknown-domain", "--max-page-size", "1",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
        assert ready["url"].endswith("/v5/livedns")
        assert ready["pid"] == process.pid
        async with aiohttp.ClientSession() as session:
            client = GandiClient(
                session, Credential(CredentialKind.TOKEN, "token-proc"), ready["url"]
            )
            assert await client.list_domains() == ["example.com", "example.org"]
            assert await client.get_rrset("example.com", "home", "A") == Rrset(
                "home",
                "A",
                600,
                ("81.2.69.142", "81.2.69.143"),  # type: ignore[arg-type]
            )
            await client.put_rrset("example.com", "home", "A", ["81.2.69.144"], 300)
            async with session.get(ready["control_url"] + "/requests") as resp:
                log = await resp.json()
            assert [(r["method"], r["status"]) for r in log] == [
                ("GET", 200),
                ("GET", 200),
                ("GET", 200),
                ("PUT", 201),
            ]  # fmt: skip  (two pages of one domain, the record, the write)
            assert [r["query"].get("page") for r in log[:2]] == ["1", "2"]
            assert log[-1]["body"] == {"rrset_values": ["81.2.69.144"], "rrset_ttl": 300}
            with pytest.raises(GandiDomainNotFoundError):  # from the generic 404 too
                await client.get_rrset("unknown.example", "home", "A")
            key = GandiClient(session, Credential(CredentialKind.API_KEY, "key-proc"), ready["url"])
            assert await key.list_domains() == ["example.com"]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_domain_list_pages(session: aiohttp.ClientSession, fake_gandi: FakeGandi) -> None:
    fake_gandi.add_token("token-many", [f"d{index}.example" for index in range(5)])
    headers = {"Authorization": "Bearer token-many"}
    url = fake_gandi.url + "/domains"
    async with session.get(url + "?page=2&per_page=2", headers=headers) as response:
        assert response.headers["Total-Count"] == "5"
        assert [item["fqdn"] for item in await response.json()] == ["d2.example", "d3.example"]
    async with session.get(url + "?page=9", headers=headers) as response:
        assert (response.status, await response.json()) == (200, [])
    fake_gandi.max_page_size = 1
    fake_gandi.send_total_count = False
    async with session.get(url + "?per_page=50", headers=headers) as response:
        assert "Total-Count" not in response.headers
        assert [item["fqdn"] for item in await response.json()] == ["d0.example"]
    for query in ("?page=0", "?per_page=x", "?page=-1"):
        async with session.get(url + query, headers=headers) as response:
            assert response.status == 400


async def test_options_through_the_control_api(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    control = fake_gandi.root_url + "/_fake/options"
    options = {"generic_unknown_domain": True, "max_page_size": 3, "send_total_count": False}
    assert (await call(session, "POST", control, json_body=options))[0] == 204
    assert fake_gandi.generic_unknown_domain is True
    assert (fake_gandi.max_page_size, fake_gandi.send_total_count) == (3, False)
    status, body = await call(
        session, "GET", fake_gandi.url + "/domains/unknown.example/records/x/A", headers=BEARER
    )
    assert (status, body["message"]) == (404, "The resource could not be found.")
    assert (await call(session, "POST", control, json_body={"max_page_size": None}))[0] == 204
    assert fake_gandi.max_page_size is None
    assert (await call(session, "POST", control, json_body={"page": 1}))[0] == 400


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500])
async def test_echo_faults_echo_the_authorization_header(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, status: int
) -> None:
    url = fake_gandi.url + "/domains"
    for kind in ("echo-message", "echo-errors", "echo-text"):
        fake_gandi.fail_next(kind, status=status, retry_after="5")
        async with session.get(url, headers=BEARER) as response:
            assert response.status == status
            assert EXAMPLE_TOKEN in await response.text()
            assert (response.headers.get("Retry-After") == "5") == (status == 429)
    with pytest.raises(ValueError, match="echo"):
        fake_gandi.fail_next("echo-text", status=418)


@pytest.mark.parametrize("kind", ["bomb-gzip", "bomb-deflate-chunked"])
async def test_bomb_faults_send_compressed_zeros(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, kind: str
) -> None:
    fake_gandi.fail_next(kind)
    url = fake_gandi.url + "/domains"
    async with session.get(url, headers=BEARER, auto_decompress=False) as response:
        encoding = response.headers["Content-Encoding"]
        assert encoding == ("gzip" if "gzip" in kind else "deflate")
        assert ("Content-Length" in response.headers) == ("chunked" not in kind)
        body = await response.read()
    assert zlib.decompressobj(wbits=47).decompress(body, 4096) == bytes(4096)
