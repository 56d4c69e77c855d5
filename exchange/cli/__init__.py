"""The exchange command."""
