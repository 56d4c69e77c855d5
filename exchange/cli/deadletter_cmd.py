"""``exchange deadletter list|show|replay``: what the consumers could not process, and sending
it again once the cause is fixed (see :mod:`exchange.operations.deadletters`).

A dead letter's headers are whatever its record carried (any producer's bytes): everything
printed goes through :func:`_say`, which writes control, bidirectional and zero-width characters
as ``\\uXXXX`` escapes, as ``exchange tail`` does."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import datetime
from typing import Any

from exchange.cli import context
from exchange.errors import SettingsError
from exchange.models.text_rules import escape_for_terminal
from exchange.operations.deadletters import (
    DeadLetterRecord,
    Filter,
    read_dead_letters,
    replay,
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "deadletter",
        help="list, show and replay dead letters (records a consumer could not process)",
        description="Read exchange.deadletter.<agency> topics as the operator (admin), and "
        "replay records to their original topic, unchanged, once the cause is fixed.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    helps = {"list": "list dead letters (filters below)",
             "replay": "replay the dead letters that match (all checked first)"}
    for name, help_text in helps.items():
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--agency", help="only this agency's dead letters (default: all)")
        action.add_argument("--reason", help="only this error reason (e.g. handler-error)")
        action.add_argument("--topic", help="only dead letters from this original topic")
        action.add_argument(
            "--since", type=datetime.fromisoformat, metavar="TIME",
            help="only dead letters written since TIME (ISO 8601 with offset)",
        )
        action.add_argument("--json", action="store_true", help="JSON lines")
        action.set_defaults(run=_list if name == "list" else _replay)
    show = actions.add_parser("show", help="one dead letter's headers and error, by position")
    show.add_argument("where", metavar="TOPIC:PARTITION:OFFSET")
    show.set_defaults(run=_show)
    one = actions.add_parser("replay-one", help="replay one dead letter, by position")
    one.add_argument("where", metavar="TOPIC:PARTITION:OFFSET")
    one.set_defaults(run=_replay_one)


def _topics(agency: str | None) -> list[str]:
    topology = context.topology()
    agencies = [agency] if agency else [a.id for a in topology.agencies]
    return [topology.deadletter_topic(a).name for a in agencies]


def _filter(args: argparse.Namespace) -> Filter:
    if args.since is not None and args.since.tzinfo is None:
        raise SettingsError("--since", "give the time with its offset, e.g. 2026-12-06T08:00+08:00")
    return Filter(reason=args.reason, original_topic=args.topic, since=args.since)


def _selected(args: argparse.Namespace) -> list[DeadLetterRecord]:
    return list(read_dead_letters(context.kafka_as("admin"), _topics(args.agency), _filter(args)))


def _say(text: str) -> None:
    print(escape_for_terminal(text))


def _print(records: list[DeadLetterRecord], as_json: bool) -> None:
    for record in records:
        line = record.summary()
        if as_json:
            _say(json.dumps(line, ensure_ascii=False))
        else:
            _say(
                f"{line['dead_letter']:<44} {line['at'][:19]}  {line['reason']:<18} "
                f"from {line['original']:<32} {line['ce_type'] or '-'} {line['ce_id'] or ''}"
            )


def _list(args: argparse.Namespace) -> int:
    records = _selected(args)
    _print(records, args.json)
    if not args.json:
        print(f"{len(records)} dead letter(s)")
    return 0


def _position(where: str) -> tuple[str, int, int]:
    topic, _, rest = where.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    if not topic or not partition.isdigit() or not rest.isdigit():
        raise SettingsError("where", f"expected TOPIC:PARTITION:OFFSET, got {where!r}")
    return topic, int(partition), int(rest)


def _one(where: str) -> DeadLetterRecord:
    topic, partition, offset = _position(where)
    found = list(read_dead_letters(context.kafka_as("admin"), [topic],
                                   offsets={(topic, partition): offset}))  # fmt: skip
    if not found:
        raise SettingsError("where", f"no record at {where}")
    return found[0]


def _show(args: argparse.Namespace) -> int:
    record = _one(args.where)
    _say(json.dumps({**record.summary(), "headers": {
        k: v.decode(errors="replace") for k, v in record.headers
    }}, ensure_ascii=False, indent=2))  # fmt: skip
    return 0


def _by() -> str:
    return f"{getpass.getuser()} (exchange deadletter replay)"


def _report(done: list[dict[str, Any]]) -> None:
    for line in done:
        _say(f"replayed {line['from']} -> {line['to']} (ce_id {line['ce_id']})")
    print(f"{len(done)} record(s) replayed")


def _replay(args: argparse.Namespace) -> int:
    _report(replay(context.kafka_as("admin"), _selected(args), by=_by(),
                   topology=context.topology()))  # fmt: skip
    return 0


def _replay_one(args: argparse.Namespace) -> int:
    _report(replay(context.kafka_as("admin"), [_one(args.where)], by=_by(),
                   topology=context.topology()))  # fmt: skip
    return 0
