"""``exchange audit verify|case``, and the protected codec the event commands use.

Keys live in ``<state>/keys`` (:class:`~exchange.protection.keys.FileKeyStore`): ``public/``
to share with every agency, ``private/<key id>`` (mode 0600) for the agency that owns it; see
:mod:`exchange.cli.keys_cmd` for making, certifying, rotating and revoking them.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from exchange.cli import context
from exchange.codec import EventCodec
from exchange.protection.audit import AUDIT_TOPIC, AuditEntry, case_history, verify_chains
from exchange.protection.audit_kafka import read_audit
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.topology.trust import MigrationPolicy


def key_store() -> FileKeyStore:
    return FileKeyStore(context.settings().state_dir / "keys")


def protected_codec(codec: EventCodec, agency: str) -> ProtectedCodec:
    """Seal, sign, verify and open as ``agency`` with the keys of ``<state>/keys``."""
    topology = context.topology()
    topology.agency(agency)
    keys = key_store()
    verifier = Verifier(
        keys,
        writers_of=lambda topic: topology.topic(topic).writers,
        migration=MigrationPolicy(context.trust()),  # unsigned: refused unless trust.toml says
    )
    return ProtectedCodec(
        codec, keys, load_entitlements(topology=topology), agency=agency, verifier=verifier
    )


def register(commands: Any) -> None:
    audit = commands.add_parser(
        "audit",
        help="check the hash-chained audit trail; list who received what about a case",
        description=f"Reads the whole {AUDIT_TOPIC} topic (as operators unless --as is given).",
    )
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = actions.add_parser("verify", help="check every chain; report the first broken link")
    context.add_agency_option(sub, required=False)
    sub.set_defaults(run=_verify)
    sub = actions.add_parser("case", help="who published, received or quarantined what, and when")
    sub.add_argument("case", metavar="CASE_ID", help="the case key (the events' ce_subject)")
    context.add_agency_option(sub, required=False)
    sub.set_defaults(run=_case)


def _reader(args: argparse.Namespace) -> str:
    return str(args.agency or "operators")


def _entries(args: argparse.Namespace) -> list[AuditEntry]:
    partitions = context.topology().topic(AUDIT_TOPIC).partitions
    return asyncio.run(read_audit(context.kafka_as_agency(_reader(args)), partitions))


def _verify(args: argparse.Namespace) -> int:
    entries = _entries(args)
    report = verify_chains(entries)
    print(f"{report.records} record(s) in {report.chains} chain(s)")
    for broken in report.broken:
        print(f"BROKEN {broken}")
    if report.ok:
        print("every chain is intact")
        return 0
    return 1


def _case(args: argparse.Namespace) -> int:
    entries = _entries(args)
    history = case_history(entries, args.case)
    for r in history:
        opened = ",".join(r.get("categories", [])) or "-"
        print(
            f"{r.get('at')}  {r.get('agency'):20} {r.get('action'):12} {r.get('topic')}"
            f"[{r.get('partition')}]@{r.get('offset')}  {r.get('event_type')}  "
            f"id={r.get('event_id')}  decrypted={opened}  {r.get('detail') or ''}".rstrip()
        )
    print(f"{len(history)} exchange(s) about case {args.case}")
    return 0
