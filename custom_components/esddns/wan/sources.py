"""Source definitions: constructors, parsing of custom sources, the defaults and the modes.

Provider rule: consensus counts *providers*, not sources, so one operator cannot outvote the rest.
The built-in sources name their operator (Google, Cloudflare, ...). Each distinct custom endpoint
is its own provider: the host lower-cased plus ":port" (for URLs, the netloc without credentials);
UDP and TCP to the same host:port share one provider. ESDDNS cannot know who runs a custom server,
so users must pick servers run by independent operators, or the quorum means nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address
import re
from urllib.parse import urlsplit

from .address import IPAddress
from .errors import InvalidSourceError, MalformedAnswer
from .models import BOTH_FAMILIES, DetectionMode, Family, Source, SourceKind

_V4 = frozenset({Family.IPV4})
_V6 = frozenset({Family.IPV6})


# --- parsing -------------------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF:.")


def parse_address(text: str) -> IPAddress:
    """Strictly parse an address literal (no scope id, no whitespace, no brackets)."""
    if not text or len(text) > 45 or not _ADDRESS_CHARS.issuperset(text):
        raise MalformedAnswer(f"not an address: {text[:48]!r}")
    try:
        return ip_address(text)
    except ValueError:
        raise MalformedAnswer(f"not an address: {text[:48]!r}") from None


def _literal(host: str) -> IPAddress | None:
    try:
        return parse_address(host)
    except MalformedAnswer:
        return None


def _families_of(host: str) -> frozenset[Family]:
    """An address literal serves only its own family; a name may resolve to either."""
    literal = _literal(host)
    if literal is None:
        return BOTH_FAMILIES
    return frozenset({Family.IPV4 if isinstance(literal, IPv4Address) else Family.IPV6})


def _check_host(host: str) -> str:
    """Lower-case a host name or validate an address literal; raise InvalidSourceError."""
    if _literal(host) is not None:
        return str(ip_address(host))
    name = host.lower().rstrip(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(p) for p in name.split(".")):
        raise InvalidSourceError(f"invalid host name: {host!r}")
    return name


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _check_port(port: int) -> int:
    if not 0 < port < 65536:
        raise InvalidSourceError(f"invalid port: {port}")
    return port


def stun_source(
    host: str,
    port: int = 3478,
    *,
    provider: str | None = None,
    kind: SourceKind = SourceKind.STUN_UDP,
    families: Iterable[Family] | None = None,
    timeout: float | None = None,
) -> Source:
    """A STUN server; `provider` defaults to the endpoint itself (see the module docstring)."""
    if kind not in (SourceKind.STUN_UDP, SourceKind.STUN_TCP):
        raise InvalidSourceError(f"not a STUN kind: {kind}")
    host = _check_host(host)
    endpoint = _host_port(host, _check_port(port))
    scheme = "udp" if kind is SourceKind.STUN_UDP else "tcp"
    return Source(
        kind=kind,
        provider=provider or endpoint,
        name=f"{scheme}://{endpoint}",
        host=host,
        port=port,
        families=frozenset(families) if families is not None else _families_of(host),
        timeout=timeout,
    )


def parse_stun_server(text: str) -> tuple[Source, ...]:
    """Parse "host", "host:port", "[v6]:port", optionally prefixed "udp://", "tcp://" or
    "udp+tcp://". No prefix means UDP; the default port is 3478."""
    raw = text.strip()
    kinds: tuple[SourceKind, ...] = (SourceKind.STUN_UDP,)
    scheme, sep, rest = raw.partition("://")
    if sep:
        kinds = {
            "udp": (SourceKind.STUN_UDP,),
            "tcp": (SourceKind.STUN_TCP,),
            "udp+tcp": (SourceKind.STUN_UDP, SourceKind.STUN_TCP),
        }.get(scheme.lower(), ())
        if not kinds:
            raise InvalidSourceError(f"unknown STUN transport: {scheme!r}")
        raw = rest
    host, port = _split_host_port(raw, default_port=3478)
    return tuple(stun_source(host, port, kind=kind) for kind in kinds)


def _split_host_port(text: str, *, default_port: int) -> tuple[str, int]:
    if text.startswith("["):
        host, sep, tail = text[1:].partition("]")
        if not sep or not isinstance(_literal(host), IPv6Address):
            raise InvalidSourceError(f"invalid IPv6 literal: {text!r}")
        if tail and not tail.startswith(":"):
            raise InvalidSourceError(f"unexpected text after address: {text!r}")
        port_text = tail[1:] if tail else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif text.count(":") > 1:
        raise InvalidSourceError(f"IPv6 literals need brackets: {text!r}")
    else:
        host, port_text = text, ""
    if not port_text:
        return _check_host(host), default_port
    if not port_text.isdigit() or len(port_text) > 5:
        raise InvalidSourceError(f"invalid port: {port_text!r}")
    return _check_host(host), _check_port(int(port_text))


def https_source(
    url: str,
    *,
    provider: str | None = None,
    families: Iterable[Family] | None = None,
    timeout: float | None = None,
) -> Source:
    """An HTTP(S) "what is my IP" URL; `provider` defaults to its netloc."""
    clean, netloc, host = _clean_url(url)
    return Source(
        kind=SourceKind.HTTPS,
        provider=provider or netloc,
        name=clean,
        url=clean,
        families=frozenset(families) if families is not None else _families_of(host),
        timeout=timeout,
    )


def _clean_url(url: str) -> tuple[str, str, str]:
    """(normalised URL, host:port, host) of an http(s) URL; raise InvalidSourceError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise InvalidSourceError(f"invalid URL: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InvalidSourceError(f"only https:// and http:// URLs are sources, not {scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidSourceError("URLs with credentials are not accepted")
    if not parts.hostname:
        raise InvalidSourceError(f"URL without a host: {url!r}")
    host = _check_host(parts.hostname)
    port = _check_port(port if port is not None else (443 if scheme == "https" else 80))
    netloc = _host_port(host, port)
    path = parts.path or "/"
    clean = f"{scheme}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")
    return clean, netloc, host


