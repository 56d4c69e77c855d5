"""The checker: what every acknowledged input should have caused, against what the bus holds.

Pure (no Kafka): the run reads the inboxes and dead-letter topics and hands the records here.
Per input, the expected outputs are an ordered list of dispatches (inbox, kind, target). An
output is identified by its dispatch id, which the workflow derives from the input's ``ce_id``
(``<ce_id>:respond``, ``<ce_id>:intercept``), so:

- **lost**: an expected dispatch id never seen in its inbox;
- **duplicated before dedupe**: extra copies of one dispatch id (at-least-once re-sends, which
  receivers drop; counted, not a failure);
- **escalations**: the load acknowledges no dispatch, so a dispatch whose acknowledgement
  deadline passes is escalated (``<dispatch id>:escalation``, kind ``ESCALATION``): counted,
  each at most once by its id;
- **duplicated after dedupe**: a case with a dispatch id nobody expected (a second dispatch for
  one sighting under a new id, which a receiver's dedupe cannot drop), or an expected dispatch
  in the wrong inbox, of the wrong kind, or for the wrong unit (misrouted: counted apart);
- **out of order**: a case whose dispatches, in first-seen order per inbox, are not in the
  expected order;
- **dead letters**: those of the poison records injected (matched by the record key each
  poison record has alone), and any other (unexpected: a failure).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dispatch:
    """One output: a dispatch in an agency's inbox (expected, or as read)."""

    inbox: str
    case_key: str
    dispatch_id: str
    kind: str
    target: str


@dataclass(frozen=True)
class Expected:
    """An input an entry point acknowledged, and the dispatches it must cause, in order."""

    case_key: str
    event_id: str
    via: str
    dispatches: tuple[Dispatch, ...]


@dataclass
class Verdict:
    inputs: int = 0
    expected_outputs: int = 0
    outputs_read: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates_before_dedupe: int = 0
    duplicates_after_dedupe: list[str] = field(default_factory=list)
    misrouted: list[str] = field(default_factory=list)
    escalations: int = 0
    out_of_order: list[str] = field(default_factory=list)
    poison_injected: int = 0
    poison_dead_lettered: int = 0
    poison_missing: list[str] = field(default_factory=list)
    unexpected_dead_letters: list[str] = field(default_factory=list)
    inputs_by_path: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicates_after_dedupe or self.misrouted
                    or self.out_of_order or self.poison_missing or self.unexpected_dead_letters)

    def summary(self) -> str:
        return (
            f"{self.inputs} inputs {self.inputs_by_path}, {self.expected_outputs} dispatches "
            f"expected, {self.outputs_read} read; lost {len(self.lost)}, duplicates before "
            f"dedupe {self.duplicates_before_dedupe}, after dedupe "
            f"{len(self.duplicates_after_dedupe)}, escalations {self.escalations}, misrouted "
            f"{len(self.misrouted)}, out of order "
            f"{len(self.out_of_order)}; poison {self.poison_injected} injected, "
            f"{self.poison_dead_lettered} dead-lettered, missing {len(self.poison_missing)}, "
            f"other dead letters {len(self.unexpected_dead_letters)}"
            + (f"; e.g. lost {self.lost[:5]}" if self.lost else "")
            + (f"; e.g. extra {self.duplicates_after_dedupe[:5]}"
               if self.duplicates_after_dedupe else "")
            + (f"; e.g. misrouted {self.misrouted[:5]}" if self.misrouted else "")
            + (f"; e.g. out of order {self.out_of_order[:5]}" if self.out_of_order else "")
        )


