"""The HTTP gateway over TLS: a client certificate's subject CN maps to the caller's agency."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from connectors.adapters.http_gateway import HttpGateway, HttpGatewayConfig
from exchange.examples import example_json

pytestmark = pytest.mark.broker


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate for the staff app."""
    assert shutil.which("openssl"), "openssl is needed (Debian package openssl)"
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.crt", cwd=folder,
    )  # fmt: skip
    for name, extra in (("server", "subjectAltName=IP:127.0.0.1"), ("staff-app", None)):
        openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder,
        )  # fmt: skip
        sign = ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key"]
        sign += ["-CAcreateserial", "-days", "1", "-out", f"{name}.crt"]
        if extra:
            (folder / f"{name}.ext").write_text(extra + "\n")
            sign += ["-extfile", f"{name}.ext"]
        openssl(*sign, cwd=folder)


async def test_client_certificate_is_mapped_to_its_agency(harness, tmp_path: Path) -> None:
    make_pki(tmp_path)
    config = harness.config(
        HttpGatewayConfig,
        kind="http-gateway",
        name=harness.unique_name("gw-tls"),
        agency="transport",
        port=0,
        callers=[{"agency": "transport", "certificate_cn": "staff-app",
        "source": "/agencies/transport/t/tls"}],
        tls={
            "certfile": tmp_path / "server.crt",
            "keyfile": tmp_path / "server.key",
            "client_cafile": tmp_path / "ca.crt",
        },
    )
    with_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    with_cert.load_cert_chain(tmp_path / "staff-app.crt", tmp_path / "staff-app.key")
    without_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    gateway = HttpGateway(config, harness.context)
    body = example_json("transport-sighting")
    async with harness.running(gateway), aiohttp.ClientSession() as session:
        await harness.until(lambda: gateway.port)
        url = f"https://127.0.0.1:{gateway.port}/v1/events/transport-sighting"
        async with session.post(url, json=body, ssl=with_cert) as response:
            accepted = (response.status, await response.json())
        async with session.post(url, json=body, ssl=without_cert) as response:
            refused = response.status
    assert accepted[0] == 202, accepted
    assert refused == 401
