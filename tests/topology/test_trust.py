"""trust.toml: the pinned root and the migration exceptions for unsigned events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from exchange.topology.exceptions import TopologyFileError
from exchange.topology.loader import load_topology
from exchange.topology.trust import MigrationPolicy, Trust, load_trust

PIN = "SHA256:" + "ab" * 32


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "trust.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_repositorys_trust_file_loads_and_refuses_unsigned_events_by_default() -> None:
    trust = load_trust(topology=load_topology())
    assert trust.unsigned == ()
    refusal = trust.unsigned_refusal("exchange.sighting", "transport", date(2026, 12, 6))
    assert refusal is not None
    assert "no migration exception" in refusal


def test_an_exception_applies_up_to_its_last_day_and_not_after(tmp_path: Path) -> None:
    root = write(tmp_path, f'''
[root]
fingerprint = "{PIN}"

[[unsigned]]
source = "market-regulation"
topic = "exchange.intermediary-revocation"
reason = "legacy licence exporter"
until = 2027-03-31
''')
    trust = load_trust(root, load_topology())
    assert trust.root_fingerprint == PIN
    topic = "exchange.intermediary-revocation"
    assert trust.unsigned_refusal(topic, "market-regulation", date(2027, 3, 31)) is None
    after = trust.unsigned_refusal(topic, "market-regulation", date(2027, 4, 1))
    assert after is not None
    assert "ended on 2027-03-31" in after
    assert trust.unsigned_refusal(topic, "police", date(2027, 1, 1)) is not None
    assert trust.unsigned_refusal("exchange.sighting", "market-regulation", date(2027, 1, 1))
    assert "[in force]" in trust.render(date(2027, 3, 31))
    assert "[EXPIRED]" in trust.render(date(2027, 4, 1))
    clock = MigrationPolicy(trust, lambda: datetime(2027, 4, 1, 0, 0, 1, tzinfo=UTC))
    assert clock.refusal(topic, "market-regulation") is not None
    assert "none" in Trust(None).render(date(2027, 1, 1))


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('[[unsigned]]\ntopic = "exchange.sighting"\nuntil = 2027-01-01\n', "unsigned[0].reason"),
        ('[[unsigned]]\ntopic = "exchange.sighting"\nreason = "x"\n', "unsigned[0].until"),
        ('[[unsigned]]\ntopic = "exchange.sighting"\nreason = "x"\nuntil = "soon"\n',
         "unsigned[0].until"),
        ('[[unsigned]]\nreason = "x"\nuntil = 2027-01-01\n', "needs a topic, a source"),
        ('[[unsigned]]\ntopic = "exchange.nothing"\nreason = "x"\nuntil = 2027-01-01\n',
         "no topic 'exchange.nothing'"),
        ('[[unsigned]]\nsource = "nobody"\nreason = "x"\nuntil = 2027-01-01\n', "no agency"),
        ('[[unsigned]]\ntopic = "exchange.sighting"\nreason = "x"\nuntil = 2027-01-01\nby = 1\n',
         "unsigned[0].by"),
        ('[root]\nfingerprint = "abc"\n', "root.fingerprint"),
    ],
)
def test_bad_entries_name_the_field_and_rule(tmp_path: Path, body: str, where: str) -> None:
    with pytest.raises(TopologyFileError, match=where.replace("[", r"\[").replace("]", r"\]")):
        load_trust(write(tmp_path, body), load_topology())
