"""The root of the project's error tree.

Every error the library raises derives from :class:`ExchangeError`; each subpackage defines its
own branch in its ``exceptions.py``::

    ExchangeError
    ├── SettingsError                       (exchange.errors)
    ├── BrokerError                         (exchange.broker.exceptions)
    │   ├── BrokerBuildError
    │   └── BrokerStartError
    ├── TlsError                            (exchange.tls.exceptions)  .setting, .path
    │   ├── PkiError
    │   ├── TlsFileError
    │   └── TlsHandshakeError               .reason: wrong-ca, expired, plaintext-client, ...
    ├── SchemaError                         (exchange.schemas.exceptions)
    │   ├── SchemaParseError
    │   ├── SchemaIncompatibleError
    │   └── UnknownSchemaError
    ├── CodecError (also ValueError)        (exchange.codec.exceptions)
    │   ├── EncodeError
    │   └── DecodeError                     .reason: the dead-letter reason code
    │       ├── NotSingleObjectError
    │       ├── UnknownFingerprintError
    │       └── MissingHeaderError
    ├── ValidationFailed (also ValueError)  (exchange.models.exceptions)  .errors: FieldError list
    │   ├── InvalidIdentifier               one value breaks one standard (GB 11643, ...)
    │   └── InputError                      (exchange.inputs) bytes not text, not JSON, too deep
    ├── UnknownEventError (also KeyError)   (exchange.models.registry)
    ├── TopologyError                       (exchange.topology.exceptions)
    │   ├── TopologyFileError
    │   ├── UnknownNameError (also KeyError)
    │   └── ApplyError
    ├── ClientError                         (exchange.client.exceptions)
    │   ├── NoTopicError
    │   ├── NotAuthorizedError
    │   ├── PublishError
    │   ├── BusUnreachableError             no broker answered (exchange.client.translate)
    │   └── KafkaClientError                any other Kafka client error, by class name
    ├── ConnectorError                      (connectors.sdk.exceptions: config, delivery, retries)
    ├── ProtectionError                     (exchange.protection.exceptions)
    │   ├── KeyStoreError
    │   │   └── UnknownKeyError (also KeyError)
    │   ├── EntitlementError
    │   ├── SealError
    │   ├── VerificationError               .reason: the quarantine reason code
    │   └── AuditChainError
    └── EvidenceError                       (exchange.evidence.exceptions)
        ├── TimeStampError                  .stage: url, http, reply, token, openssl
        ├── AuditUnavailableError           fail-closed: .agency, .retry_after
        └── BundleError                     .file, .rule

Errors carry data (the field, the rule, the topic, the offset) as attributes, and their message
says what to do about them.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Root of every error raised by the exchange bus library."""


class SettingsError(ExchangeError):
    """A setting is missing or inconsistent (e.g. SASL chosen but no password given)."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"setting {setting!r}: {problem}")
