"""``exchange keys``: agencies make their keys where they run; the joint-meeting office
certifies, rotates out and revokes them on the bus.

On an agency's host (its private keys never leave ``<state>/keys/private``, mode 0600)::

    exchange keys init --agency police --state /srv/police      # make sig + enc key pairs
    exchange keys request --agency police --state /srv/police   # ask the office to certify
    exchange keys rotate --agency police --kind sig --request   # a new version, asked for

On the joint-meeting office's host::

    exchange keys root-init --state /srv/office                 # once; pin the fingerprint
    exchange keys certify --agency police --dry-run --state /srv/office
    exchange keys certify --agency police --state /srv/office
    exchange keys revoke police.sig.1 --reason "..." --state /srv/office

Anyone: ``exchange keys list`` (certified keys on ``exchange.keys``, checked against the root
pinned in ``topology/trust.toml``); ``--local`` lists a state folder's own keys instead.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from exchange.cli import context
from exchange.protection.certificates import RootKey, fingerprint
from exchange.protection.exceptions import KeyStoreError
from exchange.protection.key_bus import (
    certify_requests,
    read_keyring,
    request_certification,
    revoke_key,
)
from exchange.protection.keys import FileKeyStore
from exchange.topology.trust import TRUST_FILE

OFFICE = "joint-meeting-office"
ROOT_DIR = "root"


def register(commands: Any) -> None:
    keys = commands.add_parser(
        "keys",
        help="make, certify, rotate, revoke and list the agencies' signing and sealing keys",
        description=(
            "Each agency has an Ed25519 signing key (sig) and an X25519 key (enc) that receives "
            "the data keys of the fields it may read. An agency makes them on its own host "
            "(init), asks for their certification on its request topic (request); the joint-"
            "meeting office certifies them with its root key on exchange.keys (certify), which "
            "every reader follows. Rotation keeps old versions to verify and open old events; "
            "revocation makes a key fail verification everywhere."
        ),
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = _action(
        actions, "init", "agency host: make the first key pair of each kind (private halves stay)"
    )
    sub.add_argument("agencies", nargs="*", metavar="AGENCY",
                     help="development: several agencies in one folder (default: every agency)")
    _agency(sub, required=False)
    _state(sub)
    sub.set_defaults(run=_init)

    sub = _action(
        actions, "request", "agency host: ask the office to certify its public keys (on the bus)"
    )
    _agency(sub)
    sub.add_argument("--key", action="append", default=[], metavar="KEY_ID",
                     help="only this key (repeatable; default: every key not revoked)")
    _state(sub)
    sub.set_defaults(run=_request)

    sub = _action(
        actions, "rotate", "agency host: a new key version; the old one stays for old events"
    )
    _agency(sub)
    sub.add_argument("--kind", choices=("sig", "enc", "both"), default="both")
    sub.add_argument("--request", action="store_true",
                     help="also ask for the new keys' certification right away")
    _state(sub)
    sub.set_defaults(run=_rotate)

    sub = _action(
        actions, "root-init", "office host: make the root key once and print its fingerprint to pin"
    )
    _state(sub)
    sub.set_defaults(run=_root_init)

    sub = _action(
        actions, "certify", "office host: check the agencies' requests and certify their keys"
    )
    sub.add_argument("--agency", action="append", default=[], metavar="AGENCY",
                     help="only this agency's requests (repeatable; default: every agency)")
    sub.add_argument("--key", action="append", default=[], metavar="KEY_ID",
                     help="only this key (repeatable)")
    sub.add_argument("--dry-run", action="store_true",
                     help="print what would be certified, with fingerprints, and publish nothing")
    _state(sub)
    sub.set_defaults(run=_certify)

    sub = _action(
        actions, "revoke", "office host: refuse a key everywhere from now on (on the bus)"
    )
    sub.add_argument("key_id", metavar="KEY_ID", help="e.g. police.sig.1")
    sub.add_argument("--reason", default="", help="why (required, except with --local)")
    sub.add_argument("--local", action="store_true",
                     help="development: mark it revoked in the state folder's key files only")
    _state(sub)
    sub.set_defaults(run=_revoke)

    sub = _action(
        actions, "list", "certified keys on exchange.keys (or --local: a state folder's keys)"
    )
    sub.add_argument("--agency", action="append", default=[], metavar="AGENCY",
                     help="only this agency (repeatable)")
    sub.add_argument("--local", action="store_true", help="the state folder's keys instead")
    sub.add_argument("--pinned", metavar="FINGERPRINT",
                     help=f"check certificates against this root instead of {TRUST_FILE}'s")
    sub.add_argument("--as", dest="agency_as", metavar="AGENCY",
                     help="read exchange.keys as this agency (default: operators)")
    _state(sub)
    sub.set_defaults(run=_list)


def _action(actions: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=text, description=text)
    return parser


def _agency(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--agency", dest="owner", required=required, metavar="AGENCY",
                        help="the agency whose keys these are (its id in agencies.toml)")


def _state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state", type=Path, default=None, metavar="DIR",
        help="the host's state folder; keys live in DIR/keys (default: EXCHANGE_STATE_DIR)",
    )


def _keys_dir(args: argparse.Namespace) -> Path:
    return args.state / "keys" if args.state else context.settings().keys_dir


def _store(args: argparse.Namespace) -> FileKeyStore:
    return FileKeyStore(_keys_dir(args))


def _root(args: argparse.Namespace) -> RootKey:
    return RootKey.load(_keys_dir(args) / ROOT_DIR)


def _init(args: argparse.Namespace) -> int:
    agencies = [args.owner] if args.owner else args.agencies
    agencies = agencies or [a.id for a in context.topology().agencies]
    for agency in agencies:
        context.topology().agency(agency)
    store = _store(args)
    created = store.init(agencies)
    for info in created:
        print(f"created {info.key_id:32} {fingerprint(info.public)}")
    print(f"{len(created)} key(s) created in {store.root}")
    if args.owner and created:
        print(f"next: exchange keys request --agency {args.owner}  (then the office certifies)")
    return 0


def _request(args: argparse.Namespace) -> int:
    context.topology().agency(args.owner)
    asked = asyncio.run(
        request_certification(
            context.kafka_as_agency(args.owner), _store(args), args.owner, args.key
        )
    )
    for info in asked:
        print(f"requested {info.key_id:30} {fingerprint(info.public)}")
    print("tell the joint-meeting office these fingerprints by another channel to compare")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    context.topology().agency(args.owner)
    store = _store(args)
    made = []
    for kind in ("sig", "enc") if args.kind == "both" else (args.kind,):
        info = store.rotate(args.owner, kind)
        made.append(info.key_id)
        print(f"{info.key_id} made {fingerprint(info.public)}")
    if args.request:
        asyncio.run(
            request_certification(context.kafka_as_agency(args.owner), store, args.owner, made)
        )
        print(f"requested certification of {', '.join(made)}")
    else:
        print(f"next: exchange keys request --agency {args.owner} --key {made[0]} ...")
    return 0


def _root_init(args: argparse.Namespace) -> int:
    root = RootKey.create(_keys_dir(args) / ROOT_DIR)
    print(f"root key made in {_keys_dir(args) / ROOT_DIR} (keep it offline; back it up)")
    print(f"pin it in topology/{TRUST_FILE}:")
    print(f'[root]\nfingerprint = "{root.fingerprint}"\nholder = "{OFFICE}"')
    return 0


def _certify(args: argparse.Namespace) -> int:
    topology = context.topology()
    agencies = args.agency or [
        t.addressed_to for t in topology.topics
        if t.name.startswith("exchange.key-request.") and t.addressed_to
    ]  # fmt: skip
    for agency in agencies:
        topology.agency(agency)
    root = _root(args)
    report = asyncio.run(
        certify_requests(
            context.kafka_as_agency(OFFICE), root, agencies, only=args.key,
            publish=not args.dry_run,
        )
    )  # fmt: skip
    verb = "would certify" if args.dry_run else "certified"
    for info in report.certified:
        print(f"{verb} {info.key_id:30} {fingerprint(info.public)}")
    for key_id in report.already:
        print(f"already certified {key_id}")
    for refusal in report.refused:
        print(f"REFUSED {refusal}")
    print(f"{len(report.certified)} key(s) {verb}, {len(report.refused)} request(s) refused")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    if args.local:
        info = _store(args).revoke(args.key_id)
        print(f"{info.key_id} revoked in {_store(args).root}")
        return 0
    if not args.reason.strip():
        raise KeyStoreError("a revocation needs --reason (e.g. 'private key stolen on 12-05')")
    root = _root(args)  # the office's command: fail here, before connecting, elsewhere
    info = asyncio.run(
        revoke_key(context.kafka_as_agency(OFFICE), root, args.key_id, args.reason)
    )
    print(f"{info.key_id} revoked on the bus: {args.reason}")
    return 0


def _list(args: argparse.Namespace) -> int:
    wanted = set(args.agency)
    if args.local:
        store = _store(args)
        for agency in sorted(wanted) or [a.id for a in context.topology().agencies]:
            for info in store.keys_of(agency):
                print(f"{info.key_id:32} {info.status:8} created {info.created}")
        return 0
    pinned = args.pinned or context.trust().root_fingerprint
    reader = args.agency_as or "operators"
    keyring = asyncio.run(read_keyring(context.kafka_as_agency(reader), pinned))
    shown = 0
    for cert in keyring.certificates():
        if wanted and cert.agency not in wanted:
            continue
        status = keyring.info(cert.key_id).status
        why = f"  ({cert.reason})" if cert.reason else ""
        print(f"{cert.key_id:32} {status:8} {cert.fingerprint}  issued {cert.issued}{why}")
        shown += 1
    for key_id, problem in sorted(keyring.refused().items()):
        if not wanted or key_id.split(".")[0] in wanted:
            print(f"{key_id:32} REFUSED  {problem}")
    print(f"{shown} certified key(s); root {pinned or 'not pinned'}")
    return 0
