"""Data protection beside the codec: field encryption driven by the schemas' sensitivity tags,
Ed25519 signatures over each event, quarantine of what fails verification, and a hash-chained
audit trail. See :mod:`exchange.protection.envelope` for the wire design.
"""
