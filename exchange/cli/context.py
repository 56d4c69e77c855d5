"""What every subcommand needs: settings from the environment, the topology, credentials.

This is the only place (with the process entry points) that reads environment variables.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from functools import cache

from exchange.broker.local import LocalCluster
from exchange.credentials import CredentialStore
from exchange.errors import SettingsError
from exchange.settings import LOCAL_BOOTSTRAP, ExchangeSettings, KafkaSettings
from exchange.topology.loader import load_topology
from exchange.topology.model import Topology
from exchange.topology.trust import Trust, load_trust

OPERATORS = "operators"
"""The operators' agency id (``topology/agencies.toml``): ``exchange monitor`` and ``exchange
doctor`` run as its principal, which may describe the cluster but read no record."""


@cache
def settings() -> ExchangeSettings:
    return ExchangeSettings()


@cache
def topology() -> Topology:
    return load_topology()


@cache
def trust() -> Trust:
    """``topology/trust.toml``: the pinned root and the migration exceptions; the root is
    replaced by ``EXCHANGE_KEYS__PINNED_ROOT`` when that is set."""
    found = load_trust(topology=topology())
    pinned = settings().keys.pinned_root
    return found if pinned is None else replace(found, root_fingerprint=pinned)


def credentials() -> CredentialStore:
    return CredentialStore(settings().credentials_dir)


def local_cluster(nodes: int = 1, *, insecure_plaintext_listener: bool = False) -> LocalCluster:
    return LocalCluster(
        settings().state_dir.resolve(), nodes=nodes, pki=settings().pki,
        insecure_plaintext_listener=insecure_plaintext_listener,
    )


def kafka_as(principal: str) -> KafkaSettings:
    """Connection settings authenticated as ``principal``.

    A username given in the environment wins; otherwise the password comes from the local
    credential store that ``exchange broker up`` / ``exchange topology apply`` fill. A loopback
    cluster without a CA file of its own is trusted through the local CA (``<state>/pki``).
    """
    base = settings().kafka_client()
    if base.username:
        return base
    password = credentials().get(principal)
    if password is None:
        where = (
            "run `exchange broker up` and `exchange topology apply --replication 1` first"
            if base.bootstrap_servers == LOCAL_BOOTSTRAP
            else "set EXCHANGE_KAFKA__USERNAME and EXCHANGE_KAFKA__PASSWORD"
        )
        raise SettingsError("kafka.password", f"no password known for {principal!r}: {where}")
    return base.with_principal(principal, password)


def kafka_as_agency(agency_id: str) -> KafkaSettings:
    return kafka_as(topology().principal_of(agency_id))


def add_agency_option(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--as", dest="agency", required=required, metavar="AGENCY",
        help="act as this agency (its id in topology/agencies.toml, e.g. police, transport)",
    )
