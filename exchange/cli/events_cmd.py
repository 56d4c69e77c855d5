"""``exchange publish``, ``exchange tail``, ``exchange example``, ``exchange demo``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from exchange.cli import context, protection_cmd
from exchange.client.identity import check_sender, check_source
from exchange.client.publisher import Publisher, choose_topic
from exchange.client.translate import translated
from exchange.codec import EventCodec
from exchange.codec.exceptions import DecodeError
from exchange.demo.scenario import run_demo
from exchange.examples import example_json
from exchange.inputs import InputError, load_json, read_limited
from exchange.metrics import BusMetrics
from exchange.models.exceptions import ValidationFailed, validate_event
from exchange.models.registry import EVENTS, spec_for
from exchange.models.text_rules import escape_for_terminal
from exchange.operations.health import OpsServer
from exchange.protection.exceptions import VerificationError
from exchange.protection.protected import ProtectedCodec
from exchange.schemas.catalogue import Catalogue
from exchange.tls.kafka import start_client


def register(commands: Any) -> None:
    names = ", ".join(EVENTS)
    publish = commands.add_parser(
        "publish",
        help="validate an event (JSON) and publish it as an agency",
        description=(
            "Validate a JSON event against its contract, encode it (Avro single-object encoding, "
            "CloudEvents headers), seal its sensitive fields for the topic's entitled readers, "
            "sign it with the agency's key and publish it to the topic the topology gives the "
            f"agency for this event type. Event types: {names}. Invalid input is refused with "
            "every broken rule named and nothing is sent. `exchange example EVENT` prints a "
            "valid event. The agency's keys are in <state>/keys (`exchange keys init`)."
        ),
    )
    publish.add_argument("event_type", metavar="EVENT", help=f"one of: {names}")
    publish.add_argument("file", metavar="FILE", help="JSON file with the event, or - for stdin")
    context.add_agency_option(publish)
    publish.add_argument("--topic", help="topic to publish to (default: from the topology)")
    publish.add_argument(
        "--source", help="CloudEvents source of the agency system (default: /agencies/AGENCY/cli)"
    )
    protection_cmd.add_unprotected_option(publish)
    publish.set_defaults(run=_publish)

    tail = commands.add_parser(
        "tail",
        help="print a topic's events as JSON lines (as a reading agency)",
        description=(
            "Read a topic as an agency and print one JSON line per record: topic, partition, "
            "offset, key, CloudEvents attributes, the signer and the event as the agency may "
            "see it (fields it may not read: <protected>). Records that cannot be verified or "
            "decoded are printed with their error (reason: unsigned, bad-signature, ...). "
            "Reads from the beginning in a fresh consumer group (<agency>.tail.<random>) and "
            "commits nothing."
        ),
    )
    tail.add_argument("topic", metavar="TOPIC")
    context.add_agency_option(tail)
    tail.add_argument("--max", type=int, default=None, help="stop after this many records")
    tail.add_argument(
        "--timeout", type=float, default=None,
        help="stop after this many seconds without a new record (default: run until Ctrl-C)",
    )
    tail.add_argument(
        "--metrics-port", type=int, default=None, metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics while tailing",
    )
    protection_cmd.add_unprotected_option(tail)
    tail.set_defaults(run=_tail)

    example = commands.add_parser(
        "example", help="print a valid example event as JSON (fictional data)",
        description="Print a realistic, valid example of an event type, to start from.",
    )
    example.add_argument("event_type", metavar="EVENT", help=f"one of: {names}")
    example.set_defaults(run=_example)

    demo = commands.add_parser(
        "demo",
        help="play the multi-agency scenario on the bus and print who received what",
        description=(
            "Each of the five core events is published by its own agency and received by the "
            "agencies it is addressed to; an invalid event is refused and a corrupt record is "
            "dead-lettered. Then a workflow worker runs on a compressed clock: sightings reach "
            "the responsible police units, an unacknowledged one escalates, a missing child's "
            "alert widens, a sighting matches the child, and the alert is cancelled. Needs a "
            "running broker with the topology applied."
        ),
    )
    demo.set_defaults(run=_demo)


def _read_json(file: str) -> Any:
    """The JSON in ``file`` (``-``: stdin), or one :class:`InputError` line saying what to fix."""
    try:
        if file == "-":
            content = read_limited(sys.stdin.buffer, "stdin")
        else:
            with Path(file).open("rb") as stream:
                content = read_limited(stream, file)
    except OSError as error:
        raise InputError(
            "file_unreadable", f"{file}: {error.strerror}; give a JSON file, or - for stdin"
        ) from None
    return load_json(content)


def _publish(args: argparse.Namespace) -> int:
    spec = spec_for(args.event_type)
    data = _read_json(args.file)
    if not isinstance(data, dict):
        raise InputError("json_object", "the event must be one JSON object {...}")
    try:
        event = validate_event(spec.model, data)
    except ValidationFailed as error:
        print(f"exchange: refused, nothing sent: {error}", file=sys.stderr)
        return 1
    topology = context.topology()
    topology.agency(args.agency)
    codec = EventCodec(Catalogue.load())

    async def send() -> int:
        async with Publisher(
            context.kafka_as_agency(args.agency), codec, topology, agency=args.agency,
            source=args.source or f"/agencies/{args.agency}/cli",
            metrics=BusMetrics.on(CollectorRegistry()),
            protection=protection,
        ) as publisher:
            result = await publisher.publish(event, topic=topic)
        print(
            f"published {spec.name} id={result.event_id} key={result.key} to "
            f"{result.topic}[{result.partition}]@{result.offset}"
        )
        return 0

    try:
        topic = choose_topic(topology, args.agency, event, args.topic)  # before connecting
        check_sender(args.agency, event)
        check_source(args.agency, args.source or f"/agencies/{args.agency}/cli",
                     [a.id for a in topology.agencies])
        protection = protection_cmd.protection_for(  # after the input: its errors come first
            codec, args.agency, unprotected=args.unprotected
        )
        return asyncio.run(send())
    except ValidationFailed as error:  # e.g. an addressee without an inbox: nothing was sent
        print(f"exchange: refused, nothing sent: {error}", file=sys.stderr)
        return 1


def _tail(args: argparse.Namespace) -> int:
    codec = EventCodec(Catalogue.load())
    settings = context.kafka_as_agency(args.agency)
    protection = protection_cmd.protection_for(codec, args.agency, unprotected=args.unprotected)
    protected = protection if isinstance(protection, ProtectedCodec) else None
    metrics = BusMetrics.on(CollectorRegistry())
    port = args.metrics_port or context.settings().metrics_port
    if port:  # /metrics, /healthz, /readyz (ready once it reads)
        OpsServer(metrics.registry, lambda: None, port).start()

    async def read() -> int:
        consumer = AIOKafkaConsumer(
            args.topic, **settings.aiokafka_kwargs(),
            group_id=f"{args.agency}.tail.{uuid.uuid4().hex[:8]}",
            enable_auto_commit=False, auto_offset_reset="earliest",
        )
        try:  # started inside: a consumer that failed to start is closed too
            with translated(settings, f"reading topic {args.topic!r}"):
                await start_client(consumer, settings)
                await print_records(consumer)
        finally:
            await consumer.stop()
        return 0

    async def print_records(consumer: AIOKafkaConsumer) -> None:
        seen = 0
        await _wait_for_assignment(consumer)
        while args.max is None or seen < args.max:
            timeout = args.timeout if args.timeout is not None else 3600.0
            batch = await consumer.getmany(timeout_ms=int(timeout * 1000), max_records=100)
            if not batch:
                if args.timeout is not None:
                    break
                continue
            for records in batch.values():
                for record in records:
                    line = _record_json(codec, record, protected)
                    print(escape_for_terminal(json.dumps(line, ensure_ascii=False)), flush=True)
                    kind = line["ce"]["type"] if "ce" in line else "undecodable"
                    metrics.child(metrics.consumed, record.topic, kind, args.agency).inc()
                    seen += 1

    return asyncio.run(read())


async def _wait_for_assignment(consumer: AIOKafkaConsumer, timeout_s: float = 30.0) -> None:
    """Join the group first, so that ``--timeout`` counts time without records, not set-up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not consumer.assignment() and loop.time() < deadline:
        await consumer.getmany(timeout_ms=100, max_records=1)
        if consumer.assignment():
            consumer.seek_to_beginning()
            return


