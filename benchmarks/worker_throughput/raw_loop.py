"""The baseline: a raw aiokafka consume -> transform -> produce loop with bare fastavro, in its
own process, as the ``workflows`` principal."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastavro import schemaless_reader, schemaless_writer

from benchmarks.harness import Connection, settings_of
from benchmarks.worker_throughput.names import DISPATCH, SIGHTING, SOURCE_TOPIC, police_sighting
from benchmarks.worker_throughput.workflow import plan_dispatches
from exchange.codec import EventCodec
from exchange.rules.jurisdiction import load_jurisdiction
from exchange.schemas.catalogue import Catalogue
from exchange.settings import KafkaSettings

PREFIX_LEN = 10  # single-object encoding: C3 01 + 8-byte fingerprint
Template = tuple[bytes, dict[str, Any], list[tuple[str, bytes]]]
"""Prefix, plain-dict body and headers of the dispatch the worker sends for one sighting."""


def dispatch_template(codec: EventCodec) -> Template:
    """Prefix, plain-dict body and headers of the dispatch the worker sends for one sighting."""
    sighting = police_sighting()
    dispatch = plan_dispatches(sighting, "template", load_jurisdiction(), datetime.now(UTC))[0]
    encoded = codec.encode(dispatch, source="/agencies/workflows/sightings", id="template")
    return encoded.value[:PREFIX_LEN], dispatch.model_dump(), encoded.headers


def _raw_loop_process(
    *, connection: Connection, group: str, out_topic: str, start: dict[int, int] | None,
    template: Template, signals: tuple[Any, Any],
) -> None:
    ready, stop = signals
    asyncio.run(_raw_loop(
        settings=settings_of(connection), group=group, out_topic=out_topic, start=start,
        template=template, ready=ready, stop=stop,
    ))


async def _raw_loop(
    *, settings: KafkaSettings, group: str, out_topic: str, start: dict[int, int] | None,
    template: Template, ready: Any, stop: Any,
) -> None:
    prefix, base, headers = template
    catalogue = Catalogue.load()
    sighting_schema = catalogue.latest(SIGHTING).parsed
    dispatch_schema = catalogue.latest(DISPATCH).parsed
    copied = ("sightingId", "observedAt", "location", "reporter", "suspectedPersons",
              "situation", "childAtRisk", "destination")
    consumer = AIOKafkaConsumer(
        SOURCE_TOPIC, **settings.aiokafka_kwargs(), group_id=group, enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    producer = AIOKafkaProducer(
        **settings.aiokafka_kwargs(), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for partition in consumer.assignment():
        if start is None:
            await consumer.seek_to_end(partition)
        else:
            consumer.seek(partition, start[partition.partition])
        await consumer.position(partition)
    ready.set()
    while not stop.is_set():
        batch = await consumer.getmany(timeout_ms=100, max_records=500)
        acks = []
        for records in batch.values():
            for record in records:
                sighting = cast("dict[str, Any]", schemaless_reader(  # a record decodes to a dict
                    io.BytesIO(record.value[PREFIX_LEN:]), sighting_schema, sighting_schema
                ))
                event_id = next(v for k, v in record.headers if k == "ce_id") + b":respond"
                now = datetime.now(UTC)
                dispatch = dict(base)
                for name in copied:
                    dispatch[name] = sighting[name]
                dispatch |= {"dispatchId": event_id.decode(), "dispatchedAt": now,
                             "ackDueAt": now + timedelta(minutes=5)}
                buffer = io.BytesIO()
                buffer.write(prefix)
                schemaless_writer(buffer, dispatch_schema, dispatch)
                out_headers = [(k, event_id if k == "ce_id" else v) for k, v in headers]
                acks.append(await producer.send(
                    out_topic, value=buffer.getvalue(), key=record.key, headers=out_headers
                ))
        if acks:
            await asyncio.gather(*acks)
            await consumer.commit()
    await consumer.stop()
    await producer.stop()


class RawLoop:
    def __init__(
        self, connection: Connection, group: str, out_topic: str, start: dict[int, int] | None,
        template: Template,
    ) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.ready, self.stop_event = spawn.Event(), spawn.Event()
        self.process = spawn.Process(
            target=_raw_loop_process,
            kwargs={"connection": connection, "group": group, "out_topic": out_topic,
                    "start": start, "template": template,
                    "signals": (self.ready, self.stop_event)},
        )

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(60):
            self.process.kill()
            raise RuntimeError("the raw loop did not join its group in 60 s")

    def stop(self) -> None:
        self.stop_event.set()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
