"""The checker's verdicts on hand-made outputs (the run that feeds it real ones is
test_short_run.py)."""

from __future__ import annotations

from dataclasses import astuple

from support.nemesis.checker import (
    AlertCase,
    AlertMessage,
    Dispatch,
    Expected,
    check,
    check_alerts,
    lost_after,
    percentile,
    recovery_times,
)


def street(case: str, via: str = "publisher") -> Expected:
    return Expected(case, f"{case}-id", via, (
        Dispatch("police", case, f"{case}-id:respond", "RESPOND", "police.yanta"),
    ))


def train(case: str) -> Expected:
    return Expected(case, f"{case}-id", "gateway", (
        Dispatch("railway-police", case, f"{case}-id:respond", "RESPOND", "rp.north"),
        Dispatch("railway-police", case, f"{case}-id:intercept", "INTERCEPT", "railway-police"),
    ))


def test_everything_once_in_order_is_clean() -> None:
    expected = [street("a"), train("b")]
    read = [d for e in expected for d in e.dispatches]
    verdict = check(expected, read)
    assert verdict.clean, verdict.summary()
    assert (verdict.inputs, verdict.expected_outputs, verdict.outputs_read) == (2, 3, 3)
    assert verdict.inputs_by_path == {"gateway": 1, "publisher": 1}


def test_a_missing_dispatch_is_lost() -> None:
    expected = [street("a"), train("b")]
    read = [*street("a").dispatches, train("b").dispatches[0]]
    verdict = check(expected, read)
    assert verdict.lost == ["b-id:intercept"]
    assert not verdict.clean


def test_copies_of_one_id_are_duplicates_before_dedupe_only() -> None:
    a = street("a").dispatches[0]
    verdict = check([street("a")], [a, a, a])
    assert verdict.duplicates_before_dedupe == 2
    assert verdict.clean


def test_a_second_id_for_one_case_is_a_duplicate_after_dedupe() -> None:
    extra = Dispatch("police", "a", "other-id:respond", "RESPOND", "police.yanta")
    verdict = check([street("a")], [*street("a").dispatches, extra])
    assert verdict.duplicates_after_dedupe == ["a: other-id:respond"]
    assert not verdict.clean


def test_an_escalation_of_an_unacknowledged_dispatch_is_counted_once_not_a_duplicate() -> None:
    escalation = Dispatch("police", "a", "a-id:respond:escalation", "ESCALATION", "police")
    verdict = check([street("a")], [*street("a").dispatches, escalation, escalation])
    assert verdict.clean, verdict.summary()
    assert (verdict.escalations, verdict.duplicates_before_dedupe) == (1, 1)
    twice = Dispatch("police", "a", "a-id:respond:escalation:escalation", "ESCALATION", "x")
    other = Dispatch("police", "a", "b-id:respond:escalation", "ESCALATION", "police")
    bad = check([street("a")], [*street("a").dispatches, twice, other])
    assert len(bad.duplicates_after_dedupe) == 2


def test_a_dispatch_to_the_wrong_unit_is_misrouted() -> None:
    wrong = Dispatch("police", "a", "a-id:respond", "RESPOND", "police.beilin")
    verdict = check([street("a")], [wrong])
    assert len(verdict.misrouted) == 1
    assert "police.beilin" in verdict.misrouted[0]
    assert verdict.lost == []  # read, but wrong: counted once, as misrouted


def test_intercept_before_respond_is_out_of_order_but_a_late_copy_is_not() -> None:
    respond, intercept = train("b").dispatches
    assert check([train("b")], [intercept, respond]).out_of_order
    assert check([train("b")], [respond, intercept, respond]).clean


def test_outputs_of_cases_outside_the_run_are_ignored() -> None:
    other = Dispatch("police", "z", "z-id:respond", "RESPOND", "police.yanta")
    assert check([street("a")], [*street("a").dispatches, other]).clean


def test_dead_letters_must_equal_the_poison() -> None:
    p1, p2, other = "poison-1", "poison-2", "exchange.sighting[1]@3 key=SGT-1"
    good = check([], [], poison=[p1, p2], dead_letters=[p1, p2, p2])
    assert good.clean
    assert good.poison_dead_lettered == 2
    bad = check([], [], poison=[p1, p2], dead_letters=[p1, other])
    assert bad.poison_missing == [p2]
    assert bad.unexpected_dead_letters == [other]
    assert not bad.clean


def test_percentile_by_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 1.0) == 4.0
    assert percentile([5.0], 0.5) == 5.0