def parse_https_source(url: str) -> Source:
    """Parse a custom https:// (or http://, for LAN sources) URL; raise InvalidSourceError."""
    return https_source(url)


def dns_source(
    server: str,
    port: int = 53,
    *,
    query_name: str,
    query_type: str,
    provider: str,
    query_class: str = "IN",
    families: Iterable[Family] | None = None,
    timeout: float | None = None,
) -> Source:
    """A DNS "who am I" name asked directly of `server` (an address literal)."""
    literal = _literal(server)
    if literal is None:
        raise InvalidSourceError(f"DNS sources are asked by address, not name: {server!r}")
    _check_query(query_name, query_type, query_class)
    server = str(literal)
    at = _host_port(server, _check_port(port))
    if port == 53:
        at = at.removesuffix(":53")
    fams = _query_families(query_type, server, families)
    klass = ";class=CH" if query_class == "CHAOS" else ""
    return Source(
        kind=SourceKind.DNS,
        provider=provider,
        name=f"dns://{at}/{query_name}?type={query_type}{klass}",
        host=server,
        port=port,
        query_name=query_name,
        query_type=query_type,
        query_class=query_class,
        families=fams,
        timeout=timeout,
    )


def _check_query(query_name: str, query_type: str, query_class: str) -> None:
    if query_type not in ("A", "AAAA", "TXT") or query_class not in ("IN", "CHAOS"):
        raise InvalidSourceError(f"unsupported DNS query {query_type}/{query_class}")
    _check_host(query_name)  # the wire codec needs plain LDH labels


def _query_families(
    query_type: str, host: str, families: Iterable[Family] | None
) -> frozenset[Family]:
    """A and AAAA answer one family each; TXT answers whatever the connection's family is."""
    if families is not None:
        return frozenset(families)
    return {"A": _V4, "AAAA": _V6}.get(query_type, _families_of(host))


def doh_source(
    url: str,
    *,
    query_name: str,
    query_type: str,
    query_class: str = "IN",
    provider: str | None = None,
    families: Iterable[Family] | None = None,
    timeout: float | None = None,
) -> Source:
    """A DNS "who am I" name asked over DNS-over-HTTPS (RFC 8484, POST) at `url`;
    `provider` defaults to the URL's netloc."""
    _check_query(query_name, query_type, query_class)
    clean, netloc, host = _clean_url(url)
    klass = ";class=CH" if query_class == "CHAOS" else ""
    return Source(
        kind=SourceKind.DOH,
        provider=provider or netloc,
        name=f"{clean}#{query_name}?type={query_type}{klass}",
        url=clean,
        query_name=query_name,
        query_type=query_type,
        query_class=query_class,
        families=_query_families(query_type, host, families),
        timeout=timeout,
    )


_ENTITY_ID = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")


def entity_source(entity_id: str, *, timeout: float | None = None) -> Source:
    """A Home Assistant entity whose state is an address; it is its own provider (one vote)."""
    entity_id = entity_id.strip()
    if len(entity_id) > 255 or not _ENTITY_ID.fullmatch(entity_id):
        raise InvalidSourceError(f"invalid entity id: {entity_id!r}")
    return Source(
        kind=SourceKind.ENTITY,
        provider=entity_id,
        name=f"entity:{entity_id}",
        entity_id=entity_id,
        timeout=timeout,
    )


def interface_source(*, timeout: float | None = None) -> Source:
    """The host's own global address, as the caller's INTERFACE handler finds it."""
    return Source(
        kind=SourceKind.INTERFACE, provider="interface", name="interface", timeout=timeout
    )


# --- defaults --------------------------------------------------------------------------------

