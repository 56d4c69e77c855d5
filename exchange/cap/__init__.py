"""OASIS CAP 1.2 (Common Alerting Protocol) documents: build, parse and validate.

The public alert workflow renders each step of a missing minor's alert as a CAP message; the CAP
sink connector delivers them. See :mod:`.document`.
"""
