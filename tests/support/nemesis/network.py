"""A network the nemesis can cut: each broker in a network namespace of its own, joined to the
others and to the host by a bridge, so that one broker's network can be cut off from every
other process (brokers and clients alike) and mended, the way a switch port fails.

Made with iproute2 (``ip netns``, a bridge, one veth pair per broker); needs CAP_NET_ADMIN
and CAP_SYS_ADMIN (root on the CI machine). Names and the subnet derive from the run's base
port, so two runs on different base ports do not meet::

    host ── bridge nb<port> 10.<p>.<q>.1/24
              ├── nv<port><id> ══ np<port><id> 10.<p>.<q>.1<id>/24 in namespace nn<port>-<id>
              ...

A cut sets the host end of the node's veth down: packets to and from the node are dropped
(no reset, no refusal: connections hang until their timeouts, as in a real partition).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from exchange.broker.config import NodeLayout


class NetworkError(Exception):
    """An ``ip`` command the network needs failed (its output says why)."""


def _ip(*args: str, check: bool = True) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


@dataclass(frozen=True)
class Network:
    base_port: int
    nodes: int

    @property
    def _subnet(self) -> str:
        return f"10.{(self.base_port >> 8) & 0xFF}.{self.base_port & 0xFF}"

    @property
    def bridge(self) -> str:
        return f"nb{self.base_port}"

    def namespace(self, node_id: int) -> str:
        return f"nn{self.base_port}-{node_id}"

    def _host_end(self, node_id: int) -> str:
        return f"nv{self.base_port}{node_id}"

    def _node_end(self, node_id: int) -> str:
        return f"np{self.base_port}{node_id}"

    @property
    def hosts(self) -> list[str]:
        """Each node's address, in node order (node ids start at 1)."""
        return [f"{self._subnet}.{10 + i}" for i in range(1, self.nodes + 1)]

    def launcher(self, node: NodeLayout) -> list[str]:
        """The command a node's process starts under: inside its namespace."""
        return ["ip", "netns", "exec", self.namespace(node.node_id)]

    def up(self) -> None:
        """Make the bridge and the namespaces (anew: a previous run's are removed first)."""
        self.down()
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self._subnet}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for node_id, host in enumerate(self.hosts, start=1):
            ns, outside, inside = (
                self.namespace(node_id), self._host_end(node_id), self._node_end(node_id),
            )
            _ip("netns", "add", ns)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", ns)
            _ip("link", "set", outside, "master", self.bridge)
            _ip("link", "set", outside, "up")
            _ip("-n", ns, "addr", "add", f"{host}/24", "dev", inside)
            _ip("-n", ns, "link", "set", inside, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def cut(self, node_id: int) -> None:
        _ip("link", "set", self._host_end(node_id), "down")

    def mend(self, node_id: int) -> None:
        _ip("link", "set", self._host_end(node_id), "up")

    def down(self) -> None:
        """Remove what :meth:`up` made (what is not there is skipped). A process still running
        in a namespace keeps it alive, unnamed: stop the brokers first."""
        for node_id in range(1, self.nodes + 1):
            _ip("link", "del", self._host_end(node_id), check=False)  # its peer goes with it
            _ip("netns", "del", self.namespace(node_id), check=False)
        _ip("link", "del", self.bridge, check=False)
