"""The document's servers and security schemes: the bus's bootstrap servers, over TLS, with one
SCRAM-SHA-512 principal per agency (DESIGN §1: SASL_SSL by default, no plaintext listener)."""

from __future__ import annotations

from typing import Any

from exchange.asyncapi.exceptions import AsyncApiError

KAFKA_VERSION = "4.1.1"
SCRAM = "scramSha512"
KAFKA_BINDING_VERSION = "0.5.0"

SECURITY_SCHEMES: dict[str, Any] = {
    SCRAM: {
        "type": "scramSha512",
        "description": (
            "SASL/SCRAM-SHA-512 inside TLS (Kafka security.protocol SASL_SSL). Each agency "
            "system logs in as its agency's principal (topology/agencies.toml, e.g. "
            "`agency.police`); the broker's ACLs grant that principal exactly the operations "
            "of this document. Trust the bus's CA (EXCHANGE_KAFKA__SSL_CAFILE). Clients on "
            "librdkafka older than 2.6 cannot log in with SCRAM to Kafka 4.x; Java 4.1 clients, "
            "kafka-python and aiokafka can."
        ),
    },
}


def servers(bootstrap: str) -> dict[str, Any]:
    """One server per bootstrap address (``host:port``, comma-separated), all TLS + SCRAM."""
    hosts = [host.strip() for host in bootstrap.split(",") if host.strip()]
    if not hosts:
        raise AsyncApiError("no bootstrap server given; pass host:port[,host:port...]")
    out: dict[str, Any] = {}
    for number, host in enumerate(hosts, start=1):
        if ":" not in host:
            raise AsyncApiError(f"bootstrap server {host!r} needs a port (host:port)")
        out[f"bootstrap-{number}"] = {
            "host": host,
            "protocol": "kafka-secure",
            "protocolVersion": KAFKA_VERSION,
            "title": f"Kafka bootstrap server {number}",
            "description": (
                "Apache Kafka (KRaft) of the exchange bus. TLS on the wire, SASL/SCRAM-SHA-512 "
                "per agency; a plaintext listener is never offered."
            ),
            "security": [{"$ref": f"#/components/securitySchemes/{SCRAM}"}],
        }
    return out
