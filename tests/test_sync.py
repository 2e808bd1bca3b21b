"""The syncer on its own, without Home Assistant: what it decides and what it writes."""

from __future__ import annotations

import ipaddress

import pytest

from custom_components.esddns.gandi import GandiConflictError, RecordType, Rrset
from custom_components.esddns.plan import Action, Step, SupersededError, apply, plan
from custom_components.esddns.records import ManagedRecord, RecordKey
from custom_components.esddns.wan import Family

V4 = ipaddress.IPv4Address("81.2.69.142")
V6 = ipaddress.IPv6Address("2a02:1234:5678:9abc:1:2:3:4")
ADDRESSES = {Family.IPV4: V4, Family.IPV6: V6}

HOME = ManagedRecord("s-home", "example.com", "home", (RecordType.A, RecordType.AAAA), 300, True)
NAS = ManagedRecord(
    "s-nas",
    "example.org",
    "nas",
    (RecordType.AAAA,),
    600,
    True,
    interface_id=ipaddress.IPv6Address("::10"),
)


def _rrset(*values: str, ttl: int = 300) -> Rrset:
    # Name and type don't take part in the decision: the key the rrset is filed under does.
    return Rrset(name="any", type=RecordType.A, values=tuple(values), ttl=ttl)


def _key(record: ManagedRecord, rtype: RecordType) -> RecordKey:
    return RecordKey(record.domain, record.name, rtype)


def test_plan_writes_only_what_differs_from_the_desired_state() -> None:
    """In sync: nothing; another address, another TTL, or absent: one write each."""
    rrsets = {
        _key(HOME, RecordType.A): _rrset(str(V4)),
        _key(HOME, RecordType.AAAA): _rrset(str(V6), ttl=3600),
        _key(NAS, RecordType.AAAA): None,
    }
    steps = {step.key: step for step in plan([HOME, NAS], rrsets, ADDRESSES)}
    assert not steps[_key(HOME, RecordType.A)].write
    assert steps[_key(HOME, RecordType.AAAA)].write  # the TTL is part of the desired state
    nas = steps[_key(NAS, RecordType.AAAA)]
    assert (nas.write, nas.before, nas.after, nas.ttl) == (
        True,
        None,
        ("2a02:1234:5678:9abc::10",),  # the NAS inside this home's /64
        600,
    )


def test_plan_leaves_out_what_it_cannot_decide() -> None:
    """No consensus for a family, or a record that could not be read: no step at all."""
    rrsets = {_key(HOME, RecordType.A): _rrset("81.2.69.1")}  # AAAA unread
    steps = plan([HOME], rrsets, {Family.IPV4: V4})
    assert [step.key.type for step in steps] == [RecordType.A]
    assert plan([HOME], rrsets, {}) == []


def test_plan_can_be_limited_to_some_rrsets() -> None:
    rrsets = dict.fromkeys(HOME.keys)
    only = {_key(HOME, RecordType.AAAA)}
    assert [step.key for step in plan([HOME], rrsets, ADDRESSES, only=only)] == list(only)


def test_a_dry_run_is_the_plan() -> None:
    step = Step(_key(HOME, RecordType.A), ("81.2.69.1",), (str(V4),), 300, write=True)
    result = step.result(dry_run=True)
    assert (result.action, result.before, result.after) == (
        Action.WOULD_UPDATE,
        ("81.2.69.1",),
        (str(V4),),
    )
    unchanged = Step(step.key, (str(V4),), (str(V4),), 300, write=False).result(dry_run=True)
    assert (unchanged.action, unchanged.after) == (Action.UNCHANGED, (str(V4),))


async def test_apply_writes_once_per_changed_rrset_and_reports_refusals() -> None:
    """A refused write is a result; the next rrset is still written; unchanged ones aren't."""
    a, aaaa = (_key(HOME, rtype) for rtype in (RecordType.A, RecordType.AAAA))
    nas = _key(NAS, RecordType.AAAA)
    steps = [
        Step(a, None, (str(V4),), 300, write=True),
        Step(aaaa, (str(V6),), (str(V6),), 300, write=False),
        Step(nas, None, ("2a02:1234:5678:9abc::10",), 600, write=True),
    ]
    written: list[RecordKey] = []

    async def write(step: Step) -> None:
        if step.key == a:
            raise GandiConflictError("Conflict with the zone", status=409)
        written.append(step.key)

    results, superseded = await apply(steps, write)
    assert written == [nas]
    assert superseded == []
    assert [(r.key, r.action, r.reason) for r in results] == [
        (a, Action.FAILED, "Conflict with the zone"),
        (aaaa, Action.UNCHANGED, None),
        (nas, Action.UPDATED, None),
    ]
    assert results[0].after is None  # a failed write leaves the record as it was


async def test_apply_hands_back_superseded_steps_unwritten() -> None:
    step = Step(_key(HOME, RecordType.A), None, (str(V4),), 300, write=True)

    async def write(step: Step) -> None:
        raise SupersededError

    results, superseded = await apply([step], write)
    assert (results, superseded) == ([], [step])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((str(V4),), False),
        (("081.2.69.142",), True),  # not an address: drift, rewritten
        ((str(V4), "81.2.69.1"), True),  # one extra value: drift
        ((), True),
    ],
)
def test_only_exactly_the_address_is_in_sync(values: tuple[str, ...], expected: bool) -> None:
    record = ManagedRecord("s", "example.com", "@", (RecordType.A,), 300, True)
    rrsets = {record.keys[0]: _rrset(*values)}
    (step,) = plan([record], rrsets, ADDRESSES)
    assert step.write is expected


def test_the_log_says_what_changes() -> None:
    """A TTL-only rewrite says so; an address change names both values."""
    a = _key(HOME, RecordType.A)
    ttl_only = Step(a, (str(V4),), (str(V4),), 300, write=True, before_ttl=3600)
    assert ttl_only.change == "TTL 3600 s -> 300 s"
    moved = Step(a, ("81.2.69.1",), (str(V4),), 300, write=True, before_ttl=300)
    assert moved.change == f"81.2.69.1 -> {V4}"
    created = Step(a, None, (str(V4),), 300, write=True)
    assert created.change == f"nothing -> {V4}"
