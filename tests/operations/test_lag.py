"""Lag in records and seconds from offsets alone (kafka-lag-exporter's interpolation)."""

from __future__ import annotations

import pytest

from exchange.operations.lag import Member, OffsetHistory, group_lags

TP = ("exchange.sighting", 0)


def test_lag_seconds_interpolates_when_the_first_unconsumed_record_was_written() -> None:
    history = OffsetHistory()
    history.observe(TP, 100, at=1000.0)
    history.observe(TP, 200, at=1100.0)
    # Record 150 was written half-way between the two polls.
    assert history.lag_seconds(TP, committed=150, latest=200, now=1130.0) == pytest.approx(80.0)
    assert history.lag_seconds(TP, committed=200, latest=200, now=1130.0) == 0.0


def test_an_unchanged_offset_keeps_the_time_it_was_first_seen() -> None:
    history = OffsetHistory()
    history.observe(TP, 50, at=10.0)
    history.observe(TP, 50, at=20.0)
    history.observe(TP, 50, at=30.0)
    # A group stuck at 40 is at least as old as the first time 50 was the end of the log.
    assert history.lag_seconds(TP, committed=40, latest=50, now=100.0) == pytest.approx(90.0)


def test_a_stuck_group_older_than_the_table_grows_with_time() -> None:
    history = OffsetHistory(size=2)
    for i in range(5):
        history.observe(TP, 10 * (i + 1), at=float(i))
    assert history.lag_seconds(TP, committed=5, latest=50, now=10.0) == pytest.approx(7.0)
    assert history.lag_seconds(TP, committed=5, latest=50, now=20.0) == pytest.approx(17.0)


def test_a_recreated_topic_starts_a_new_table() -> None:
    history = OffsetHistory()
    history.observe(TP, 500, at=0.0)
    history.observe(TP, 3, at=50.0)
    assert history.lag_seconds(TP, committed=1, latest=3, now=60.0) == pytest.approx(10.0)


def test_no_history_means_no_seconds_yet() -> None:
    assert OffsetHistory().lag_seconds(TP, committed=1, latest=3, now=60.0) == 0.0


def test_group_lags_per_partition_and_per_group() -> None:
    history = OffsetHistory()
    other = ("exchange.rescue", 2)
    history.observe(TP, 10, at=0.0)
    history.observe(TP, 20, at=10.0)
    history.observe(other, 7, at=0.0)
    member = Member("127.0.0.1", "consumer-1", "exchange")
    [group] = group_lags(
        {"workflows.main": {TP: 15, other: 7, ("gone", 0): 3}},
        {TP: 20, other: 7}, history, now=20.0,
        members={"workflows.main": {TP: member}},
    )
    by_topic = {p.topic: p for p in group.partitions}
    assert set(by_topic) == {"exchange.sighting", "exchange.rescue"}  # a deleted topic left out
    assert by_topic["exchange.sighting"].lag == 5
    assert by_topic["exchange.sighting"].lag_seconds == pytest.approx(15.0)
    assert by_topic["exchange.sighting"].member == member
    assert by_topic["exchange.rescue"].lag == 0
    assert by_topic["exchange.rescue"].member == Member()
    assert (group.max_lag, group.sum_lag) == (5, 5)
    assert group.max_lag_seconds == pytest.approx(15.0)
    assert group.topic_sum_lag() == {"exchange.sighting": 5, "exchange.rescue": 0}
