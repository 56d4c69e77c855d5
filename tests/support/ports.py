"""Free loopback ports for the brokers a test module starts of its own."""

from __future__ import annotations

import socket


def free_port_pair() -> int:
    """A free loopback port whose successor is free too (client and controller ports)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise AssertionError("no two free consecutive ports on loopback")
