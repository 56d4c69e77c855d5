"""The ``exchange`` command: run the local broker, provision the topology, publish and read events.

Typical first session on a fresh machine::

    exchange broker up                       # real Kafka 4.x on 127.0.0.1:19092 (SCRAM)
    exchange topology apply --replication 1  # topics, agency principals, ACLs
    exchange example transport-sighting > s.json
    exchange publish transport-sighting s.json --as transport
    exchange tail exchange.sighting --as police --max 1

Settings come from the environment (``EXCHANGE_KAFKA__BOOTSTRAP_SERVERS``,
``EXCHANGE_KAFKA__USERNAME``, ``EXCHANGE_KAFKA__PASSWORD``, ``EXCHANGE_STATE_DIR``, ...); see
``exchange.settings``.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from aiokafka.errors import KafkaError

from exchange.cli import (
    asyncapi_cmd,
    broker_cmd,
    deadletter_cmd,
    doctor_cmd,
    events_cmd,
    evidence_cmd,
    keys_cmd,
    monitor_cmd,
    monitoring_cmd,
    protection_cmd,
    referrals_cmd,
    report_cmd,
    schemas_cmd,
    topology_cmd,
    worker_cmd,
)
from exchange.client.exceptions import KafkaClientError
from exchange.errors import ExchangeError

COMMANDS_GROUP = "exchange.commands"
"""Entry-point group of packages that add subcommands: each names a ``register(subparsers)``
function (the connectors package adds ``exchange connect`` so; the library never imports it)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exchange",
        description=(
            "Inter-agency exchange bus for anti-trafficking work: agencies publish standardized "
            "Avro events to Kafka; each reads only what is addressed to it."
        ),
        epilog=(
            "Start here: `exchange broker up`, then `exchange topology apply --replication 1`, "
            "then `exchange demo`. Each subcommand has --help."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    broker_cmd.register(commands)
    topology_cmd.register(commands)
    schemas_cmd.register(commands)
    events_cmd.register(commands)
    worker_cmd.register(commands)
    keys_cmd.register(commands)
    protection_cmd.register(commands)
    referrals_cmd.register(commands)
    report_cmd.register(commands)
    asyncapi_cmd.register(commands)
    evidence_cmd.register(commands)
    monitor_cmd.register(commands)
    monitoring_cmd.register(commands)
    deadletter_cmd.register(commands)
    doctor_cmd.register(commands)
    for plugin in entry_points(group=COMMANDS_GROUP):
        register: Callable[[Any], None] = plugin.load()
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # keep output and warnings in order
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # The Kafka clients log every retry; the command reports the outcome itself.
        for name in ("kafka", "aiokafka"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        code: int = args.run(args)
    except ExchangeError as error:
        print(f"exchange: error: {error}", file=sys.stderr)
        return 2
    except KafkaError as error:  # one no command translated (exchange.client.translate)
        print(f"exchange: error: {KafkaClientError(error)}", file=sys.stderr)
        return 2
    except OSError as error:  # a file or socket the command could not use
        where = f"{error.filename}: " if error.filename else ""
        print(f"exchange: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
