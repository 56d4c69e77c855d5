"""``exchange audit verify|case``, and the protection every command of the bus uses.

Every command that publishes or reads events is protected (:func:`protection_for`): it seals
and signs, verifies and opens as its agency. ``--unprotected`` (:func:`add_unprotected_option`)
is the one way out, for measurements and debugging, and it warns on every start.

An agency's private keys live in ``<state>/keys/private`` (mode 0600). Its readers' public
keys come from ``exchange.keys`` once the joint-meeting office's root is pinned in
``topology/trust.toml``; until then (a development host) from ``<state>/keys/public``, which
``exchange broker up`` fills for every agency of the topology. See
:mod:`exchange.cli.keys_cmd` for making, certifying, rotating and revoking them.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import sys
from typing import Any

from exchange.cli import context, evidence_cmd
from exchange.codec import EventCodec
from exchange.evidence.anchors import ANCHOR_KIND
from exchange.evidence.chains import verify_anchored
from exchange.evidence.guard import NOTARY_TOPIC
from exchange.protection.audit import AUDIT_TOPIC, AuditEntry, case_history
from exchange.protection.audit_kafka import read_audit
from exchange.protection.entitlements import load_entitlements
from exchange.protection.exceptions import KeyStoreError, UnknownKeyError
from exchange.protection.key_bus import KeyFollowerThread
from exchange.protection.keyring import Keyring
from exchange.protection.keys import KINDS, FileKeyStore, KeyStore
from exchange.protection.protected import ProtectedCodec
from exchange.protection.signing import Verifier
from exchange.protection.unprotected import Unprotected
from exchange.topology.trust import MigrationPolicy


def key_store() -> FileKeyStore:
    return FileKeyStore(context.settings().keys_dir)


def check_own_keys(store: FileKeyStore, agency: str) -> None:
    """One line naming the command to run when ``agency`` has no keys of its own here."""
    for kind in KINDS:
        try:
            store.active(agency, kind)
        except UnknownKeyError:
            raise KeyStoreError(
                f"agency {agency!r} has no active {kind} key in {store.root}: run "
                f"`exchange keys init --agency {agency}` (a development host: `exchange broker "
                "up` makes every agency's)"
            ) from None


def key_store_for(agency: str) -> KeyStore:
    """``agency``'s key store. With a root pinned in ``topology/trust.toml``: public keys
    learned from ``exchange.keys`` (read to its end now, then followed in a background thread
    as ``agency``) and private keys from ``<state>/keys``; without one, the development folder
    ``<state>/keys`` for everything."""
    local = key_store()
    check_own_keys(local, agency)
    pinned = context.trust().root_fingerprint
    if pinned is None:
        return local
    follower = KeyFollowerThread(context.kafka_as_agency(agency), Keyring(pinned, local))
    follower.start()
    if not _FOLLOWERS:
        atexit.register(stop_key_followers)
    _FOLLOWERS.append(follower)
    return follower.keyring


_FOLLOWERS: list[KeyFollowerThread] = []


def stop_key_followers() -> None:
    """Stop the followers :func:`key_store_for` started (at exit, or when a caller is done)."""
    while _FOLLOWERS:
        _FOLLOWERS.pop().stop()


def protected_codec(codec: EventCodec, agency: str) -> ProtectedCodec:
    """Seal, sign, verify and open as ``agency`` with its keys (:func:`key_store_for`)."""
    topology = context.topology()
    topology.agency(agency)
    keys = key_store_for(agency)
    verifier = Verifier(
        keys,
        writers_of=lambda topic: topology.topic(topic).writers,
        migration=MigrationPolicy(context.trust()),  # unsigned: refused unless trust.toml says
    )
    return ProtectedCodec(
        codec, keys, load_entitlements(topology=topology), agency=agency, verifier=verifier
    )


UNPROTECTED_HELP = (
    "INSECURE, for measurements and debugging only: send events unsigned and unsealed and read "
    "them unverified (nothing is quarantined); warns at every start"
)


def add_unprotected_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unprotected", action="store_true", help=UNPROTECTED_HELP)


def protection_for(
    codec: EventCodec, agency: str, *, unprotected: bool = False
) -> ProtectedCodec | Unprotected:
    """``agency``'s protected codec, or, with ``unprotected`` (the ``--unprotected`` flag), the
    insecure mode, announced on stderr."""
    if unprotected:
        print(
            f"WARNING: INSECURE: --unprotected: {agency!r} sends and reads events unsigned, "
            "unsealed and unverified; never use it with real data", file=sys.stderr,
        )
        return Unprotected("--unprotected on the command line")
    return protected_codec(codec, agency)


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
    evidence_cmd.add_audit_actions(actions)


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
