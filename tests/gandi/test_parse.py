"""The LiveDNS answer parser, without a server: mappings, edge cases, and a property test."""

from __future__ import annotations

from datetime import UTC, datetime
import ipaddress
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.esddns.gandi import (
    GandiAuthError,
    GandiBadRequestError,
    GandiConflictError,
    GandiDomainNotFoundError,
    GandiError,
    GandiNotFoundError,
    GandiPermissionError,
    GandiRateLimitError,
    GandiResponseError,
    GandiServerError,
    RecordType,
    Rrset,
    normalize_domain,
)
from custom_components.esddns.gandi.parse import (
    MAX_BODY_BYTES,
    RawResponse,
    decode_json,
    error_for,
    interpret_domain_page,
    interpret_domain_probe,
    interpret_get_rrset,
    interpret_put_rrset,
    is_livedns_not_found,
    parse_retry_after,
)

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def answer(status: int, body: Any, **headers: str) -> RawResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawResponse(status=status, body=raw, **headers)


GANDI_404 = {"code": 404, "message": "The resource could not be found.", "object": "HTTPNotFound",
             "cause": "Not Found"}  # fmt: skip
RRSET = {"rrset_name": "home", "rrset_type": "A", "rrset_ttl": 300,
         "rrset_values": ["81.2.69.142"], "rrset_href": "https://api.test/x"}  # fmt: skip


# ----- Retry-After -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        ("120", None, 120.0),
        (" 5 ", None, 5.0),
        ("0", None, 0.0),
        (None, None, None),
        ("", None, None),
        ("-1", None, None),
        ("1.5", None, None),
        ("soon", None, None),
        ("١٢", None, None),  # non-ASCII digits are not delta-seconds
        ("Tue, 24 Nov 2026 12:01:30 GMT", None, 90.0),  # measured from now
        ("Tue, 24 Nov 2026 12:01:30 GMT", "Tue, 24 Nov 2026 12:01:00 GMT", 30.0),  # from Date
        ("Tue, 24 Nov 2026 12:01:30 GMT", "not a date", 90.0),  # a bad Date falls back to now
        ("Tue, 24 Nov 2026 12:01:30 -0000", None, 90.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", None, 0.0),  # already past: no wait
    ],
)
def test_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, date=date, now=NOW) == expected


def test_retry_after_date_without_now_uses_the_clock() -> None:
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == 0.0


# ----- status → error --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, GandiBadRequestError), (422, GandiBadRequestError), (401, GandiAuthError),
        (403, GandiPermissionError), (404, GandiNotFoundError), (409, GandiConflictError),
        (429, GandiRateLimitError), (500, GandiServerError), (502, GandiServerError),
        (503, GandiServerError), (599, GandiServerError), (302, GandiResponseError),
        (405, GandiResponseError), (418, GandiResponseError), (299, GandiResponseError),
        (601, GandiResponseError),
    ],
)  # fmt: skip
def test_each_status_maps_to_its_error(status: int, error: type[GandiError]) -> None:
    built = error_for(answer(status, b""))
    assert type(built) is error
    assert built.status == status
    assert built.message


@pytest.mark.parametrize(
    ("body", "message", "fields"),
    [
        ({"message": "Gandi says no", "cause": "Bad Request"}, "Gandi says no", ()),
        (
            {"status": "error", "errors": [
                {"location": "body", "name": "rrset_ttl", "description": "too small"},
                {"location": "body", "name": "rrset_values", "description": "bad"},
                "junk", {"name": 3}, {"description": "unnamed"}]},
            "rrset_ttl: too small; rrset_values: bad; unnamed", ("rrset_ttl", "rrset_values"),
        ),
        ({"cause": "Bad Request", "message": "  "}, "Bad Request", ()),
        ({"message": "line\nbreak\x1b[31m and \t tabs"}, "line break [31m and tabs", ()),
        ({"message": "x" * 1000}, "x" * 299 + "…", ()),
        ([1, 2], "Bad Request", ()),
        (b"<html>400</html>", "Bad Request", ()),
        (b"\xff\xfe", "Bad Request", ()),
    ],
)  # fmt: skip
def test_the_message_comes_from_gandis_body(
    body: Any, message: str, fields: tuple[str, ...]
) -> None:
    built = error_for(answer(400, body))
    assert isinstance(built, GandiBadRequestError)
    assert (built.message, built.fields) == (message, fields)
    assert str(built) == f"{message} (HTTP 400)"


