"""Evidence that holds up outside the bus: signed checkpoints of the audit chains, a notary
that time-stamps them (RFC 3161) in Merkle trees, a fail-closed guard for publishers, and a
case's disclosure bundle that anyone can verify offline."""
