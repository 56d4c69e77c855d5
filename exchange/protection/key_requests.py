"""Key requests: an agency asks the joint-meeting office to certify one of its public keys.

A request is the value of a record of the agency's own topic ``exchange.key-request.<agency>``
(only that agency may write it: the broker's ACL says who asked), keyed by the key id::

    {"v": 1, "key_id": "police.enc.1", "agency": "police", "kind": "enc", "version": 1,
     "public": "<base64>", "created": "<ISO time>", "signed_by": "police.sig.1",
     "signature": "<base64 Ed25519>"}

It is signed (over ``exchange.keyreq.v1`` + 0x0A + the canonical JSON without ``signature``)
by the agency's signing key: a ``sig`` key signs its own request (proof that the agency holds
its private half); an ``enc`` key's request is signed by a ``sig`` key of the same agency whose
own request (or certificate) the office has. :func:`check_requests` applies these rules and
returns the keys that may be certified; the operator still compares the fingerprints with the
agency out of band before certifying (as with any certificate authority).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.protection.certificates import canonical
from exchange.protection.exceptions import KeyRequestError, KeyStoreError
from exchange.protection.keys import KeyInfo, KeyStore, parse_key_id

__all__ = ["CheckedRequests", "check_requests", "make_request", "request_topic"]

REQUEST_DOMAIN = b"exchange.keyreq.v1\n"
_FIELDS = {"v", "key_id", "agency", "kind", "version", "public", "created", "signed_by"}


def request_topic(agency: str) -> str:
    return f"exchange.key-request.{agency}"


def make_request(store: KeyStore, info: KeyInfo, signed_by: str) -> bytes:
    """The request for ``info``, signed with ``signed_by`` (a sig key of the same agency)."""
    body: dict[str, Any] = {
        "v": 1, "key_id": info.key_id, "agency": info.agency, "kind": info.kind,
        "version": info.version, "public": base64.b64encode(info.public).decode(),
        "created": info.created, "signed_by": signed_by,
    }  # fmt: skip
    signature = store.signing_key(signed_by).sign(REQUEST_DOMAIN + canonical(body))
    body["signature"] = base64.b64encode(signature).decode()
    return canonical(body)


@dataclass(frozen=True)
class CheckedRequests:
    """The keys an agency's requests ask for that passed every rule, and the refused ones."""

    accepted: list[KeyInfo]
    refused: list[KeyRequestError]


def check_requests(
    agency: str, records: Iterable[tuple[bytes | None, bytes | None]],
    certified_sig: Mapping[str, bytes] | None = None,
) -> CheckedRequests:
    """Check the records read from ``agency``'s request topic (the latest per key id wins).

    ``certified_sig``: public keys of ``agency``'s sig keys already certified, which may sign
    requests for its new keys.
    """
    latest: dict[str, dict[str, Any]] = {}
    refused: list[KeyRequestError] = []
    for key, value in records:
        key_id = (key or b"").decode(errors="replace")
        try:
            body = _parse(key_id, value, agency)
        except KeyRequestError as error:
            refused.append(error)
            continue
        latest[body["key_id"]] = body
    signers = dict(certified_sig or {})
    for body in latest.values():  # sig keys first: they prove possession by signing themselves
        self_signed = body["kind"] == "sig" and body["signed_by"] == body["key_id"]
        if self_signed and _verified(body, body["public_raw"]):
            signers[body["key_id"]] = body["public_raw"]
    accepted: list[KeyInfo] = []
    for body in latest.values():
        key_id = body["key_id"]
        signer = signers.get(body["signed_by"])
        if body["kind"] == "sig" and body["signed_by"] != key_id:
            refused.append(KeyRequestError(key_id, "a signing key's request must sign itself"))
        elif signer is None:
            refused.append(
                KeyRequestError(key_id, f"signed by {body['signed_by']}, a key not requested")
            )
        elif not _verified(body, signer):
            refused.append(KeyRequestError(key_id, f"the signature by {body['signed_by']} fails"))
        else:
            accepted.append(
                KeyInfo(
                    key_id, agency, body["kind"], body["version"], "active", body["public_raw"],
                    body["created"],
                )
            )
    accepted.sort(key=lambda i: (i.kind, i.version))
    return CheckedRequests(accepted, refused)


def _parse(key_id: str, value: bytes | None, agency: str) -> dict[str, Any]:
    try:
        data = json.loads(value or b"")
    except (UnicodeDecodeError, ValueError):
        raise KeyRequestError(key_id, "not a JSON object") from None
    if not isinstance(data, dict) or set(data) != {*_FIELDS, "signature"}:
        raise KeyRequestError(key_id, f"fields must be exactly {sorted({*_FIELDS, 'signature'})}")
    try:
        parsed = parse_key_id(str(data["key_id"]))
        signer = parse_key_id(str(data["signed_by"]))
    except KeyStoreError as error:
        raise KeyRequestError(key_id, str(error)) from None
    if data["key_id"] != key_id or parsed != (data["agency"], data["kind"], data["version"]):
        raise KeyRequestError(key_id, "record key, key_id, agency, kind and version disagree")
    if data["agency"] != agency or signer[0] != agency or signer[1] != "sig":
        raise KeyRequestError(
            key_id, f"only {agency}'s own keys, signed by its sig key, go on its request topic"
        )
    if not isinstance(data["created"], str):
        raise KeyRequestError(key_id, "created is not a string")
    try:
        data["public_raw"] = binascii.a2b_base64(data["public"], strict_mode=True)
        data["signature_raw"] = binascii.a2b_base64(data.pop("signature"), strict_mode=True)
    except (binascii.Error, ValueError, TypeError):
        raise KeyRequestError(key_id, "public or signature is not base64") from None
    if len(data["public_raw"]) != 32:
        raise KeyRequestError(key_id, "public is not a 32-byte key")
    return dict(data)


def _verified(body: dict[str, Any], signer: bytes) -> bool:
    signed = {name: body[name] for name in _FIELDS}
    try:
        Ed25519PublicKey.from_public_bytes(signer).verify(
            body["signature_raw"], REQUEST_DOMAIN + canonical(signed)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
