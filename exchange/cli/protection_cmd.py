"""``exchange keys init|rotate|revoke|list`` and ``exchange audit verify|case``.

Keys live in ``<state>/keys`` (:class:`~exchange.protection.keys.FileKeyStore`): ``public/``
to share with every agency, ``private/<key id>`` (mode 0600) for the agency that owns it.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from exchange.cli import context, evidence_cmd
from exchange.codec import EventCodec
from exchange.evidence.anchors import ANCHOR_KIND
from exchange.evidence.chains import verify_anchored
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.protection.audit import AUDIT_TOPIC, AuditEntry, case_history
from exchange.protection.audit_kafka import read_audit
from exchange.protection.entitlements import load_entitlements
from exchange.protection.keys import FileKeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier


def key_store() -> FileKeyStore:
    return FileKeyStore(context.settings().state_dir / "keys")


def protected_codec(codec: EventCodec, agency: str) -> ProtectedCodec:
    """Seal, sign, verify and open as ``agency`` with the keys of ``<state>/keys``."""
    topology = context.topology()
    topology.agency(agency)
    keys = key_store()
    verifier = Verifier(keys, writers_of=lambda topic: topology.topic(topic).writers)
    return ProtectedCodec(
        codec, keys, load_entitlements(topology=topology), agency=agency, verifier=verifier
    )


def register(commands: Any) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, rotate, revoke and list the agencies' signing and encryption keys",
        description=(
            "Each agency has an Ed25519 signing key (sig) and an X25519 key (enc) that receives "
            "the data keys of the fields it may read. Rotation keeps old versions to open old "
            "events; revocation makes a signing key fail verification."
        ),
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = actions.add_parser("init", help="give every agency without keys a first version")
    sub.add_argument("agencies", nargs="*", metavar="AGENCY", help="default: every agency")
    sub.set_defaults(run=_init)
    sub = actions.add_parser(
        "rotate", help="a new active key; the old one stays to open old events"
    )
    sub.add_argument("agency", metavar="AGENCY")
    sub.add_argument("--kind", choices=("sig", "enc", "both"), default="both")
    sub.set_defaults(run=_rotate)
    sub = actions.add_parser("revoke", help="refuse events signed with this key from now on")
    sub.add_argument("key_id", metavar="KEY_ID", help="e.g. police.sig.1")
    sub.set_defaults(run=_revoke)
    sub = actions.add_parser("list", help="key ids, kinds and status")
    sub.add_argument("agencies", nargs="*", metavar="AGENCY")
    sub.set_defaults(run=_list)

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
    evidence_cmd.add_audit_actions(actions)


def _init(args: argparse.Namespace) -> int:
    agencies = args.agencies or [a.id for a in context.topology().agencies]
    for agency in agencies:
        context.topology().agency(agency)
    created = key_store().init(agencies)
    for info in created:
        print(f"created {info.key_id}")
    print(f"{len(created)} key(s) created in {key_store().root}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    store = key_store()
    context.topology().agency(args.agency)
    for kind in ("sig", "enc") if args.kind == "both" else (args.kind,):
        info = store.rotate(args.agency, kind)
        print(f"{info.key_id} is now active")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    info = key_store().revoke(args.key_id)
    print(f"{info.key_id} revoked")
    return 0


def _list(args: argparse.Namespace) -> int:
    store = key_store()
    agencies = args.agencies or [a.id for a in context.topology().agencies]
    for agency in agencies:
        for info in store.keys_of(agency):
            print(f"{info.key_id:32} {info.status:8} created {info.created}")
    return 0


def _reader(args: argparse.Namespace) -> str:
    return str(args.agency or "operators")


def _entries(args: argparse.Namespace) -> list[AuditEntry]:
    partitions = context.topology().topic(AUDIT_TOPIC).partitions
    return asyncio.run(read_audit(context.kafka_as_agency(_reader(args)), partitions))


def _verify(args: argparse.Namespace) -> int:
    """Every chain against its signed checkpoints, those on the audit topic and those the
    notary anchored (:func:`exchange.evidence.chains.verify_anchored`)."""
    entries = _entries(args)
    partitions = context.topology().topic(NOTARY_TOPIC).partitions
    anchors = asyncio.run(
        read_audit(context.kafka_as_agency(_reader(args)), partitions, topic=NOTARY_TOPIC)
    )
    notarised = [
        c for e in anchors if e.record.get("kind") == ANCHOR_KIND
        for c in e.record.get("checkpoints", [])
    ]
    report = verify_anchored(entries, key_store(), notarised)
    print(f"{report.records} record(s) in {len(report.chains)} chain(s)")
    for finding in report.breaks:
        print(f"BROKEN {finding.kind} {finding.chain} at seq {finding.seq}: {finding.detail}")
    for finding in report.of("duplicate"):
        print(f"duplicate (not a break) {finding.chain} at seq {finding.seq}: {finding.detail}")
    waiting = report.of("unanchored")
    if waiting:
        print(f"{len(waiting)} chain(s) have records after their last checkpoint (not signed yet)")
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
