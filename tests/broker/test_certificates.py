"""The local cluster's certificates: one per node in <state>/pki, an expired one renewed by the
next start (``certificates()`` is what ``up`` runs before starting each node)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from exchange.broker.exceptions import BrokerError
from exchange.broker.local import LocalCluster


def _not_after(path: Path) -> dt.datetime:
    return x509.load_pem_x509_certificates(path.read_bytes())[0].not_valid_after_utc


def test_each_node_gets_a_certificate_and_an_expired_one_is_renewed(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path / "state", nodes=3, base_port=40000)
    issued = cluster.certificates()
    assert [i.path.name for i in issued] == ["node-1.pem", "node-2.pem", "node-3.pem"]
    assert all(i.renewed for i in issued)
    assert cluster.client_settings().ssl_cafile == cluster.pki.ca_file
    now = dt.datetime.now(dt.UTC)
    cluster.pki.write_server("node-2", ["127.0.0.1"], now - dt.timedelta(days=91),
                             now - dt.timedelta(days=1))
    again = cluster.certificates()
    assert [i.renewed for i in again] == [False, True, False]
    assert _not_after(again[1].path) > now + dt.timedelta(days=80)


def test_nodes_on_addresses_of_their_own_get_certificates_naming_them(tmp_path: Path) -> None:
    hosts = ["10.99.48.11", "10.99.48.12", "10.99.48.13"]
    cluster = LocalCluster(tmp_path / "state", nodes=3, base_port=40000, hosts=hosts)
    assert cluster.bootstrap == "10.99.48.11:40000,10.99.48.12:40002,10.99.48.13:40004"
    for issued, host in zip(cluster.certificates(), hosts, strict=True):
        certificate = x509.load_pem_x509_certificates(issued.path.read_bytes())[0]
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert host in {str(ip) for ip in names.value.get_values_for_type(x509.IPAddress)}


def test_a_host_per_node_or_none(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="2 hosts for 3 nodes"):
        LocalCluster(tmp_path / "state", nodes=3, hosts=["10.0.0.1", "10.0.0.2"])
