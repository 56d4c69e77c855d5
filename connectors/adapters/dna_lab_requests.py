"""DNA laboratory request sink: the police's comparison requests to the city DNA laboratory's
system (Art. 9, 打拐DNA信息库); the other half of :mod:`connectors.adapters.dna_lab`, which
brings the results back.

Reads ``exchange.dna`` as the police (the laboratory is the public security bureau's own, and
its results are published as the police) and POSTs each ``DnaComparisonRequest`` to the
laboratory's request intake over HTTPS::

    POST <url>
    content-type: application/json; charset=utf-8
    Idempotency-Key: <ce_source>#<ce_id>
    {<DnaComparisonRequest as JSON>}

Sample identifiers and case ids only: the profiles stay in the laboratory. The laboratory
answers 2xx when it has the request, the same for a repeat with the same ``Idempotency-Key``
(a restart may deliver a request again). 408, 425, 429, 5xx and connection failures are
retried with the config's backoff (``Retry-After`` honoured), other 4xx dead-letter the
request at once (the laboratory refuses it: an unknown sample, say), as does the last failed
attempt. ``DnaSampleCollected`` records on the same topic are the police's record of a sample
taken; the sample itself reaches the laboratory with its id on the label, so they are not sent.

Secure by default: the intake must be ``https://``; ``ca_file`` names the CA that signed the
laboratory's certificate (default: the system's trust store); ``token_file`` holds a bearer
token if the laboratory asks for one (kept out of the config file).

Config::

    kind = "dna-lab-requests"
    name = "city-dna-lab-requests"
    agency = "police"
    topics = ["exchange.dna"]
    url = "https://dna-lab.gaj.xa.gov.cn/exchange/requests"
    ca_file = "/etc/exchange/dna-lab-ca.pem"
"""

from __future__ import annotations

from typing import Literal

from aiokafka import ConsumerRecord

from connectors.adapters.dna_lab import LaboratoryLink
from connectors.sdk.http_client import HttpClient
from connectors.sdk.http_sink import HttpSink, HttpSinkConfig
from connectors.sdk.sink import idempotency_key
from exchange.codec import DecodedEvent
from exchange.models.dna import DnaComparisonRequest

REQUEST_TOPIC = "exchange.dna"


class DnaLabRequestConfig(HttpSinkConfig, LaboratoryLink):
    kind: Literal["dna-lab-requests"] = "dna-lab-requests"
    agency: str = "police"
    topics: tuple[str, ...] = (REQUEST_TOPIC,)


class DnaLabRequestSink(HttpSink[DnaLabRequestConfig]):
    config_model = DnaLabRequestConfig

    def client(self) -> HttpClient:
        return self.config.http_client(self.config.timeout_s)

    async def deliver(self, decoded: DecodedEvent, record: ConsumerRecord) -> None:
        request = decoded.event
        if not isinstance(request, DnaComparisonRequest):
            return  # a sample's record: the sample itself goes to the laboratory
        headers = {
            "content-type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key(decoded),
        }
        body = request.model_dump_json(exclude_none=True).encode()
        await self.post(self.config.url, body, headers, refused="comparison request")
