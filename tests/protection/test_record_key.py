"""The protected path refuses a record signed under a key other than its event's case key."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exchange.codec import KeyMismatchError
from exchange.examples import example
from exchange.protection.exceptions import VerificationError
from exchange.protection.protected import ProtectedCodec

Factory = Callable[[str], ProtectedCodec]


@pytest.mark.parametrize("key", [None, b"S-ANOTHER"])
def test_a_signed_record_under_another_key_is_a_key_mismatch(
    key: bytes | None, protected_as: Factory
) -> None:
    writer = protected_as("railway-police")
    sealed = writer.seal(
        example("transport-sighting"), source="/agencies/railway-police/test",
        readers=("police",),
    )
    # The producer signs what it sends: the signature is good, the key is not the case key.
    headers = [*sealed.headers, writer.signer.header(key, sealed.value, sealed.headers)]
    with pytest.raises(KeyMismatchError, match="sightingId"):
        protected_as("police").decode(key, sealed.value, headers, ("exchange.sighting", 0, 1))


def test_a_record_re_keyed_after_signing_does_not_verify(protected_as: Factory) -> None:
    writer = protected_as("railway-police")
    encoded = writer.encode(
        example("transport-sighting"), source="/agencies/railway-police/test",
        readers=("police",),
    )
    with pytest.raises(VerificationError):
        protected_as("police").decode(
            b"S-ANOTHER", encoded.value, encoded.headers, ("exchange.sighting", 0, 2)
        )
