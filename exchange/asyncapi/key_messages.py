"""The messages of the key topics: an agency's request to certify a key, and the joint-meeting
office's certificate (formats: :mod:`exchange.protection.key_requests`,
:mod:`exchange.protection.certificates`). Both are signed canonical JSON, not events."""

from __future__ import annotations

from typing import Any

KEY_REQUEST = "KeyRequest"
KEY_CERTIFICATE = "KeyCertificate"
KEY_REQUEST_PREFIX = "exchange.key-request."
KEYS_TOPIC = "exchange.keys"

_TEXT = {"type": "string"}
_KEY = {
    "key_id": {**_TEXT, "description": "<agency>.<sig|enc>.<version>, also the record key."},
    "agency": _TEXT,
    "kind": {"type": "string", "enum": ["sig", "enc"],
             "description": "sig: Ed25519 signing key; enc: X25519 sealing key."},
    "version": {"type": "integer", "minimum": 1},
    "public": {**_TEXT, "description": "base64 of the 32-byte public key."},
    "created": {**_TEXT, "description": "when the agency made the key (ISO 8601)."},
}  # fmt: skip


def key_messages() -> dict[str, Any]:
    base = ["v", *_KEY]
    return {
        KEY_REQUEST: {
            "name": KEY_REQUEST,
            "title": "An agency asks the joint-meeting office to certify one of its keys",
            "summary": "Signed by the agency's signing key (a signing key signs its own "
            "request); the topic is the agency's own, so the broker's ACL says who asked.",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": [*base, "signed_by", "signature"],
                "properties": {
                    "v": {"type": "integer", "const": 1}, **_KEY,
                    "signed_by": {**_TEXT, "description": "the agency's sig key id."},
                    "signature": {**_TEXT, "description": "base64 Ed25519 over "
                                  "exchange.keyreq.v1 LF + the canonical JSON without it."},
                },
            },
        },
        KEY_CERTIFICATE: {
            "name": KEY_CERTIFICATE,
            "title": "A public key certified (or revoked) by the joint-meeting office's root",
            "summary": "Readers accept it only when the root's fingerprint is the one pinned "
            "in topology/trust.toml; the latest per key id is kept (compacted).",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": [*base, "status", "issued", "reason", "root", "signature"],
                "properties": {
                    "v": {"type": "integer", "const": 1}, **_KEY,
                    "status": {"type": "string", "enum": ["active", "revoked"]},
                    "issued": {**_TEXT, "description": "when the office signed it (ISO 8601)."},
                    "reason": {**_TEXT, "description": "why revoked; empty otherwise."},
                    "root": {**_TEXT, "description": "base64 of the root's Ed25519 public key."},
                    "signature": {**_TEXT, "description": "base64 Ed25519 by the root over "
                                  "exchange.keycert.v1 LF + the canonical JSON without it."},
                },
            },
        },
    }
