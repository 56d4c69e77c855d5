"""``exchange publish referral`` refuses, before connecting, a referral to another agency's
inbox or to an addressee without one: one line per field error, no ``--topic`` advice."""

from __future__ import annotations

import json
from pathlib import Path

from exchange.examples import example_json
from tests.cli.test_cli import run_cli

# An unreachable broker: if anything were sent, the command would hang or fail there.
NO_BROKER = {"EXCHANGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9"}


def test_a_referral_sent_to_another_agencys_inbox_is_refused(tmp_path: Path) -> None:
    referral = example_json("referral")
    referral["toAgency"] = {"agencyId": "civil-affairs"}
    done = run_cli(
        "publish", "referral", "-", "--as", "police", "--topic", "exchange.referral.to.health",
        stdin=json.dumps(referral), env={**NO_BROKER, "EXCHANGE_STATE_DIR": str(tmp_path)},
    )
    assert done.returncode == 1, done.stderr
    assert "refused, nothing sent" in done.stderr
    assert "toAgency.agencyId" in done.stderr
    assert "[addressee_topic]" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_referral_to_an_unknown_agency_is_a_field_error(tmp_path: Path) -> None:
    referral = example_json("referral")
    referral["toAgency"] = {"agencyId": "no-such-agency"}
    done = run_cli(
        "publish", "referral", "-", "--as", "police", stdin=json.dumps(referral),
        env={**NO_BROKER, "EXCHANGE_STATE_DIR": str(tmp_path)},
    )
    assert done.returncode == 1, done.stderr
    assert "toAgency.agencyId" in done.stderr
    assert "[unknown_addressee]" in done.stderr
    assert "--topic" not in done.stderr


def test_a_body_or_source_naming_another_sender_is_refused(tmp_path: Path) -> None:
    sighting = example_json("transport-sighting")  # reporter: transport
    env = {**NO_BROKER, "EXCHANGE_STATE_DIR": str(tmp_path)}
    done = run_cli("publish", "transport-sighting", "-", "--as", "railway-police",
                   stdin=json.dumps(sighting), env=env)
    assert done.returncode == 1, done.stderr
    assert "reporter.agencyId" in done.stderr
    assert "[sender_identity]" in done.stderr
    done = run_cli("publish", "transport-sighting", "-", "--as", "transport",
                   "--source", "/agencies/police/cli", stdin=json.dumps(sighting), env=env)
    assert done.returncode == 1, done.stderr
    assert "ce_source" in done.stderr
    assert "Traceback" not in done.stderr
