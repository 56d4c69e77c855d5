"""Why a record is dead-lettered or quarantined: every ``exchange.error.reason`` code the bus
writes, what it means and what to do. The codes are the code's own (a test reads them out of
the sources and fails when this table misses one or lists one that no longer exists)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    where: str
    meaning: str
    action: str


_CONSUMER = "consumer → exchange.deadletter.<agency>"
_SOURCE = "source connector → exchange.deadletter.<agency>"
_QUARANTINE = "consumer → exchange.quarantine.<agency>"

DEAD_LETTER_REASONS: tuple[Reason, ...] = (
    Reason("tombstone", _CONSUMER, "The record has no value; a tombstone is not an event.",
           "Find the producer that writes empty values to an event topic."),
    Reason("not-single-object", _CONSUMER,
           "The value does not start with the Avro single-object marker C3 01 + fingerprint.",
           "The producer is not using the bus's wire format; use the codec or an Avro "
           "library's single-object encoder."),
    Reason("unknown-fingerprint", _CONSUMER,
           "No published schema has the writer's fingerprint.",
           "Upgrade the consumer's package to a catalogue that includes the writer's schema, "
           "then replay."),
    Reason("avro-decode", _CONSUMER, "The body is not valid Avro for the writer's schema.",
           "The producer encoded with another schema than it named; fix it."),
    Reason("type-mismatch", _CONSUMER,
           "ce_type names another event than the schema of the value.",
           "Fix the producer's headers."),
    Reason("invalid-event", _CONSUMER + "; " + _SOURCE,
           "The event decodes but breaks its contract; the message names each field and rule.",
           "Fix the data at its source (see the validation rules) and publish it again."),
    Reason("missing-header", _CONSUMER, "A required CloudEvents header is missing or empty.",
           "Send every ce_* header of the CloudEvents Kafka binding (binary mode)."),
    Reason("invalid-header", _CONSUMER,
           "A header is not UTF-8, ce_specversion is not 1.0, or ce_time is not RFC 3339 "
           "with an offset.", "Fix the producer's headers."),
    Reason("key-mismatch", _CONSUMER,
           "The record's Kafka key (or ce_subject) is not its event's case key (e.g. "
           "sightingId); a null key is refused too. The message names the expected key.",
           "Produce the record with its case key, UTF-8 (Java and Kafka Connect send null "
           "keys by default), then publish it again."),
    Reason("handler-error", _CONSUMER,
           "The event is valid but the consumer's handler (or a workflow step) failed on it, "
           "e.g. a referral update that the lifecycle forbids.",
           "Read exchange.error.message; fix the cause, then replay the record."),
    Reason("encode-error", _SOURCE, "The record cannot be encoded with the published schema.",
           "Upgrade the connector's package or fix the mapping of the agency system's data."),
    Reason("no-topic", _SOURCE, "No topic the agency may write carries this event type.",
           "Check topology/topics.toml: the agency must be a writer of such a topic."),
    Reason("publish-failed", _SOURCE,
           "The broker did not acknowledge the record after every retry.",
           "Check the bus's health; the record is kept, replay it when the bus is back."),
)

QUARANTINE_REASONS: tuple[Reason, ...] = (
    Reason("unsigned", _QUARANTINE,
           "The record has no exchange.sig header, and no migration exception of "
           "topology/trust.toml in force accepts unsigned events on its topic or from its source.",
           "Every publishing path signs; find the producer that bypasses the bus's publisher."),
    Reason("bad-signature", _QUARANTINE,
           "The signature is malformed or does not match: the record was changed after "
           "signing, or forged.", "Investigate the sender; never act on the record."),
    Reason("unknown-key", _QUARANTINE, "Signed with a key id the key store does not know.",
           "Refresh the public keys (exchange keys), or investigate the sender."),
    Reason("uncertified-key", _QUARANTINE,
           "Signed with a key that has no certificate of the root pinned in topology/trust.toml "
           "on exchange.keys (never announced, or announced with another root or a bad "
           "signature; the message says which).",
           "The sender asks for certification (exchange keys request) and the joint-meeting "
           "office certifies it; otherwise investigate the sender."),
    Reason("revoked-key", _QUARANTINE, "Signed with a key that has been revoked.",
           "The sender must sign with its new key; investigate what was signed after revocation."),
    Reason("wrong-agency", _QUARANTINE,
           "Signed with a key that is not the key of the agency named in ce_source.",
           "Investigate: an agency speaking for another."),
    Reason("not-a-writer", _QUARANTINE,
           "The signing agency is not a writer of the topic (topology writers).",
           "Investigate; the broker's ACLs should have refused it."),
    Reason("replayed", _QUARANTINE, "The same ce_source + ce_id was already seen elsewhere.",
           "Investigate a replay attack or a producer re-using ids."),
    Reason("bad-envelope", _QUARANTINE,
           "The sealed fields (exchange.sealed) are malformed, do not open, or were sealed by "
           "another agency than the signer.", "Investigate the sender; never act on it."),
)

ERROR_HEADERS: tuple[tuple[str, str], ...] = (
    ("exchange.error.reason", "The short code (tables above)."),
    ("exchange.error.class", "The exception's class name."),
    ("exchange.error.message", "The error text, at most 2 000 characters, naming field and rule."),
    ("exchange.original.topic", "Where the record was read (consumers)."),
    ("exchange.original.partition", "Its partition (decimal)."),
    ("exchange.original.offset", "Its offset (decimal)."),
    ("exchange.consumer.group", "The consumer group that set it aside."),
    ("exchange.connector.name", "The source connector (source dead letters)."),
    ("exchange.source.position", "Where in the agency system the record came from (sources)."),
)
