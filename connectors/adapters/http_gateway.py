"""HTTP ingest gateway: agency systems POST events as JSON; each caller publishes as its agency.

``POST /v1/events/{type}`` with ``Authorization: Bearer <token>`` (or a client certificate
when TLS with client CAs is configured): the token's SHA-256 (the config never holds the token
itself) or the certificate's subject CN names the caller, which maps to an agency; the event is
published with *that agency's* Kafka principal, so the broker's ACLs still decide what it may
write. Answers:

- ``202 {"eventId", "topic", "partition", "offset"}`` once the broker has the event;
- ``401`` unknown caller; ``404`` unknown event type; ``400`` body not a JSON object;
  ``413`` too large; ``403`` the agency may not publish this type;
- ``422 {"error": "invalid-event", "errors": [{"field", "rule", "message"}]}``: every broken
  rule of the contract, nothing sent (counted in ``exchange_events_refused_total``);
- ``503`` with ``Retry-After`` when the bus did not acknowledge in time.

``Idempotency-Key`` makes retries safe: the key (per agency) fixes the event's ``ce_id``
(a UUIDv5 of agency and key), and the first answer is remembered in the progress file, so a
retry gets the same answer and publishes nothing; if a crash came between publishing and
remembering, the retry publishes the same ``ce_id`` again and consumers dedupe it. The same key
with a different body is refused (422 ``idempotency-key-reused``). ``GET /openapi.json``
describes the API; ``GET /healthz`` says it is up.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import ssl
import uuid
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.adapters.http_openapi import openapi_document
from connectors.sdk.base import Connector
from connectors.sdk.config import ConnectorConfig
from exchange.client.exceptions import NoTopicError, PublishError
from exchange.client.publisher import Publisher
from exchange.models.exceptions import ValidationFailed, validate_event
from exchange.models.registry import EVENTS

log = logging.getLogger(__name__)
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c2d4e-8a3b-4c5d-9e7f-0a1b2c3d4e5f")
SCOPE = "idempotency"


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str = Field(description="Agency id the caller publishes as.")
    token_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of the caller's token."
    )
    certificate_cn: str | None = Field(None, description="Client certificate subject CN (mTLS).")
    source: str | None = Field(None, description="ce_source; default /agencies/<agency>/http.")


class TlsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    certfile: Path
    keyfile: Path
    client_cafile: Path | None = Field(None, description="CAs of client certificates (mTLS).")


class HttpGatewayConfig(ConnectorConfig):
    kind: Literal["http-gateway"] = "http-gateway"
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0: any free port.")
    callers: tuple[Caller, ...] = Field(min_length=1)
    event_types: tuple[str, ...] = Field(
        tuple(EVENTS), description="Event types accepted (CLI short names)."
    )
    max_body_bytes: int = Field(1_000_000, gt=0)
    publish_timeout_s: float = Field(10.0, gt=0)
    idempotency_ttl_s: float = Field(86_400.0, gt=0)
    tls: TlsConfig | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HttpGatewayConfig:
        unknown = [name for name in self.event_types if name not in EVENTS]
        if unknown:
            raise ValueError(f"event_types: unknown {unknown}; known: {list(EVENTS)}")
        for index, caller in enumerate(self.callers):
            if not caller.token_sha256 and not caller.certificate_cn:
                raise ValueError(f"callers.{index}: give token_sha256 or certificate_cn")
            if caller.certificate_cn and not (self.tls and self.tls.client_cafile):
                raise ValueError(f"callers.{index}: certificate_cn needs tls.client_cafile")
        return self


def token_digest(token: str) -> str:
    """What goes in ``token_sha256`` for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _problem(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


class HttpGateway(Connector[HttpGatewayConfig]):
    config_model = HttpGatewayConfig

    _runner: web.AppRunner | None = None
    port: int | None = None
    """The port served on (known after setup; useful with ``port = 0``)."""

    async def setup(self) -> None:
        config = self.config
        for caller in config.callers:
            self.context.topology.agency(caller.agency)
        self._publishers: dict[str, Publisher] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._openapi = openapi_document(list(config.event_types))
        app = web.Application(client_max_size=config.max_body_bytes)
        app.router.add_post("/v1/events/{event_type}", self._post)
        app.router.add_get("/openapi.json", self._openapi_json)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port, ssl_context=self._ssl())
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else config.port
        self.progress.forget_older_than(SCOPE, config.idempotency_ttl_s)
        log.info("http gateway %s on %s:%s", self.name, config.host, self.port)

    def _ssl(self) -> ssl.SSLContext | None:
        tls = self.config.tls
        if tls is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.certfile, tls.keyfile)
        if tls.client_cafile is not None:
            context.load_verify_locations(tls.client_cafile)
            context.verify_mode = ssl.CERT_OPTIONAL
        return context

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()

    async def close(self) -> None:
        try:
            if self._runner is not None:
                await self._runner.cleanup()
            for publisher in getattr(self, "_publishers", {}).values():
                await publisher.__aexit__(None, None, None)
        finally:
            self._runner = None
            self._publishers = {}
            await super().close()

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _openapi_json(self, request: web.Request) -> web.Response:
        return web.json_response(self._openapi)

    def _caller(self, request: web.Request) -> Caller | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            digest = token_digest(header.removeprefix("Bearer ").strip())
            for caller in self.config.callers:
                if caller.token_sha256 and hmac.compare_digest(caller.token_sha256, digest):
                    return caller
            return None
        transport = request.transport
        cert = transport.get_extra_info("peercert") if transport is not None else None
        if cert:
            names = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
            for caller in self.config.callers:
                if caller.certificate_cn and caller.certificate_cn in names:
                    return caller
        return None

    async def _publisher(self, caller: Caller) -> Publisher:
        publisher = self._publishers.get(caller.agency)
        if publisher is None:
            publisher = Publisher(
                self.kafka(caller.agency),
                self.context.codec,
                self.context.topology,
                agency=caller.agency,
                source=caller.source or f"/agencies/{caller.agency}/http",
                metrics=self.context.bus_metrics,
            )
            try:
                await publisher.__aenter__()
            except BaseException:
                await publisher.__aexit__(None, None, None)
                raise
            self._publishers[caller.agency] = publisher
        return publisher

    def _refuse(self, agency: str, event_type: str, response: web.Response) -> web.Response:
        self.metrics.records.labels(self.name, "refused").inc()
        self.context.bus_metrics.refused.labels(event_type, agency).inc()
        return response

    async def _post(self, request: web.Request) -> web.Response:
        caller = self._caller(request)
        if caller is None:
            self.metrics.records.labels(self.name, "refused").inc()
            return web.json_response(
                {"error": "unauthorized", "message": "send Authorization: Bearer <token>"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="exchange"'},
            )
        name = request.match_info["event_type"]
        if name not in self.config.event_types:
            known = ", ".join(self.config.event_types)
            return self._refuse(
                caller.agency, name, _problem(404, "unknown-event-type", f"use one of: {known}")
            )
        parsed = await self._parse_body(request, caller, name)
        if isinstance(parsed, web.Response):
            return parsed
        data, body = parsed
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return await self._accept(caller, name, data, None, "")
        scoped = f"{caller.agency}:{key}"
        lock, users = self._locks.get(scoped) or (asyncio.Lock(), 0)
        self._locks[scoped] = (lock, users + 1)
        try:
            async with lock:  # one request per key at a time: the second sees the first's answer
                return await self._accept(
                    caller, name, data, scoped, hashlib.sha256(body).hexdigest()
                )
        finally:
            lock, users = self._locks[scoped]
            if users == 1:
                del self._locks[scoped]
            else:
                self._locks[scoped] = (lock, users - 1)

    async def _parse_body(
        self, request: web.Request, caller: Caller, name: str
    ) -> tuple[dict[str, Any], bytes] | web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            limit = self.config.max_body_bytes
            return self._refuse(
                caller.agency, name, _problem(413, "too-large", f"at most {limit} bytes")
            )
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return self._refuse(caller.agency, name, _problem(400, "not-json", str(error)))
        if not isinstance(data, dict):
            return self._refuse(
                caller.agency, name, _problem(400, "not-an-object", "send one JSON object")
            )
        return data, body

    async def _accept(
        self, caller: Caller, name: str, data: dict[str, Any], key: str | None, body_hash: str
    ) -> web.Response:
        if key is not None:
            earlier = self.progress.recall(SCOPE, key)
            if earlier is not None:
                answer = json.loads(earlier)
                if answer.pop("bodySha256") != body_hash:
                    return self._refuse(
                        caller.agency,
                        name,
                        _problem(
                            422, "idempotency-key-reused", "this key was used for another body"
                        ),
                    )
                self.metrics.records.labels(self.name, "duplicate").inc()
                return web.json_response({**answer, "duplicate": True}, status=202)
        try:
            event = validate_event(EVENTS[name].model, data)
        except ValidationFailed as error:
            errors = [
                {"field": e.field, "rule": e.rule, "message": e.message} for e in error.errors
            ]
            return self._refuse(
                caller.agency,
                name,
                _problem(
                    422, "invalid-event", "fix the named fields; nothing was sent", errors=errors
                ),
            )
        event_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, key)) if key is not None else None
        try:
            publisher = await asyncio.wait_for(
                self._publisher(caller), self.config.publish_timeout_s
            )
            result = await asyncio.wait_for(
                publisher.publish(event, id=event_id), self.config.publish_timeout_s
            )
        except NoTopicError as error:
            return self._refuse(caller.agency, name, _problem(403, "forbidden", str(error)))
        except (PublishError, KafkaError, TimeoutError) as error:
            self.metrics.errors.labels(self.name, type(error).__name__).inc()
            response = _problem(503, "bus-unavailable", "the bus did not acknowledge; retry")
            response.headers["Retry-After"] = "5"
            return response
        answer = {
            "eventId": result.event_id,
            "topic": result.topic,
            "partition": result.partition,
            "offset": result.offset,
        }
        if key is not None:
            self.progress.remember(SCOPE, key, json.dumps({**answer, "bodySha256": body_hash}))
        self.metrics.records.labels(self.name, "published").inc()
        return web.json_response(answer, status=202)
