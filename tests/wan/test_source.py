"""Source definitions, defaults, modes and the parsers of custom sources."""

from __future__ import annotations

import pytest

from custom_components.esddns.wan import (
    DetectionMode,
    Family,
    InvalidSourceError,
    SourceKind,
    dns_source,
    doh_source,
    entity_source,
    interface_source,
    parse_https_source,
    parse_stun_server,
    sources_for,
    stun_source,
)


@pytest.mark.parametrize(
    ("text", "kinds", "host", "port", "name"),
    [
        ("stun.example.org", ["stun_udp"], "stun.example.org", 3478, "udp://stun.example.org:3478"),
        ("STUN.Example.ORG:19302", ["stun_udp"], "stun.example.org", 19302, None),
        ("udp://1.2.3.4:3479", ["stun_udp"], "1.2.3.4", 3479, "udp://1.2.3.4:3479"),
        ("tcp://stun.example.org", ["stun_tcp"], "stun.example.org", 3478, None),
        (" [2001:db8::1]:3478 ", ["stun_udp"], "2001:db8::1", 3478, "udp://[2001:db8::1]:3478"),
        ("[2001:db8::1]", ["stun_udp"], "2001:db8::1", 3478, None),
        ("udp+tcp://s.example:5000", ["stun_udp", "stun_tcp"], "s.example", 5000, None),
    ],
)
def test_parse_stun_server(
    text: str, kinds: list[str], host: str, port: int, name: str | None
) -> None:
    sources = parse_stun_server(text)
    assert [s.kind.value for s in sources] == kinds
    assert {(s.host, s.port) for s in sources} == {(host, port)}
    if name is not None:
        assert sources[0].name == name


@pytest.mark.parametrize(
    "text",
    [
        "",
        "http://stun.example.org",
        "stun.example.org:0",
        "stun.example.org:70000",
        "stun.example.org:abc",
        "2001:db8::1",  # v6 needs brackets
        "[2001:db8::1",
        "[1.2.3.4]:3478",
        "[2001:db8::1]x",
        "bad host:3478",
        "-bad.example",
        "a" * 64 + ".example",
    ],
)
def test_parse_stun_server_rejects(text: str) -> None:
    with pytest.raises(InvalidSourceError):
        parse_stun_server(text)


def test_custom_provider_rule() -> None:
    """Each custom endpoint is its own provider; UDP and TCP to one host:port share it."""
    udp, tcp = parse_stun_server("udp+tcp://Stun.Example.org:3478")
    other = parse_stun_server("stun.example.org:3479")[0]
    assert udp.provider == tcp.provider == "stun.example.org:3478"
    assert other.provider != udp.provider
    assert parse_https_source("https://IP.example.com/x").provider == "ip.example.com:443"
    assert parse_https_source("http://10.0.0.2:8080/").provider == "10.0.0.2:8080"


def test_families_follow_literals() -> None:
    assert parse_stun_server("1.2.3.4")[0].families == {Family.IPV4}
    assert parse_stun_server("[2001:db8::1]")[0].families == {Family.IPV6}
    assert parse_stun_server("stun.example.org")[0].families == set(Family)
    assert parse_https_source("https://[2001:db8::1]/").families == {Family.IPV6}


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://api.example.com", "https://api.example.com:443/"),
        ("HTTPS://API.example.com/ip?format=text", "https://api.example.com:443/ip?format=text"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
        ("https://1.1.1.1/cdn-cgi/trace", "https://1.1.1.1:443/cdn-cgi/trace"),
    ],
)
def test_parse_https_source(url: str, clean: str) -> None:
    source = parse_https_source(url)
    assert source.kind is SourceKind.HTTPS
    assert source.url == clean


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "example.com",
        "https://user:secret@example.com/",
        "https://user@example.com/",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "https:///path",
        "javascript:alert(1)",
    ],
)
def test_parse_https_source_rejects(url: str) -> None:
    with pytest.raises(InvalidSourceError):
        parse_https_source(url)


def test_constructors_reject_bad_input() -> None:
    with pytest.raises(InvalidSourceError):
        stun_source("127.0.0.1", 3478, kind=SourceKind.HTTPS)
    with pytest.raises(InvalidSourceError):
        dns_source("ns.example", query_name="x", query_type="TXT", provider="p")
    with pytest.raises(InvalidSourceError):
        dns_source("127.0.0.1", query_name="x", query_type="MX", provider="p")
    source = dns_source("::1", query_name="x", query_type="TXT", provider="p")
    assert source.name == "dns://[::1]/x?type=TXT"
    assert source.families == {Family.IPV6}


def test_sources_are_hashable_and_unique() -> None:
    every = sources_for(DetectionMode.ALL, Family.IPV4) + sources_for(
        DetectionMode.ALL, Family.IPV6
    )
    assert len({s.name for s in set(every)}) == len(set(every))


@pytest.mark.parametrize("family", list(Family))
def test_sources_for_modes(family: Family) -> None:
    def kinds(mode: DetectionMode) -> set[SourceKind]:
        return {s.kind for s in sources_for(mode, family)}

    stun = {SourceKind.STUN_UDP, SourceKind.STUN_TCP}
    tls = {SourceKind.HTTPS, SourceKind.DOH}
    assert kinds(DetectionMode.STUN) == stun
    assert kinds(DetectionMode.HTTPS) == tls
    assert kinds(DetectionMode.DNS) == {SourceKind.DNS}
    assert kinds(DetectionMode.STUN_HTTPS) == stun | tls
    assert kinds(DetectionMode.ALL) == stun | tls | {SourceKind.DNS}
    for mode in DetectionMode:
        sources = sources_for(mode, family)
        assert all(s.serves(family) for s in sources)
        # Every mode's defaults can reach the default quorum on their own.
        assert len({s.provider for s in sources}) >= 2
    # TLS only still has three independent providers per family: quorum 3 is reachable.
    assert len({s.provider for s in sources_for(DetectionMode.HTTPS, family)}) >= 3