def check(
    expected: Iterable[Expected],
    read: Sequence[Dispatch],
    *,
    poison: Iterable[str] = (),
    dead_letters: Iterable[str] = (),
) -> Verdict:
    """Compare; ``read`` holds the inboxes' records in each partition's order (one case key is
    on one partition, so a case's records are in the order the bus keeps them)."""
    verdict = Verdict(outputs_read=len(read))
    wanted: dict[str, Dispatch] = {}
    order: dict[tuple[str, str], list[str]] = defaultdict(list)
    cases: set[str] = set()
    by_path: Counter[str] = Counter()
    for item in expected:
        verdict.inputs += 1
        by_path[item.via] += 1
        cases.add(item.case_key)
        for dispatch in item.dispatches:
            wanted[dispatch.dispatch_id] = dispatch
            order[(dispatch.inbox, dispatch.case_key)].append(dispatch.dispatch_id)
    verdict.inputs_by_path = dict(sorted(by_path.items()))
    verdict.expected_outputs = len(wanted)

    copies: Counter[str] = Counter()
    seen_order: dict[tuple[str, str], list[str]] = defaultdict(list)
    for got in read:
        if got.case_key not in cases:
            continue  # not an input of this run
        copies[got.dispatch_id] += 1
        if copies[got.dispatch_id] > 1:
            continue
        want = wanted.get(got.dispatch_id)
        if want is None and _escalates(got, wanted):
            verdict.escalations += 1
            continue
        if want is None:
            verdict.duplicates_after_dedupe.append(f"{got.case_key}: {got.dispatch_id}")
            continue
        if (got.inbox, got.kind, got.target, got.case_key) != (
            want.inbox, want.kind, want.target, want.case_key
        ):
            verdict.misrouted.append(
                f"{got.dispatch_id}: {got.kind} to {got.target} in {got.inbox}, "
                f"want {want.kind} to {want.target} in {want.inbox}"
            )
            continue
        seen_order[(got.inbox, got.case_key)].append(got.dispatch_id)
    verdict.duplicates_before_dedupe = sum(n - 1 for n in copies.values())
    verdict.lost = sorted(d for d in wanted if copies[d] == 0)
    for key, ids in order.items():
        seen = seen_order.get(key, [])
        if seen != [d for d in ids if d in seen]:
            verdict.out_of_order.append(f"{key[1]} in {key[0]}: {seen}")

    injected = set(poison)
    lettered = Counter(dead_letters)
    verdict.poison_injected = len(injected)
    verdict.poison_dead_lettered = len(injected & set(lettered))
    verdict.poison_missing = sorted(injected - set(lettered))
    verdict.unexpected_dead_letters = sorted(set(lettered) - injected)
    return verdict


ESCALATION = ":escalation"