def test_a_rate_limit_error_reads_retry_after_against_the_answers_date() -> None:
    built = error_for(
        answer(
            429,
            {},
            retry_after="Tue, 24 Nov 2026 12:00:10 GMT",
            date="Tue, 24 Nov 2026 12:00:00 GMT",
        )
    )
    assert isinstance(built, GandiRateLimitError)
    assert built.retry_after == 10.0


# ----- each operation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        GANDI_404,
        {"code": 404},
        # The prose does not decide: only the question about the domain itself does.
        {**GANDI_404, "message": "Unknown domain"},
        {**GANDI_404, "message": "The domain example.com does not exist."},
    ],
)
def test_get_rrset_livedns_404_is_absent_whatever_its_prose(body: dict[str, Any]) -> None:
    response = answer(404, body)
    assert is_livedns_not_found(response)
    assert interpret_get_rrset(response, "home", RecordType.A) is None


@pytest.mark.parametrize("body", [b"<html>404</html>", b"", {"detail": "nope"}, [GANDI_404]])
def test_a_foreign_404_is_not_found_never_absent(body: Any) -> None:
    response = answer(404, body)
    assert not is_livedns_not_found(response)
    with pytest.raises(GandiNotFoundError, match="API URL") as caught:
        interpret_get_rrset(response, "home", RecordType.A)
    assert not isinstance(caught.value, GandiDomainNotFoundError)
    with pytest.raises(GandiNotFoundError, match="API URL") as caught:
        interpret_domain_probe(response, "example.com")
    assert not isinstance(caught.value, GandiDomainNotFoundError)


@pytest.mark.parametrize(
    "body", [GANDI_404, {**GANDI_404, "message": "Unknown domain"}, {"code": 404}]
)
def test_domain_probe_404_is_domain_not_found(body: dict[str, Any]) -> None:
    with pytest.raises(GandiDomainNotFoundError) as caught:
        interpret_domain_probe(answer(404, body), "example.com")
    assert caught.value.status == 404
    assert "example.com" in caught.value.message


def test_domain_probe_other_answers() -> None:
    assert interpret_domain_probe(answer(200, {"fqdn": "example.com"}), "example.com") is None
    assert interpret_domain_probe(answer(200, {"fqdn": "Example.COM."}), "example.com") is None
    with pytest.raises(GandiResponseError):
        interpret_domain_probe(answer(200, {"fqdn": "example.org"}), "example.com")
    with pytest.raises(GandiPermissionError):
        interpret_domain_probe(answer(403, GANDI_404), "example.com")
    with pytest.raises(GandiServerError):
        interpret_domain_probe(answer(503, b"<html>busy</html>"), "example.com")


@pytest.mark.parametrize(
    "change",
    [
        {"rrset_type": "AAAA"}, {"rrset_type": None}, {"rrset_name": "other"}, {"rrset_name": 1},
        {"rrset_ttl": True}, {"rrset_ttl": 0}, {"rrset_ttl": 300.0}, {"rrset_ttl": "300"},
        {"rrset_ttl": 2**31}, {"rrset_values": []}, {"rrset_values": "81.2.69.142"},
        {"rrset_values": ["2001:db8::1"]}, {"rrset_values": ["81.2.69.142", None]},
        {"rrset_values": ["81.2.69"]},
    ],
)  # fmt: skip
def test_get_rrset_refuses_a_record_that_is_not_what_was_asked(change: dict[str, Any]) -> None:
    with pytest.raises(GandiResponseError) as caught:
        interpret_get_rrset(answer(200, {**RRSET, **change}), "home", RecordType.A)
    assert caught.value.status == 200


