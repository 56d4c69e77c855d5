"""``exchange broker up|down|status|reset``: the local Apache Kafka broker."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

from exchange.broker.local import LocalCluster
from exchange.cli import context
from exchange.protection.keys import FileKeyStore


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "broker",
        help="run a real Apache Kafka broker locally (KRaft, SASL/SCRAM, ACLs)",
        description=(
            "Build Apache Kafka's classpath from Maven Central (cached in the state folder), "
            "format storage and run a combined broker+controller on 127.0.0.1:19092 "
            "(SASL_SSL: SCRAM-SHA-512 over TLS 1.2+; StandardAuthorizer, no ACL means deny). "
            "The first start makes a local CA and node certificates in <state>/pki (clients "
            "trust <state>/pki/ca.crt); later starts renew node certificates near their end. "
            "The admin password is kept in <state>/credentials/admin. On a development host "
            "(no root pinned in topology/trust.toml) `up` also makes every agency's signing and "
            "sealing keys in <state>/keys if missing. --nodes 3 runs a loopback cluster."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, helptext, run in (
        ("up", "start the broker (first time: download jars, format) and wait until it serves",
         _up),
        ("down", "stop the broker (data kept)", _down),
        ("status", "report whether each node runs and where it listens", _status),
        ("certs", "make the local CA and each node's certificate in <state>/pki, or renew those "
         "near their end, without starting anything (for docker-compose.kafka.yml)", _certs),
        ("reset", "stop the broker and delete its data and logs, and the local workflow worker "
         "state built from them (jars and credentials kept)", _reset),
    ):
        sub = actions.add_parser(name, help=helptext, description=helptext)
        sub.add_argument(
            "--nodes", type=int, default=1,
            help="number of combined nodes on loopback (default 1; the layout is kept from the "
            "first `up` until `reset`)",
        )
        sub.set_defaults(run=run, insecure_plaintext_listener=False)
        if name == "up":
            sub.add_argument(
                "--insecure-plaintext-listener", action="store_true",
                help="INSECURE, for debugging only: also open a plaintext (SASL_PLAINTEXT) "
                "listener on base port + 2*nodes; warns at every start",
            )


def _print_status(cluster: LocalCluster) -> int:
    statuses = cluster.status()
    for status in statuses:
        state = "serving" if status.serving else ("starting" if status.process_alive else "down")
        pid = f" pid {status.pid}" if status.pid else ""
        print(f"node {status.node_id}: {state} on {status.bootstrap}{pid}")
    print(f"state folder: {cluster.root}")
    return 0 if all(s.serving for s in statuses) else 1


def _up(args: argparse.Namespace) -> int:
    cluster = context.local_cluster(
        args.nodes, insecure_plaintext_listener=args.insecure_plaintext_listener
    )
    print("starting Apache Kafka (first run downloads its jars from Maven Central) ...",
          flush=True)
    cluster.up()
    print(f"Kafka is serving at {cluster.bootstrap} (SASL_SSL: SCRAM-SHA-512 over TLS)")
    print(f"clients trust the local CA: {cluster.pki.ca_file}")
    if args.insecure_plaintext_listener:
        print(
            "WARNING: INSECURE plaintext listener open at "
            f"{cluster.insecure_settings().bootstrap_servers}: records cross it unencrypted; "
            "restart without --insecure-plaintext-listener to close it", file=sys.stderr,
        )
    print(f"admin credentials: {cluster.credentials.directory / 'admin'}")
    _agency_keys()
    return _print_status(cluster)


def _agency_keys() -> None:
    """A development host: every agency of the topology gets its keys in <state>/keys (made
    once, like the PKI), so that every command signs, seals, verifies and opens without a step
    before. Once a root is pinned in topology/trust.toml, each agency makes its own keys on its
    own host and the office certifies them: nothing is made here."""
    if context.trust().root_fingerprint is not None:
        print("agency keys: a root is pinned in topology/trust.toml; each agency runs "
              "`exchange keys init --agency A` and `exchange keys request` on its own host")
        return
    store = FileKeyStore(context.settings().state_dir / "keys")
    created = store.init([a.id for a in context.topology().agencies])
    state = f"{len(created)} made" if created else "kept"
    print(f"agency keys (development, one shared folder): {state} in {store.root}")


def _certs(args: argparse.Namespace) -> int:
    cluster = context.local_cluster(args.nodes)
    print(f"local CA: {cluster.pki.ca_file}")
    for issued in cluster.certificates():
        state = "issued" if issued.renewed else "kept"
        print(f"{state} {issued.path} (valid until {issued.not_after:%Y-%m-%d}, names "
              f"{', '.join(issued.names)})")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = context.local_cluster(args.nodes).down()
    print(f"stopped node(s): {', '.join(map(str, stopped))}" if stopped else "nothing was running")
    return 0


def _status(args: argparse.Namespace) -> int:
    return _print_status(context.local_cluster(args.nodes))


WORKER_STATE = ("worker", "demo-worker")
"""The workflow workers' local table state under the state folder: a copy of the broker's
changelogs, meaningless (and refused by faust) once the broker's data is gone."""


def _reset(args: argparse.Namespace) -> int:
    cluster = context.local_cluster(args.nodes)
    cluster.reset()
    print(f"broker stopped and its data deleted under {cluster.root}")
    for name in WORKER_STATE:
        folder = context.settings().state_dir / name
        if folder.exists():
            shutil.rmtree(folder)
            print(f"workflow worker state deleted: {folder}")
    return 0
