"""What a detection round tells the user: public address changes (an event), a lost consensus
(the log, once per outage), sources that keep disagreeing and router problems (repairs).

A DetectionReporter listens to one shared detection coordinator: it reads each new round, and
never asks anything itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant, callback

from . import issues
from .const import EVENT_PUBLIC_IP_CHANGED, LOGGER, REPAIR_THRESHOLD
from .detection import DetectionCoordinator, DetectionRound
from .records import IPAddress
from .streaks import Streaks
from .wan import (
    AddressClass,
    Detection,
    Family,
    OutcomeStatus,
    SourceKind,
    SourceOutcome,
    classify_address,
)

RECENT_ROUNDS = 10
# The records that point at a family's address, for a repair's text.
type RecordsOf = Callable[[Family], Iterable[str]]


@dataclass
class ReportingMemory:
    """What rounds remember between them. Kept across reloads (sharing.py): a lost consensus is
    logged once per outage, a public address change is seen across a reload, a repair's count
    of rounds goes on."""

    router: Streaks[str] = field(default_factory=Streaks)
    no_consensus: Streaks[Family] = field(default_factory=Streaks)
    disagreement: Streaks[Family] = field(default_factory=Streaks)
    dissenters: dict[Family, set[str]] = field(
        default_factory=lambda: {family: set() for family in Family}
    )
    last_address: dict[Family, IPAddress] = field(default_factory=dict)


class DetectionReporter:
    """Tells the user what each round of one shared detection found."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: DetectionCoordinator,
        memory: ReportingMemory,
        records_of: RecordsOf,
    ) -> None:
        """Report the rounds of ``coordinator``; ``records_of`` names the records of a family."""
        self.hass = hass
        self.coordinator = coordinator
        self.memory = memory
        self._records_of = records_of
        self._seen: DetectionRound | None = None
        # The last rounds, what started each and what it agreed on (for diagnostics).
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_ROUNDS)
        self._fingerprint = coordinator.settings.fingerprint

    @callback
    def async_on_round(self) -> None:
        """A round ended: report it once (a failed round changes nothing it reports)."""
        round_ = self.coordinator.data
        if not self.coordinator.last_update_success or round_ is None or round_ is self._seen:
            return
        self._seen = round_
        for family, detection in round_.detections.items():
            self._note_consensus(family, detection)
            self._note_disagreement(family, detection)
            self._note_router(detection)
            self._note_change(family, detection, round_.trigger)
        self.recent.appendleft(
            {
                "at": round_.detected_at.isoformat(),
                "trigger": round_.trigger,
                "addresses": {
                    family.value: str(d.address) if d.address is not None else None
                    for family, d in round_.detections.items()
                },
            }
        )

    def _note_change(self, family: Family, detection: Detection, trigger: str) -> None:
        """Fire an event when the agreed address differs from the last one agreed on, so that a
        round without consensus in between does not hide a change."""
        if detection.address is None:
            return
        old = self.memory.last_address.get(family)
        self.memory.last_address[family] = detection.address
        if old is not None and old != detection.address:
            self.hass.bus.async_fire(
                EVENT_PUBLIC_IP_CHANGED,
                {
                    "family": family.value,
                    "before": str(old),
                    "after": str(detection.address),
                    # What started the round that saw it (interval, canary, entity…).
                    "trigger": trigger,
                },
            )

    def _note_consensus(self, family: Family, detection: Detection) -> None:
        """Log once when a family loses its consensus, and once when it is back."""
        if detection.address is None:
            if self.memory.no_consensus.seen(family) == 1:
                LOGGER.warning(
                    "No consensus on the public %s address (quorum %s); answers: %s",
                    family.label,
                    detection.quorum,
                    detection.answers_text or "none",
                )
        elif self.memory.no_consensus.over(family):
            LOGGER.info("Consensus on the public %s address is back", family.label)

    def _note_disagreement(self, family: Family, detection: Detection) -> None:
        """Raise a repair when sources keep naming different public addresses.

        A hedged round may not ask the sources that disagreed, so agreement among the others
        does not end it: a full round (it asks every source in doubt, and a dissenter is: its
        answer counted as a failure), a widened one (everyone), or one that heard them all
        agree, does.
        """
        issue_id = self._disagree_issue_id(family)
        # A router entity that names another address has a repair of its own (_note_router).
        valid = [o for o in detection.valid if o.source.kind is not SourceKind.ENTITY]
        if len({o.address for o in valid}) > 1:
            self.memory.dissenters[family] = {o.source.name for o in valid}
            if self.memory.disagreement.seen(family) >= REPAIR_THRESHOLD:
                issues.async_sources_disagree(self.hass, issue_id, family, detection)
        elif family in self.memory.disagreement and (
            detection.full
            or detection.widened
            or self.memory.dissenters[family] <= {o.source.name for o in valid}
        ):
            self.memory.disagreement.over(family)
            issues.async_clear(self.hass, issue_id)

    def _disagree_issue_id(self, family: Family) -> str:
        return f"sources_disagree_{self._fingerprint}_{family.value}"

    def _note_router(self, detection: Detection) -> None:
        """Tell the user when a router entity shows that inbound connections won't arrive.

        Only an entity source can see this: its WAN address is CGNAT or private (another NAT
        in front of it), or public but not the address the internet sees (a VPN or a second
        NAT), while the sources agree on a public address.
        """
        public = detection.address
        if public is None:
            return  # without a consensus there is nothing to compare with: keep what is known
        for outcome in detection.outcomes:
            if outcome.source.kind is not SourceKind.ENTITY:
                continue
            issue_id = f"router_{self._fingerprint}_{detection.family}_{outcome.source.name}"
            kind = _router_problem(outcome, public)
            if kind is None:
                if self.memory.router.over(issue_id):
                    issues.async_clear(self.hass, issue_id)
                continue
            # The router's entity updates on its own schedule: a change of address must not
            # look like a second NAT for the round or two until it catches up.
            if self.memory.router.seen(issue_id) >= REPAIR_THRESHOLD:
                assert outcome.address is not None  # _router_problem needs it
                issues.async_router_problem(
                    self.hass,
                    issue_id,
                    kind,
                    entity=outcome.source.entity_id,
                    router_address=str(outcome.address),
                    public_address=str(public),
                    records=", ".join(dict.fromkeys(self._records_of(detection.family)))
                    or "your records",
                )

    def clear_repairs(self) -> None:
        """Drop this detection's repair issues (when it is disposed of)."""
        for family in Family:
            issues.async_clear(self.hass, self._disagree_issue_id(family))
        for issue_id in self.memory.router:
            issues.async_clear(self.hass, issue_id)


def _router_problem(outcome: SourceOutcome, public: IPAddress) -> str | None:
    """Which router problem an entity's answer shows, if any (a repair's translation key)."""
    if outcome.address is None:
        return None
    if outcome.status is OutcomeStatus.NOT_PUBLIC:
        cls = classify_address(outcome.address)
        if cls is AddressClass.SHARED:
            return "router_cgnat"
        if cls is AddressClass.PRIVATE:
            return "router_private"
        return None
    if outcome.status is OutcomeStatus.ADDRESS and outcome.address != public:
        return "router_address_differs"
    return None