def test_recovery_is_the_first_dispatch_of_an_input_accepted_after_the_fault() -> None:
    accepted = [(1.0, "x"), (11.0, "y"), (12.0, "z")]
    dispatched = {"x": 2.0, "y": 17.0, "z": 14.0}
    got = recovery_times([("kill", 10.0), ("late", 20.0)], accepted, dispatched)
    assert got == [("kill", 4.0), ("late", None)]


def test_lost_dispatches_are_counted_by_the_fault_struck_last_before_their_input() -> None:
    faults = [("worker-kill", 100.0), ("leader-kill", 200.0)]
    accepted = {"a:respond": 50.0, "b:respond": 150.0, "c:respond": 250.0, "d:respond": 260.0}
    assert lost_after(faults, accepted, ["a:respond", "b:respond", "c:respond", "d:respond"]) == {
        "before any fault": 1, "leader-kill": 2, "worker-kill": 1,
    }
    assert lost_after(faults, accepted, []) == {}


# The public alerts ------------------------------------------------------------------------------

TOPICS = ("exchange.public-alert", "exchange.alert.to.transport")


def alert(n: int, kind: str, *, ref: str = "R1", topic: str = TOPICS[0],
          references: tuple[str, ...] | None = None) -> AlertMessage:
    earlier = tuple(f"{ref}.{k}" for k in range(n)) if references is None else references
    return AlertMessage(topic, ref, f"{ref}.{n}", kind, n, earlier)


def both(*messages: AlertMessage) -> list[AlertMessage]:
    return [*messages, *(AlertMessage(TOPICS[1], *astuple(m)[1:]) for m in messages)]


def test_alert_updates_cancel_with_their_references_is_clean() -> None:
    verdict = check_alerts([AlertCase("C1", "R1", closed=True)],
                           both(alert(0, "ALERT"), alert(1, "UPDATE"), alert(2, "CANCEL")), TOPICS)
    assert verdict.clean, verdict.summary()
    assert verdict.by_type == {"ALERT": 2, "CANCEL": 2, "UPDATE": 2}


def test_an_open_case_needs_its_alert_and_no_cancel() -> None:
    assert check_alerts([AlertCase("C1", "R1", closed=False)], both(alert(0, "ALERT")),
                        TOPICS).clean
    verdict = check_alerts([AlertCase("C1", "R1", closed=False)],
                           both(alert(0, "ALERT"), alert(1, "CANCEL")), TOPICS)
    assert verdict.unexpected_cancels == [f"C1 in {TOPICS[0]}", f"C1 in {TOPICS[1]}"]


def test_a_missing_alert_or_cancel_is_lost_per_topic() -> None:
    verdict = check_alerts([AlertCase("C1", "R1", closed=True)],
                           [alert(0, "ALERT"), alert(1, "CANCEL")], TOPICS)
    assert verdict.lost == [f"C1 in {TOPICS[1]}: no ALERT", f"C1 in {TOPICS[1]}: closed, no CANCEL"]


def test_a_copy_is_a_duplicate_but_a_different_message_under_one_identifier_conflicts() -> None:
    copies = both(alert(0, "ALERT"), alert(0, "ALERT"), alert(1, "CANCEL"))
    verdict = check_alerts([AlertCase("C1", "R1", closed=True)], copies, TOPICS)
    assert verdict.clean
    assert verdict.duplicates_before_dedupe == 2
    raced = both(alert(0, "ALERT"), alert(1, "UPDATE"), alert(1, "CANCEL"))
    verdict = check_alerts([AlertCase("C1", "R1", closed=True)], raced, TOPICS)
    assert len(verdict.conflicting) == 2
    assert not verdict.clean


def test_a_gap_a_message_after_the_cancel_or_an_update_first_is_out_of_order() -> None:
    case = [AlertCase("C1", "R1", closed=True)]
    gap = [alert(0, "ALERT"), alert(2, "CANCEL")]
    after = [alert(0, "ALERT"), alert(1, "CANCEL"), alert(2, "UPDATE")]
    update_first = [alert(0, "UPDATE"), alert(1, "CANCEL")]
    for messages in (gap, after, update_first):
        verdict = check_alerts(case, messages, TOPICS[:1])
        assert len(verdict.out_of_order) == 1, messages


def test_a_message_must_reference_every_earlier_one() -> None:
    messages = [alert(0, "ALERT"), alert(1, "UPDATE"), alert(2, "CANCEL", references=("R1.1",))]
    verdict = check_alerts([AlertCase("C1", "R1", closed=True)], messages, TOPICS[:1])
    assert verdict.wrong_references == [f"C1 in {TOPICS[0]}: R1.2 references ['R1.1']"]


def test_alerts_of_cases_outside_the_run_are_ignored() -> None:
    verdict = check_alerts([], [alert(0, "UPDATE", ref="other")], TOPICS)
    assert verdict.clean
    assert verdict.messages_read == 0
