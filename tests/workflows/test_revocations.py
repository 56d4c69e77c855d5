"""When a revoked intermediary named by an event raises an alert (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from exchange.models.intermediaries import IntermediaryAction
from exchange.workflows.revocations import Revoked, named_alert

CODE = "91610104MA7B3CRQ1H"
REVOKED = Revoked("西市监罚〔2025〕0173号", IntermediaryAction.REVOKED, date(2025, 6, 1))  # noqa: RUF001
NOW = datetime(2025, 6, 3, tzinfo=UTC)


def test_an_event_on_or_after_the_effective_date_is_alerted() -> None:
    # 2025-05-31 17:00 UTC is 2025-06-01 01:00 in Xi'an: the decision is in effect
    alert = named_alert(CODE, REVOKED, what="job placement", ref="PL-1", case_id=None,
                        when=datetime(2025, 5, 31, 17, 0, tzinfo=UTC), now=NOW)
    assert alert is not None
    assert alert.alertId == f"{CODE}:PL-1"
    assert {a.agencyId for a in alert.addressedTo} == {"market-regulation", "police"}
    assert alert.reason.startswith(f"job placement PL-1 names intermediary {CODE}, revoked by")
    assert "Art. 7" in alert.reason


def test_an_event_before_the_decision_took_effect_is_not() -> None:
    assert named_alert(CODE, REVOKED, what="public tip", ref="T-1", case_id=None,
                       when=datetime(2025, 5, 31, 15, 0, tzinfo=UTC), now=NOW) is None


def test_table_entry_roundtrip() -> None:
    assert Revoked.loads(REVOKED.dumps()) == REVOKED