def test_get_rrset_accepts_gandis_record() -> None:
    body = {**RRSET, "rrset_type": "a", "rrset_name": "HOME",
            "rrset_values": ["81.2.69.142", "81.2.69.142", "81.2.69.143"]}  # fmt: skip
    assert interpret_get_rrset(answer(200, body), "home", RecordType.A) == Rrset(
        "home", RecordType.A, 300, ("81.2.69.142", "81.2.69.143")
    )


def test_domain_page() -> None:
    body = [{"fqdn": "example.org"}, {"fqdn": "Example.COM."}, {"fqdn": "example.org"}]
    # One page as LiveDNS sent it, each name canonical; list_domains merges and sorts the pages.
    assert interpret_domain_page(answer(200, body, total_count="3")) == (
        ["example.org", "example.com", "example.org"],
        3,
    )
    assert interpret_domain_page(answer(200, [])) == ([], None)
    for bad in ({"fqdn": "example.com"}, [{"fqdn": 3}], ["example.com"], [{"fqdn": "no_dot"}]):
        with pytest.raises(GandiResponseError):
            interpret_domain_page(answer(200, bad))
    with pytest.raises(GandiAuthError):
        interpret_domain_page(answer(401, {"message": "who?"}))


def test_put_rrset() -> None:
    interpret_put_rrset(answer(201, {"message": "DNS Record Created"}))
    interpret_put_rrset(answer(200, b"  "))
    interpret_put_rrset(answer(204, b""))
    for bad in (b"created!", [1], "ok"):
        with pytest.raises(GandiResponseError):
            interpret_put_rrset(answer(201, bad))
    with pytest.raises(GandiBadRequestError):
        interpret_put_rrset(answer(400, {"errors": [{"name": "rrset_ttl", "description": "x"}]}))


def test_bodies_over_the_cap_and_deep_nesting_are_refused() -> None:
    with pytest.raises(GandiResponseError, match="1 MiB"):
        decode_json(b" " * (MAX_BODY_BYTES + 1))
    with pytest.raises(GandiResponseError, match="not JSON"):
        decode_json(b"[" * 100_000 + b"]" * 100_000)