def _record_json(
    codec: EventCodec, record: Any, protected: ProtectedCodec | None = None
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "topic": record.topic, "partition": record.partition, "offset": record.offset,
        "key": record.key.decode(errors="replace") if record.key else None,
    }
    try:
        if protected is None:
            decoded = codec.decode(record.value, record.headers or ())
        else:
            opened = protected.decode(
                record.key, record.value, record.headers or (),
                (record.topic, record.partition, record.offset),
            )
            decoded = opened.decoded
    except (DecodeError, VerificationError) as error:
        line["error"] = {"reason": error.reason, "message": str(error)}
        return line
    attrs = decoded.attributes
    line["ce"] = {
        "id": attrs.id, "source": attrs.source, "type": attrs.type,
        "time": attrs.time.isoformat(), "subject": attrs.subject,
        "dataschema": attrs.dataschema,
    }
    if protected is None:
        line["data"] = decoded.event.model_dump(mode="json")
    else:
        line["signer"] = opened.signer
        line["data"] = opened.view()
    return line


def _example(args: argparse.Namespace) -> int:
    print(json.dumps(example_json(spec_for(args.event_type).name), indent=2, ensure_ascii=False))
    return 0


def _demo(args: argparse.Namespace) -> int:
    return asyncio.run(
        run_demo(context.topology(), context.kafka_as, context.settings().state_dir.resolve())
    )