def _escalates(got: Dispatch, wanted: dict[str, Dispatch]) -> bool:
    """An escalation of an expected dispatch (its id, ``:escalation`` added)."""
    base = got.dispatch_id.removesuffix(ESCALATION)
    return (got.kind == "ESCALATION" and base != got.dispatch_id and base in wanted
            and wanted[base].case_key == got.case_key)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by nearest rank; None for no values."""
    if not values:
        return None
    ranked = sorted(values)
    index = max(0, min(len(ranked) - 1, round(q * len(ranked) + 0.5) - 1))
    return ranked[index]


def recovery_times(
    faults: Sequence[tuple[str, float]], accepted: Sequence[tuple[float, str]],
    dispatched: dict[str, float],
) -> list[tuple[str, float | None]]:
    """For each fault (kind, time it struck): how long until a dispatch came for an input
    accepted at or after that time (None: none came). ``accepted`` is (time, dispatch id of
    its first expected dispatch), ``dispatched`` the time each dispatch id was first written."""
    out: list[tuple[str, float | None]] = []
    for kind, struck in faults:
        times = [dispatched[d] for t, d in accepted if t >= struck and d in dispatched]
        first = min((t for t in times if t >= struck), default=None)
        out.append((kind, None if first is None else first - struck))
    return out


def lost_after(
    faults: Sequence[tuple[str, float]], accepted: dict[str, float], lost: Iterable[str],
) -> dict[str, int]:
    """How many lost dispatches belong to inputs accepted after each kind of fault (the last
    one struck before the input was accepted; ``"before any fault"`` otherwise): where to
    look first. ``accepted`` maps a dispatch id to when its input was accepted."""
    struck = sorted(faults, key=lambda fault: fault[1])
    counts: Counter[str] = Counter()
    for dispatch_id in lost:
        at = accepted.get(dispatch_id)
        before = [kind for kind, t in struck if at is not None and t <= at]
        counts[before[-1] if before else "before any fault"] += 1
    return dict(sorted(counts.items()))


# The public alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertCase:
    """A missing-minor report with a public alert that the entry point acknowledged, and
    whether the report closing its case (FOUND) was acknowledged too."""

    case_id: str
    reference: str
    closed: bool


@dataclass(frozen=True)
class AlertMessage:
    """One CAP message read from an alert topic."""

    topic: str
    reference: str
    identifier: str
    msg_type: str  # ALERT, UPDATE, CANCEL
    sequence: int
    references: tuple[str, ...]  # identifiers of the earlier messages it references


@dataclass
class AlertVerdict:
    cases: int = 0
    closed: int = 0
    messages_read: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicates_before_dedupe: int = 0
    conflicting: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    wrong_references: list[str] = field(default_factory=list)
    unexpected_cancels: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.conflicting or self.out_of_order or self.wrong_references
                    or self.unexpected_cancels)

    def summary(self) -> str:
        problems = [(name, items) for name, items in (
            ("lost", self.lost), ("conflicting", self.conflicting),
            ("out of order", self.out_of_order), ("wrong references", self.wrong_references),
            ("cancelled but never closed", self.unexpected_cancels)) if items]
        return (
            f"{self.cases} alerted cases ({self.closed} closed), {self.messages_read} messages "
            f"read {self.by_type}; lost {len(self.lost)}, duplicates before dedupe "
            f"{self.duplicates_before_dedupe}, conflicting {len(self.conflicting)}, out of order "
            f"{len(self.out_of_order)}, wrong references {len(self.wrong_references)}, "
            f"cancelled but never closed {len(self.unexpected_cancels)}"
            + "".join(f"; e.g. {name} {items[:3]}" for name, items in problems)
        )


def check_alerts(
    expected: Iterable[AlertCase], read: Sequence[AlertMessage], topics: Sequence[str],
) -> AlertVerdict:
    """Every alerted case, on every alert topic: an ``ALERT`` (sequence 0), then ``UPDATE`` s,
    then a ``CANCEL`` if and only if its closure was acknowledged, nothing after it; sequence
    numbers 0, 1, 2... in the order the topic keeps them (one reference is on one partition);
    each message references exactly the identifiers of the ones before it. Copies of one
    identifier (re-sent after a fault) are counted and dropped as a receiver would; copies that
    differ in type or sequence are ``conflicting`` (no receiver could tell which is true)."""
    cases = {case.reference: case for case in expected}
    verdict = AlertVerdict(cases=len(cases), closed=sum(c.closed for c in cases.values()))
    first = _first_copies(cases, read, verdict)
    for reference, case in sorted(cases.items()):
        for topic in topics:
            _check_sequence(case, f"{case.case_id} in {topic}",
                            list(first.get((topic, reference), {}).values()), verdict)
    return verdict


def _first_copies(
    cases: dict[str, AlertCase], read: Sequence[AlertMessage], verdict: AlertVerdict
) -> dict[tuple[str, str], dict[str, AlertMessage]]:
    """Per (topic, reference), the first copy of each identifier, in the order read."""
    first: dict[tuple[str, str], dict[str, AlertMessage]] = defaultdict(dict)
    by_type: Counter[str] = Counter()
    for message in read:
        if message.reference not in cases:
            continue  # not an input of this run
        verdict.messages_read += 1
        seen = first[(message.topic, message.reference)]
        earlier = seen.get(message.identifier)
        if earlier is None:
            seen[message.identifier] = message
            by_type[message.msg_type] += 1
        elif (earlier.msg_type, earlier.sequence) != (message.msg_type, message.sequence):
            verdict.conflicting.append(
                f"{message.topic} {message.identifier}: {earlier.msg_type} "
                f"#{earlier.sequence} and {message.msg_type} #{message.sequence}")
        else:
            verdict.duplicates_before_dedupe += 1
    verdict.by_type = dict(sorted(by_type.items()))
    return first


def _check_sequence(
    case: AlertCase, where: str, messages: list[AlertMessage], verdict: AlertVerdict
) -> None:
    types = [m.msg_type for m in messages]
    if "ALERT" not in types:
        verdict.lost.append(f"{where}: no ALERT")
    if case.closed and "CANCEL" not in types:
        verdict.lost.append(f"{where}: closed, no CANCEL")
    if not case.closed and "CANCEL" in types:
        verdict.unexpected_cancels.append(where)
    shape = [m.sequence for m in messages] == list(range(len(messages))) and all(
        kind == ("ALERT" if n == 0 else "CANCEL" if kind == "CANCEL" else "UPDATE")
        for n, kind in enumerate(types)) and "CANCEL" not in types[:-1]
    if messages and not shape:
        verdict.out_of_order.append(f"{where}: {[f'{m.msg_type}#{m.sequence}' for m in messages]}")
    for n, message in enumerate(messages):
        if message.references != tuple(m.identifier for m in messages[:n]):
            verdict.wrong_references.append(
                f"{where}: {message.identifier} references {list(message.references)}")