# ----- property test ---------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("ESDDNS_FUZZ_EXAMPLES", "500"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
addresses = st.ip_addresses().map(str) | st.sampled_from(["81.2.69.142", "2001:db8::1", "x", ""])
field_values = st.one_of(
    json_values,
    st.sampled_from(["home", "HOME", "A", "AAAA", "a", "other"]),
    st.integers(min_value=-10, max_value=2**32),
    st.lists(addresses, max_size=4),
)
rrset_like = st.fixed_dictionaries(
    {},
    optional={
        "rrset_name": field_values,
        "rrset_type": field_values,
        "rrset_ttl": field_values,
        "rrset_values": field_values,
        "rrset_href": field_values,
    },
)
domains_like = st.lists(
    st.fixed_dictionaries(
        {}, optional={"fqdn": st.text(max_size=30) | st.sampled_from(["example.com", "b.example."])}
    )
    | json_values,
    max_size=5,
)
error_like = st.fixed_dictionaries(
    {},
    optional={
        "message": json_values | st.sampled_from(["Unknown domain", GANDI_404["message"]]),
        "cause": json_values, "code": json_values, "object": json_values,
        "errors": st.lists(st.fixed_dictionaries({}, optional={"name": json_values,
                                                               "description": json_values})),
    },
)  # fmt: skip


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Random bytes, random JSON, and valid-looking bodies mutated byte by byte."""
    kind = draw(st.sampled_from(["bytes", "json", "rrset", "domains", "error", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    value = {"json": json_values, "rrset": rrset_like, "domains": domains_like,
             "error": error_like, "mutated": st.sampled_from([RRSET, [{"fqdn": "example.com"}],
                                                              GANDI_404])}[kind]  # fmt: skip
    raw = bytearray(json.dumps(draw(value)).encode())
    if kind == "mutated" and raw:
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw)


statuses = st.sampled_from([200, 201, 204, 302, 400, 401, 403, 404, 409, 418, 429, 500, 503]) | (
    st.integers(min_value=100, max_value=999)
)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=statuses,
    body=bodies(),
    retry_after=st.none() | st.text(max_size=40),
    rtype=st.sampled_from(list(RecordType)),
)
def test_the_parser_only_ever_yields_valid_results_or_gandi_errors(
    status: int, body: bytes, retry_after: str | None, rtype: RecordType
) -> None:
    response = RawResponse(
        status=status, body=body, retry_after=retry_after, date=retry_after, total_count=retry_after
    )
    ok = 200 <= status <= 299
    data = _json_or_none(body)

    try:
        rrset = interpret_get_rrset(response, "home", rtype, now=NOW)
    except GandiError:
        rrset = None
    else:
        if rrset is None:
            assert status == 404  # "absent" only ever comes from a 404
        else:
            # A record only ever comes from a 2xx JSON object naming what was asked.
            assert ok
            assert isinstance(data, dict)
            assert str(data["rrset_type"]).upper() == rtype.value
            assert str(data["rrset_name"]).lower() == "home"
            assert rrset.ttl == data["rrset_ttl"]
            assert rrset.ttl > 0
            assert rrset.values
            family = 4 if rtype is RecordType.A else 6
            assert all(ipaddress.ip_address(v).version == family for v in rrset.values)
            assert set(rrset.values) == {str(ipaddress.ip_address(v)) for v in data["rrset_values"]}

    try:
        domains, total = interpret_domain_page(response, now=NOW)
    except GandiError:
        pass
    else:
        assert ok
        assert isinstance(data, list)
        assert domains == [normalize_domain(item["fqdn"]) for item in data]
        assert total is None or total >= 0

    put_error: GandiError | None = None
    try:
        interpret_put_rrset(response, now=NOW)
    except GandiError as err:
        put_error = err
    if put_error is None:
        assert ok  # a write is only ever reported done on a 2xx
    else:
        assert put_error.status in (status, None)

    try:
        interpret_domain_probe(response, "example.com", now=NOW)
    except GandiDomainNotFoundError:
        assert status == 404
    except GandiError:
        pass
    else:
        assert ok  # the domain is only ever said to exist on a 2xx naming it

    if not ok:
        error = error_for(response, now=NOW)
        assert isinstance(error, GandiError)
        assert error.status == status
        if isinstance(error, GandiRateLimitError) and error.retry_after is not None:
            assert error.retry_after >= 0


SECRET = "Sx9-secret_TOKEN.42"


@st.composite
def echoing_bodies(draw: st.DrawFn) -> bytes:
    """Gandi-shaped error bodies with the secret (alone or after a scheme) somewhere in them."""
    scheme = draw(st.sampled_from(["", "Bearer ", "bearer ", "APIKEY ", "Apikey\t"]))
    # Padding that often puts the secret across the 300-character cut of messages.
    before = draw(st.text(max_size=40)) + "w" * draw(st.integers(min_value=0, max_value=320))
    after = draw(st.text(max_size=40))
    echoed = before + scheme + SECRET + after
    where = draw(st.sampled_from(["message", "cause", "name", "description"]))
    if where in ("message", "cause"):
        data: dict[str, Any] = {"code": 400, where: echoed}
    else:
        item = {"name": "x", "description": "y", where: echoed}
        data = {"status": "error", "errors": [item]}
    return json.dumps(data, ensure_ascii=draw(st.booleans())).encode()


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=echoing_bodies(), status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500]))
def test_an_echoed_secret_never_reaches_an_error(body: bytes, status: int) -> None:
    error = error_for(RawResponse(status=status, body=body), now=NOW, secrets=[SECRET])
    texts = [str(error), repr(error), error.message, *getattr(error, "fields", ())]
    assert all(SECRET not in text for text in texts)
    assert all(SECRET[:10] not in text for text in texts)  # not even its start, cut at the end
