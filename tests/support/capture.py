"""Loopback packet capture for the canary test: ``tcpdump`` (Debian's package) on ``lo``,
limited to given TCP ports, and the capture's TCP streams put back together, so that a value
split across two segments is still found."""

from __future__ import annotations

import signal
import struct
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from types import TracebackType

ETHERNET = 1
LINUX_SLL = 113
LINUX_SLL2 = 276


class Capture:
    """``with Capture(pcap, ports):`` captures loopback TCP traffic on ``ports`` meanwhile.

    Each packet is handed over at once (immediate mode) from a 256 MiB kernel buffer: with the
    default 2 MiB, a loaded machine dropped half of the demo's packets; the test checks that
    none was dropped (:attr:`summary`). The file is written buffered and flushed at the end."""

    def __init__(self, pcap: Path, ports: list[int]) -> None:
        self.pcap = pcap
        self.ports = ports
        self._process: subprocess.Popen[bytes] | None = None
        self.summary = ""
        """What tcpdump said when it stopped ("N packets captured ... M dropped by kernel")."""

    def __enter__(self) -> Capture:
        expression = " or ".join(f"tcp port {port}" for port in self.ports)
        self._process = subprocess.Popen(
            ["tcpdump", "-i", "lo", "--immediate-mode", "-B", "262144", "-s", "0", "-n",
             "-w", str(self.pcap), expression],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        assert self._process.stderr is not None
        line = self._process.stderr.readline().decode(errors="replace")  # "listening on lo ..."
        if "listening on" not in line:
            self._process.kill()
            raise RuntimeError(f"tcpdump did not start: {line.strip()}")
        time.sleep(0.2)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        time.sleep(2)  # the last packets reach the file (each is written as it comes)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            self.summary = process.stderr.read().decode(errors="replace")
            process.stderr.close()


def tcp_streams(pcap: Path) -> list[bytes]:
    """Every TCP stream's payload in sequence order, one bytes per direction of a connection
    (retransmitted segments kept once)."""
    data = pcap.read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    segments: dict[tuple[bytes, bytes, int, int], dict[int, bytes]] = defaultdict(dict)
    offset = 24
    while offset + 16 <= len(data):
        captured = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        found = _tcp_payload(frame, linktype)
        if found is not None and found[1]:
            flow, payload, seq = found[0], found[1], found[2]
            segments[flow].setdefault(seq, payload)
    return [b"".join(payload for _, payload in sorted(by_seq.items()))
            for by_seq in segments.values()]


def _tcp_payload(
    frame: bytes, linktype: int
) -> tuple[tuple[bytes, bytes, int, int], bytes, int] | None:
    if linktype == ETHERNET:
        ethertype, ip = struct.unpack("!H", frame[12:14])[0], frame[14:]
    elif linktype == LINUX_SLL:
        ethertype, ip = struct.unpack("!H", frame[14:16])[0], frame[16:]
    elif linktype == LINUX_SLL2:
        ethertype, ip = struct.unpack("!H", frame[0:2])[0], frame[20:]
    else:
        raise ValueError(f"unexpected pcap link type {linktype}")
    if ethertype == 0x0800 and ip and ip[9] == 6:
        header = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        source, target, tcp = ip[12:16], ip[16:20], ip[header:total]
    elif ethertype == 0x86DD and len(ip) > 40 and ip[6] == 6:
        source, target, tcp = ip[8:24], ip[24:40], ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    else:
        return None
    if len(tcp) < 20:
        return None
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    payload = tcp[(tcp[12] >> 4) * 4:]
    return (source, target, sport, dport), payload, seq
