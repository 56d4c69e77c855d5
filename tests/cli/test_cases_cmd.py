"""``exchange cases cold`` text: times a person reads are Beijing time with the zone named,
whatever offset the ledger carries (Avro gives UTC back)."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange.cli.cases_cmd import _line
from exchange.examples.cold_cases import example_cold_case


def test_the_ledger_text_is_in_beijing_time() -> None:
    case = example_cold_case()
    as_read = case.model_copy(update={  # as decoded from Avro: the same instants in UTC
        "lastReviewAt": case.lastReviewAt.astimezone(UTC) if case.lastReviewAt else None,
        "nextReviewDue": case.nextReviewDue.astimezone(UTC),
        "leads": tuple(lead.model_copy(update={"at": lead.at.astimezone(UTC)})
                       for lead in case.leads),
    })
    text = _line(as_read, datetime(2025, 8, 20, tzinfo=UTC))
    assert "last review 2025-08-01 10:00 (Beijing time, UTC+08:00)" in text
    assert "next due 2025-08-31 10:00 (Beijing time, UTC+08:00)" in text
    assert "+ 2025-08-12 09:00 (Beijing time, UTC+08:00) SIGHTING_MATCH" in text
    assert "+00:00" not in text
