"""AsyncAPI 3.0: the bus's event API as a machine-readable contract.

:func:`build_document` describes the whole bus or one agency (servers with TLS + SCRAM, one
channel per topic, one message per event type with its Avro schema, operations from the ACLs);
:mod:`exchange.asyncapi.parser` validates documents with the AsyncAPI project's own parser
(node, ``validator/``); :mod:`exchange.asyncapi.consistency` lists where a document and the
topology or the schemas disagree.
"""

from exchange.asyncapi.document import build_document

__all__ = ["build_document"]
