"""The worker's app factory: :func:`create_app` (no module-level app).

It builds a ``faust.App`` from settings: SASL credentials of the ``exchange.workflows``
principal, app id and internal topics under the ``workflows.`` prefix that its ACLs grant,
internal topics (changelogs) with the same replication as the data topics, partition counts taken
from ``topology/`` so a table's changelog always matches its source; then the workflows
register on it, and :mod:`.faust_patches` keeps its read positions honest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import faust

from exchange.settings import KafkaSettings
from exchange.workflows.runtime import faust_patches
from exchange.workflows.runtime.context import AGENCY, Workflow, WorkflowContext
from exchange.workflows.runtime.streams import Streams

SESSION_TIMEOUT_S = 15.0
"""How long the group waits for a silent worker before moving its partitions (Kafka's
broker-side floor is 6 s). Heartbeats come from faust's consumer thread, not the agents'
loop, so a busy worker keeps its session; one whose thread stalls for this long is moved,
which costs a rebalance, not a record."""
HEARTBEAT_S = 3.0
REBALANCE_TIMEOUT_S = 30.0
"""How long a rebalance waits for live workers to rejoin (each commits and closes its table
partitions first: seconds, under load ten or more)."""


def create_app(
    kafka: KafkaSettings,
    context: WorkflowContext,
    *,
    app_id: str = "workflows.main",
    datadir: Path,
    replication_cap: int | None = None,
    workflows: Sequence[Workflow] = (),
) -> faust.App:
    """A faust app running ``workflows`` (each registers its agents on the app).

    ``datadir`` holds the worker's table state (RocksDB); one per worker process.
    """
    if not app_id.startswith(f"{AGENCY}."):
        raise ValueError(f"app id {app_id!r} must start with '{AGENCY}.' (its ACL prefix)")
    replication = max(
        t.effective_replication(replication_cap) for t in context.topology.topics
        if AGENCY in t.readers or AGENCY in t.writers
    )
    datadir.mkdir(parents=True, exist_ok=True)
    credentials: faust.SASLCredentials | faust.SSLCredentials | None = None
    if kafka.uses_sasl:
        connection = kafka.aiokafka_kwargs()
        credentials = faust.SASLCredentials(
            username=connection["sasl_plain_username"],
            password=connection["sasl_plain_password"],
            mechanism=kafka.sasl_mechanism,
            ssl_context=connection.get("ssl_context"),
        )
    elif kafka.uses_tls:
        credentials = faust.SSLCredentials(kafka.ssl_context())
    app = faust.App(
        app_id,
        broker=";".join(f"kafka://{hp}" for hp in kafka.bootstrap_servers.split(",")),
        broker_credentials=credentials,
        topic_replication_factor=replication,
        topic_partitions=3,
        # RocksDB keeps table state on disk next to the changelog offsets it reflects, so a
        # restarted worker reads only the changelog tail instead of replaying it all.
        store="rocksdb://",
        datadir=str(datadir),
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        # Records wait up to 5 ms to share a produce request: far fewer, larger requests for the
        # CPU-bound worker (aiokafka's default, 0, sent a request per record or two).
        producer_linger=0.005,
        producer_max_batch_size=262_144,
        broker_commit_every=1000,  # and at least every broker_commit_interval
        broker_commit_interval=0.5,
        stream_wait_empty=False,
        worker_redirect_stdouts=False,
        # A worker that dies without leaving its group (kill -9, a lost host) keeps its
        # partitions until its session times out, and a rebalance waits that long for it:
        # with faust's 60 s (and 60 s rebalance timeout) a killed worker's sightings waited a
        # minute or more (two in a row: over two minutes, in the nemesis run).
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=HEARTBEAT_S,
        broker_rebalance_timeout=REBALANCE_TIMEOUT_S,
    )
    faust_patches.tune_producer(app)
    if context.protection is not None:
        context.protection.attach(app, context)
    streams = Streams(app, context)
    for register in workflows:
        register(app, context, streams)
    streams.start()
    protection = context.protection
    faust_patches.install(app, context.metrics.rewinds, compacted=frozenset(
        t.name for t in context.topology.topics if t.cleanup_policy == "compact"
    ), holding=(lambda: protection.holding) if protection is not None else lambda: False)
    return app

