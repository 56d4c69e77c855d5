"""HTTP ingest gateway: agency systems POST events as JSON; each caller publishes as its agency.

``POST /v1/events/{type}`` with ``Authorization: Bearer <token>`` (scheme name in any case) or
a client certificate when TLS with client CAs is configured: the token's SHA-256 (the config
never holds the token itself) or the certificate's subject CN names the caller, which maps to
an agency; the event is published with *that agency's* Kafka principal, so the broker's ACLs
still decide what it may write. Answers:

- ``202 {"eventId", "topic", "partition", "offset"}`` once the broker has the event;
- ``401`` unknown caller; ``404`` unknown event type; ``415`` body not ``application/json``;
  ``400`` body not a JSON object, or an ``Idempotency-Key`` over 200 characters; ``408`` body
  not received within ``body_timeout_s`` (the connection is closed); ``413`` too large;
  ``403`` the agency may not publish this type;
- ``422 {"error": "invalid-event", "errors": [{"field", "rule", "message"}]}``: every broken
  rule of the contract (JSON nested too deep included), nothing sent (counted in
  ``exchange_events_refused_total``);
- ``503 {"eventId", "idempotencyKey"}`` with ``Retry-After`` and ``Idempotency-Key`` headers:
  the bus did not acknowledge in time. This does **not** mean "not sent": the record may still
  be queued in the producer and reach the bus later. The retry must send the same body with
  that ``Idempotency-Key``; it publishes with the same ``eventId``, so receivers (which dedupe
  on ``ce_source`` + ``ce_id``) drop whichever copy comes second.

HTTPS by default: with a ``[tls]`` table the gateway presents that certificate (and may ask for
client certificates); without one it presents a certificate issued by the local CA
(``<state>/pki/gateway-<name>.pem``, renewed near its end), which callers trust through
``<state>/pki/ca.crt``. Plain HTTP only with ``insecure_plain_http = true``, which logs a
warning at every start.

``Idempotency-Key`` makes retries safe: the key (per agency) fixes the event's ``ce_id``
(a UUIDv5 of agency and key; a request without a key gets one made by the gateway, told to the
client only in a 503), and the first answer is remembered in the progress file, so a retry gets
the same answer and publishes nothing; if a crash came between publishing and remembering, the
retry publishes the same ``ce_id`` again and consumers dedupe it. The same key with a different
body is refused (422 ``idempotency-key-reused``). ``GET /openapi.json`` describes the API;
``GET /healthz`` answers 200 ``ready`` only when every caller's agency has credentials and the
bus answers, else 503 ``not-ready`` naming each problem.
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
from typing import Any

from aiohttp import web
from aiokafka.errors import KafkaError

from connectors.adapters.http_gateway_config import (
    Caller,
    HttpGatewayConfig,
    TlsConfig,
    bearer_token,
    idempotency_key_problem,
    is_json,
    token_digest,
)
from connectors.adapters.http_openapi import openapi_document
from connectors.sdk.base import Connector
from exchange.client.addressing import check_addressee
from exchange.client.exceptions import NoTopicError, PublishError
from exchange.client.identity import check_sender
from exchange.client.publisher import Publisher
from exchange.errors import ExchangeError
from exchange.inputs import InputError, load_json
from exchange.models.exceptions import ValidationFailed, validate_event
from exchange.models.registry import EVENTS
from exchange.tls.context import server_context
from exchange.tls.exceptions import TlsError

__all__ = ["Caller", "HttpGateway", "HttpGatewayConfig", "TlsConfig", "token_digest"]
log = logging.getLogger(__name__)
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c2d4e-8a3b-4c5d-9e7f-0a1b2c3d4e5f")
SCOPE = "idempotency"


def _problem(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


class HttpGateway(Connector[HttpGatewayConfig]):
    config_model = HttpGatewayConfig

    _runner: web.AppRunner | None = None
    port: int | None = None
    """The port served on (known after setup; useful with ``port = 0``)."""
    certificate: Path | None = None
    """The certificate issued by the local CA, when the config names none."""

    async def setup(self) -> None:
        config = self.config
        for caller in config.callers:
            self.context.topology.agency(caller.agency)
        self._publishers: dict[tuple[str, str], Publisher] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._openapi = openapi_document(
            list(config.event_types), max_body_bytes=config.max_body_bytes,
            body_timeout_s=config.body_timeout_s,
        )
        app = web.Application(client_max_size=config.max_body_bytes)
        app.router.add_post("/v1/events/{event_type}", self._post)
        app.router.add_get("/openapi.json", self._openapi_json)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            keepalive_timeout=config.keepalive_timeout_s,
            lingering_time=1.0,  # after a 408, drain the rest of a slow body 1 s at most
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port, ssl_context=self._ssl())
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else config.port
        self.progress.forget_older_than(SCOPE, config.idempotency_ttl_s)
        scheme = "http" if config.insecure_plain_http else "https"
        log.info("http gateway %s on %s://%s:%s", self.name, scheme, config.host, self.port)

    def _ssl(self) -> ssl.SSLContext | None:
        config = self.config
        if config.insecure_plain_http:
            log.warning(
                "INSECURE: http gateway %s serves plain HTTP (insecure_plain_http): bearer "
                "tokens and events cross the network unencrypted", self.name,
            )
            return None
        if config.tls is None:
            pki = self.context.pki
            if pki is None:
                raise TlsError(
                    f"http gateway {self.name}: no certificate to serve HTTPS with: give the "
                    "[tls] table's certfile (and keyfile), or run it where the local CA is "
                    "(`exchange connect run` uses <state>/pki)", setting="tls",
                )
            hosts = [] if config.host in ("0.0.0.0", "::") else [config.host]  # noqa: S104
            self.certificate = pki.server(f"gateway-{self.name}", hosts).path
            return server_context(self.certificate)
        return server_context(
            config.tls.certfile, keyfile=config.tls.keyfile,
            client_cafile=config.tls.client_cafile, setting="tls",
        )

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
        """200 ``ready`` when every caller's agency has credentials and the bus answers a
        metadata request in time; else 503 ``not-ready`` with each problem."""
        problems: list[str] = []
        first = {caller.agency: caller for caller in reversed(self.config.callers)}
        for agency, caller in first.items():
            try:
                self.kafka(agency)
            except ExchangeError as error:
                problems.append(f"{agency}: no credentials ({error})")
                continue
            try:
                publisher = await asyncio.wait_for(
                    self._publisher(caller), self.config.health_timeout_s
                )
                await asyncio.wait_for(publisher.reachable(), self.config.health_timeout_s)
            except (ExchangeError, KafkaError, OSError, TimeoutError) as error:
                problems.append(f"{agency}: the bus does not answer ({type(error).__name__})")
        if problems:
            return web.json_response({"status": "not-ready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})

    async def _openapi_json(self, request: web.Request) -> web.Response:
        return web.json_response(self._openapi)

    def _caller(self, request: web.Request) -> Caller | None:
        token = bearer_token(request.headers.get("Authorization"))
        if token is not None:
            digest = token_digest(token)
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
        agency = caller.agency
        source = caller.source or f"/agencies/{agency}/http"
        publisher = self._publishers.get((agency, source))
        if publisher is None:
            publisher = Publisher(
                self.kafka(agency),
                self.context.codec,
                self.context.topology,
                agency=agency,
                source=source,
                metrics=self.context.bus_metrics,
                protection=self.context.protection_for(agency),
            )
            try:
                await publisher.__aenter__()
            except BaseException:
                await publisher.__aexit__(None, None, None)
                raise
            self._publishers[(agency, source)] = publisher
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
        key = request.headers.get("Idempotency-Key")
        refused = self._check_request(request, name, key)
        if refused is not None:
            return self._refuse(caller.agency, name, refused)
        parsed = await self._parse_body(request, caller, name)
        if isinstance(parsed, web.Response):
            return parsed
        data, body = parsed
        body_hash = hashlib.sha256(body).hexdigest()
        if key is None:  # every publication gets a key: a 503 names it for the retry
            return await self._accept(
                caller, name, data, uuid.uuid4().hex, body_hash, minted=True
            )
        scoped = f"{caller.agency}:{key}"
        lock, users = self._locks.get(scoped) or (asyncio.Lock(), 0)
        self._locks[scoped] = (lock, users + 1)
        try:
            async with lock:  # one request per key at a time: the second sees the first's answer
                return await self._accept(caller, name, data, key, body_hash)
        finally:
            lock, users = self._locks[scoped]
            if users == 1:
                del self._locks[scoped]
            else:
                self._locks[scoped] = (lock, users - 1)

    def _check_request(
        self, request: web.Request, name: str, key: str | None
    ) -> web.Response | None:
        """The refusal of a request whose type, media type or key is wrong (None: none)."""
        if name not in self.config.event_types:
            known = ", ".join(self.config.event_types)
            return _problem(404, "unknown-event-type", f"use one of: {known}")
        if not is_json(request.content_type):
            return _problem(415, "unsupported-media-type", "send Content-Type: application/json")
        problem = None if key is None else idempotency_key_problem(key)
        if problem is not None:
            return _problem(400, "bad-idempotency-key", problem)
        return None

    async def _parse_body(
        self, request: web.Request, caller: Caller, name: str
    ) -> tuple[dict[str, Any], bytes] | web.Response:
        try:
            body = await asyncio.wait_for(request.read(), self.config.body_timeout_s)
        except web.HTTPRequestEntityTooLarge:
            limit = self.config.max_body_bytes
            return self._refuse(
                caller.agency, name, _problem(413, "too-large", f"at most {limit} bytes")
            )
        except TimeoutError:
            response = _problem(
                408, "body-timeout", f"send the body within {self.config.body_timeout_s:g} s"
            )
            response.force_close()
            return self._refuse(caller.agency, name, response)
        try:
            data = load_json(body)
        except InputError as error:
            if error.errors[0].rule == "json_depth":
                return self._refuse(caller.agency, name, _invalid(error))
            return self._refuse(
                caller.agency, name, _problem(400, "not-json", str(error), errors=_errors(error))
            )
        if not isinstance(data, dict):
            rule = [{"field": "", "rule": "json_object", "message": "send one JSON object"}]
            return self._refuse(
                caller.agency, name,
                _problem(400, "not-an-object", "send one JSON object", errors=rule),
            )
        return data, body

    async def _accept(
        self, caller: Caller, name: str, data: dict[str, Any], key: str, body_hash: str,
        *, minted: bool = False,
    ) -> web.Response:
        scoped = f"{caller.agency}:{key}"
        earlier = self.progress.recall(SCOPE, scoped)
        if earlier is not None:
            answer = json.loads(earlier)
            if answer.pop("bodySha256") != body_hash:
                return self._refuse(caller.agency, name, _problem(
                    422, "idempotency-key-reused", "this key was used for another body"
                ))
            if not answer.pop("pending", False):
                self.metrics.records.labels(self.name, "duplicate").inc()
                return web.json_response({**answer, "duplicate": True}, status=202)
        try:
            event = validate_event(EVENTS[name].model, data)
            check_addressee(self.context.topology, event)  # as the publisher will: 422, not 403
            topics = self.context.topology.topics_for_event(EVENTS[name].fullname)
            if any(caller.agency in t.writers for t in topics):  # else 403 below
                check_sender(caller.agency, event)
        except ValidationFailed as error:
            return self._refuse(caller.agency, name, _invalid(error))
        event_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, scoped))
        try:
            publisher = await asyncio.wait_for(
                self._publisher(caller), self.config.publish_timeout_s
            )
            result = await asyncio.wait_for(
                publisher.publish(event, id=event_id), self.config.publish_timeout_s
            )
        except NoTopicError as error:
            return self._refuse(caller.agency, name, _problem(403, "forbidden", str(error)))
        except (PublishError, KafkaError, ExchangeError, TimeoutError) as error:
            self.metrics.errors.labels(self.name, type(error).__name__).inc()
            pending = {"pending": True, "eventId": event_id, "bodySha256": body_hash}
            self.progress.remember(SCOPE, scoped, json.dumps(pending))
            return _unavailable(event_id, key)
        answer = {
            "eventId": result.event_id,
            "topic": result.topic,
            "partition": result.partition,
            "offset": result.offset,
        }
        if not minted:  # a key the gateway made is only told to a client in a 503
            self.progress.remember(SCOPE, scoped, json.dumps({**answer, "bodySha256": body_hash}))
        self.metrics.records.labels(self.name, "published").inc()
        return web.json_response(answer, status=202)


def _errors(error: ValidationFailed) -> list[dict[str, str]]:
    return [{"field": e.field, "rule": e.rule, "message": e.message} for e in error.errors]


def _invalid(error: ValidationFailed) -> web.Response:
    return _problem(
        422, "invalid-event", "fix the named fields; nothing was sent", errors=_errors(error)
    )


def _unavailable(event_id: str, key: str) -> web.Response:
    """503: the outcome is unknown (the event may still reach the bus); the retry must reuse
    ``key``, so that any copy carries the same ``eventId`` and its receivers drop it."""
    response = _problem(
        503,
        "bus-unavailable",
        "the bus did not acknowledge in time; the event may still arrive. Retry the same body "
        "with this Idempotency-Key: a copy keeps this eventId and receivers drop it",
        eventId=event_id,
        idempotencyKey=key,
    )
    response.headers["Retry-After"] = "5"
    response.headers["Idempotency-Key"] = key
    return response
