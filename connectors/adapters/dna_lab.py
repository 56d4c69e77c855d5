"""DNA laboratory source: the city DNA laboratory's comparison results onto the bus (Art. 9,
打拐DNA信息库).

The laboratory (西安市公安局物证鉴定所, the public security bureau's own) keeps the genetic
profiles; the bus only ever sees sample identifiers and the outcome of a comparison. Its system
offers the results as a feed over HTTPS, each with a sequence number the laboratory never
reuses::

    GET <url>?after=<last sequence taken>&limit=<batch>
    200 {"results": [{"seq": 41, "result": {<DnaComparisonResult as JSON>}}, ...]}

This source polls the feed, publishes each result on ``exchange.dna-result`` as the police
(the laboratory's agency), and stores the last sequence taken in its progress file only after
the broker acknowledged the batch. A crash between the two publishes the same results again
with the *same* ``ce_id`` (``dna-lab-<seq>``), which consumers dedupe. A result that breaks
the contract (no likelihood for a candidate match, a sample matched with itself) is
dead-lettered with the field and rule, as received, and the feed goes on after it. When the
laboratory is unreachable or answers 5xx, the source backs off (the ``retry`` delays) and goes
on when it is back; an answer that is not the feed's shape is counted as an error, not taken.

Secure by default: the feed must be ``https://``; ``ca_file`` names the CA that signed the
laboratory's certificate (default: the system's trust store); ``token_file`` holds a bearer
token if the laboratory asks for one (kept out of the config file).

Config::

    kind = "dna-lab"
    name = "city-dna-lab"
    agency = "police"
    url = "https://dna-lab.gaj.xa.gov.cn/exchange/results"
    ca_file = "/etc/exchange/dna-lab-ca.pem"
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import aiohttp
from pydantic import Field, field_validator

from connectors.sdk.config import ConnectorConfig
from connectors.sdk.source import Outcome, Source, SourceRecord
from exchange.inputs import load_json
from exchange.models.dna import DnaComparisonResult
from exchange.models.exceptions import FieldError, ValidationFailed, validate_event
from exchange.tls.context import client_context

log = logging.getLogger(__name__)

RESULT_TOPIC = "exchange.dna-result"
POSITION = "after"


class DnaLabConfig(ConnectorConfig):
    kind: Literal["dna-lab"] = "dna-lab"
    url: str = Field(description="The laboratory's result feed (https://).")
    ca_file: Path | None = Field(None, description="CA of the laboratory's certificate.")
    token_file: Path | None = Field(None, description="File holding a bearer token, if needed.")
    batch: int = Field(100, ge=1, le=1000, description="Results asked for per poll.")
    poll_interval_s: float = Field(2.0, gt=0)
    timeout_s: float = Field(10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        if not url.startswith("https://"):
            raise ValueError("the laboratory's feed must be https:// (results name children)")
        return url


class FeedError(ValueError):
    """The laboratory answered something that is not its feed."""


def feed_items(body: bytes, status: int = 200) -> list[tuple[int, Any]]:
    """``(seq, result)`` of each item of a feed page, in sequence order (:class:`FeedError`
    when the answer is not 200 or the page is not the feed's shape)."""
    if status != 200:
        raise FeedError(f"HTTP {status}")
    try:
        page = load_json(body)
    except (ValueError, ValidationFailed) as error:
        raise FeedError(f"not JSON: {error}") from None
    items = page.get("results") if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise FeedError('expected {"results": [...]}')
    found: list[tuple[int, Any]] = []
    for index, item in enumerate(items):
        seq = item.get("seq") if isinstance(item, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise FeedError(f"results.{index}.seq: a sequence number (integer >= 0) is required")
        found.append((seq, item.get("result")))
    return sorted(found, key=lambda pair: pair[0])


class DnaLabSource(Source[DnaLabConfig]):
    config_model = DnaLabConfig
    _session: aiohttp.ClientSession | None = None
    _failures = 0

    async def setup(self) -> None:
        self.poll_interval_s = self.config.poll_interval_s
        headers = {"Accept": "application/json"}
        if self.config.token_file is not None:
            token = self.config.token_file.read_text(encoding="utf-8").strip()
            headers["Authorization"] = f"Bearer {token}"
        ssl = client_context(cafile=self.config.ca_file, setting="connector.ca_file")
        self._session = aiohttp.ClientSession(
            headers=headers, connector=aiohttp.TCPConnector(ssl=ssl),
            timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
        )  # fmt: skip
        await super().setup()

    async def close(self) -> None:
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            self._session = None
            await super().close()

    async def poll(self) -> Sequence[SourceRecord]:
        session = self._session
        if session is None:
            raise RuntimeError("call setup() first")
        after = self.progress.get(POSITION)
        params = {"after": after or "-1", "limit": str(self.config.batch)}
        try:
            async with session.get(self.config.url, params=params) as response:
                body, status = await response.read(), response.status
            items = feed_items(body, status)
        except (aiohttp.ClientError, TimeoutError, FeedError) as error:
            self._lost(error)
            return []
        if self._failures:
            log.warning("dna-lab %s: the laboratory answers again", self.name)
        self._failures = 0
        self.poll_interval_s = self.config.poll_interval_s
        last = int(after) if after is not None else -1
        return [self._record(seq, result) for seq, result in items if seq > last]

    def _lost(self, error: BaseException) -> None:
        self._failures += 1
        self.metrics.errors.labels(self.name, type(error).__name__).inc()
        log.warning("dna-lab %s: no feed (%s: %s)", self.name, type(error).__name__, error)
        delays = list(self.config.retry.model_copy(update={"jitter": 0}).delays()) or [1.0]
        self.poll_interval_s = delays[min(self._failures, len(delays)) - 1]

    def _record(self, seq: int, result: Any) -> SourceRecord:
        position, event_id = f"lab:{seq}", f"dna-lab-{seq}"
        raw = json.dumps(result, ensure_ascii=False).encode()
        if not isinstance(result, dict):
            failed = ValidationFailed([FieldError("result", "json_object", "a result object")])
            return SourceRecord(position, event_id, raw, error=failed, topic=RESULT_TOPIC)
        try:
            event = validate_event(DnaComparisonResult, result)
        except ValidationFailed as error:
            return SourceRecord(position, event_id, raw, error=error, topic=RESULT_TOPIC)
        return SourceRecord(position, event_id, raw, event=event, time=event.reportedAt,
                            topic=RESULT_TOPIC)

    async def commit(self, outcomes: Sequence[Outcome]) -> None:
        if outcomes:
            last = max(int(o.record.position.removeprefix("lab:")) for o in outcomes)
            self.progress.set(POSITION, str(last))