def test_doh_defaults() -> None:
    v4 = {s.name: s for s in sources_for(DetectionMode.HTTPS, Family.IPV4) if s.kind == "doh"}
    v6 = {s.name: s for s in sources_for(DetectionMode.HTTPS, Family.IPV6) if s.kind == "doh"}
    cloudflare = v4["https://1.1.1.1:443/dns-query#whoami.cloudflare?type=TXT;class=CH"]
    assert (cloudflare.provider, cloudflare.query_class) == ("cloudflare", "CHAOS")
    assert v4["https://doh.opendns.com:443/dns-query#myip.opendns.com?type=A"].provider == (
        "opendns"
    )
    assert set(v6) == {
        "https://[2606:4700:4700::1111]:443/dns-query#whoami.cloudflare?type=TXT;class=CH",
        "https://doh.opendns.com:443/dns-query#myip.opendns.com?type=AAAA",
    }


def test_doh_source_rules() -> None:
    source = doh_source(
        "http://127.0.0.1:8053/dns-query", query_name="Who.Example", query_type="TXT"
    )
    assert source.kind is SourceKind.DOH
    assert source.provider == "127.0.0.1:8053"
    assert source.families == {Family.IPV4}  # TXT: the family of the literal connected to
    named = doh_source("https://dns.example/q", query_name="me.example", query_type="AAAA")
    assert named.families == {Family.IPV6}
    for bad in (
        {"query_name": "x", "query_type": "MX"},
        {"query_name": "bad name", "query_type": "A"},
        {"query_name": "x", "query_type": "A", "query_class": "HS"},
    ):
        with pytest.raises(InvalidSourceError):
            doh_source("https://dns.example/q", **bad)
    with pytest.raises(InvalidSourceError):
        doh_source("ftp://dns.example/q", query_name="x", query_type="A")


def test_local_sources() -> None:
    router = entity_source(" sensor.router_wan_ip ")
    assert (router.kind, router.provider, router.name) == (
        SourceKind.ENTITY,
        "sensor.router_wan_ip",
        "entity:sensor.router_wan_ip",
    )
    assert router.entity_id == "sensor.router_wan_ip"
    assert router.families == set(Family)
    host = interface_source()
    assert (host.kind, host.provider) == (SourceKind.INTERFACE, "interface")
    for bad in ("", "sensor", "Sensor.X", "sensor.x y", "sensor." + "x" * 300):
        with pytest.raises(InvalidSourceError):
            entity_source(bad)


def test_sources_for_defaults_have_known_providers() -> None:
    v4 = sources_for(DetectionMode.ALL, Family.IPV4)
    by_name = {s.name: s.provider for s in v4}
    assert by_name["udp://stun.l.google.com:19302"] == "google"
    assert by_name["udp://stun.cloudflare.com:3478"] == "cloudflare"
    assert by_name["udp://global.stun.twilio.com:3478"] == "twilio"
    assert by_name["https://checkip.amazonaws.com:443/"] == "amazon"
    assert by_name["https://1.1.1.1:443/cdn-cgi/trace"] == "cloudflare"
    assert by_name["dns://208.67.222.222/myip.opendns.com?type=A"] == "opendns"
    v6_names = {s.name for s in sources_for(DetectionMode.ALL, Family.IPV6)}
    assert "https://[2606:4700:4700::1111]:443/cdn-cgi/trace" in v6_names
    assert "https://checkip.amazonaws.com:443/" not in v6_names  # IPv4 only
    assert "dns://[2620:119:35::35]/myip.opendns.com?type=AAAA" in v6_names


def test_custom_https_urls_replace_the_doh_defaults_too() -> None:
    """Custom TLS sources mean the user's own, only: no default DoH resolver slips in."""
    sources = sources_for(DetectionMode.HTTPS, Family.IPV4, https_urls=["http://127.0.0.1:1/"])
    assert [s.name for s in sources] == ["http://127.0.0.1:1/"]


def test_sources_for_custom_lists_replace_defaults() -> None:
    sources = sources_for(
        DetectionMode.STUN_HTTPS,
        Family.IPV4,
        stun_servers=["127.0.0.1:3478", "tcp://127.0.0.1:3479", "[2001:db8::1]:3478"],
        https_urls=["http://127.0.0.1:8080/"],
    )
    assert [s.name for s in sources] == [
        "udp://127.0.0.1:3478",
        "tcp://127.0.0.1:3479",
        "http://127.0.0.1:8080/",
    ]  # the IPv6 literal cannot serve IPv4
    only_stun = sources_for(DetectionMode.STUN_HTTPS, Family.IPV4, stun_servers=["1.2.3.4"])
    assert any(s.kind is SourceKind.HTTPS and "amazonaws" in s.url for s in only_stun)
    with pytest.raises(InvalidSourceError):
        sources_for(DetectionMode.HTTPS, Family.IPV4, https_urls=["ftp://x.example/"])
