"""Data protection beside the codec: field encryption driven by the schemas' sensitivity tags,
Ed25519 signatures over each event, quarantine of what fails verification, and a hash-chained
audit trail. See :mod:`exchange.protection.envelope` for the wire design.

Keys travel on the bus: agencies ask for certification (:mod:`.key_requests`), the joint-meeting
office's root certifies (:mod:`.certificates`) on ``exchange.keys``, readers follow it
(:mod:`.key_bus`) into a :class:`~exchange.protection.keyring.Keyring`, a ``KeyStore``.
"""