DEFAULT_STUN: tuple[Source, ...] = (
    stun_source("stun.l.google.com", 19302, provider="google"),
    stun_source("stun1.l.google.com", 19302, provider="google"),
    stun_source("stun.cloudflare.com", 3478, provider="cloudflare"),
    stun_source("stun.cloudflare.com", 3478, provider="cloudflare", kind=SourceKind.STUN_TCP),
    stun_source("global.stun.twilio.com", 3478, provider="twilio"),
)

# api64.ipify.org is left out: it is dual-stack, so its answer's family depends on the
# connection the session happens to pick, not on the family asked.
DEFAULT_HTTPS: tuple[Source, ...] = (
    https_source("https://checkip.amazonaws.com/", provider="amazon", families=_V4),
    https_source("https://api.ipify.org/", provider="ipify", families=_V4),
    https_source("https://api6.ipify.org/", provider="ipify", families=_V6),
    # icanhazip.com has been run by Cloudflare since 2021: same provider as 1.1.1.1.
    https_source("https://ipv4.icanhazip.com/", provider="cloudflare", families=_V4),
    https_source("https://ipv6.icanhazip.com/", provider="cloudflare", families=_V6),
    https_source("https://1.1.1.1/cdn-cgi/trace", provider="cloudflare"),
    https_source("https://[2606:4700:4700::1111]/cdn-cgi/trace", provider="cloudflare"),
)

DEFAULT_DNS: tuple[Source, ...] = (
    dns_source("208.67.222.222", query_name="myip.opendns.com", query_type="A", provider="opendns"),
    dns_source(
        "2620:119:35::35", query_name="myip.opendns.com", query_type="AAAA", provider="opendns"
    ),
    dns_source(
        "1.1.1.1",
        query_name="whoami.cloudflare",
        query_type="TXT",
        query_class="CHAOS",
        provider="cloudflare",
    ),
    dns_source(
        "2606:4700:4700::1111",
        query_name="whoami.cloudflare",
        query_type="TXT",
        query_class="CHAOS",
        provider="cloudflare",
    ),
    dns_source(
        "216.239.32.10", query_name="o-o.myaddr.l.google.com", query_type="TXT", provider="google"
    ),
    dns_source(
        "2001:4860:4802:32::a",
        query_name="o-o.myaddr.l.google.com",
        query_type="TXT",
        provider="google",
    ),
)

# The resolver the DoH sources use by default in favonia/cloudflare-ddns. OpenDNS answers
# myip.opendns.com with the address the query came from, so A serves IPv4 and AAAA IPv6.
DEFAULT_DOH: tuple[Source, ...] = (
    doh_source(
        "https://1.1.1.1/dns-query",
        query_name="whoami.cloudflare",
        query_type="TXT",
        query_class="CHAOS",
        provider="cloudflare",
    ),
    doh_source(
        "https://[2606:4700:4700::1111]/dns-query",
        query_name="whoami.cloudflare",
        query_type="TXT",
        query_class="CHAOS",
        provider="cloudflare",
    ),
    doh_source(
        "https://doh.opendns.com/dns-query",
        query_name="myip.opendns.com",
        query_type="A",
        provider="opendns",
    ),
    doh_source(
        "https://doh.opendns.com/dns-query",
        query_name="myip.opendns.com",
        query_type="AAAA",
        provider="opendns",
    ),
)

# DoH rides with HTTPS: "https" is the TLS-only mode, and custom HTTPS URLs replace both.
_MODE_KINDS: dict[DetectionMode, tuple[str, ...]] = {
    DetectionMode.ALL: ("stun", "https", "doh", "dns"),
    DetectionMode.STUN_HTTPS: ("stun", "https", "doh"),
    DetectionMode.STUN: ("stun",),
    DetectionMode.HTTPS: ("https", "doh"),
    DetectionMode.DNS: ("dns",),
}


def sources_for(
    mode: DetectionMode,
    family: Family,
    *,
    stun_servers: Sequence[str] = (),
    https_urls: Sequence[str] = (),
) -> tuple[Source, ...]:
    """The sources `mode` asks for `family`. A non-empty custom list replaces that kind's
    defaults (custom HTTPS URLs replace the DoH defaults too: both are the TLS sources); custom
    entries that cannot serve the family (an IPv4 literal when detecting IPv6)
    are left out. Raises InvalidSourceError for unusable custom text."""
    chosen: list[Source] = []
    for kind in _MODE_KINDS[DetectionMode(mode)]:
        if kind == "stun":
            if stun_servers:
                chosen += [s for text in stun_servers for s in parse_stun_server(text)]
            else:
                chosen += DEFAULT_STUN
        elif kind == "https":
            chosen += [parse_https_source(u) for u in https_urls] if https_urls else DEFAULT_HTTPS
        elif kind == "doh":
            chosen += () if https_urls else DEFAULT_DOH
        else:
            chosen += DEFAULT_DNS
    return tuple(dict.fromkeys(s for s in chosen if s.serves(family)))
