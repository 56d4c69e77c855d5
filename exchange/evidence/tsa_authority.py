"""A local RFC 3161 time-stamping authority: OpenSSL's ``openssl ts -reply`` behind HTTP.

For development and tests the project runs a real TSA instead of a stub: :func:`init_authority`
makes a small CA and a TSA certificate (EC P-256, ``extendedKeyUsage`` critical
``timeStamping``, as RFC 3161 §2.3 requires) with the ``cryptography`` package, and an
``openssl.cnf`` whose ``tsa_config1`` section names them; :class:`TsaServer` answers
``POST application/timestamp-query`` with ``openssl ts -reply`` (serialised: OpenSSL keeps the
serial number in a file). Production points :class:`~exchange.evidence.tsa.TsaClient` at a
real TSA's URL instead (``EXCHANGE_NOTARY__TSA_URL``) and trusts its CA (``..._TSA_CA_FILE``).

Folder (``<state>/tsa``)::

    ca.pem       the CA certificate a verifier trusts (``openssl ts -verify -CAfile``)
    tsa.pem      the TSA's certificate (also inside each token)
    tsa.key      the TSA's private key, mode 0600 (the CA's key is not kept)
    openssl.cnf  serial  (OpenSSL's TSA configuration and serial counter)
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exchange.evidence.tsa import QUERY_TYPE, REPLY_TYPE

POLICY = "1.3.6.1.4.1.57264.9.1"
"""The TSA policy OID in the local authority's tokens (a development policy, not a real one)."""
MAX_QUERY = 64 * 1024

_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Xi'an exchange bus (development)"),
        x509.NameAttribute(NameOID.COMMON_NAME, common),
    ])


def init_authority(folder: Path, *, days: int = 3650) -> Path:
    """Make the CA, the TSA certificate and OpenSSL's configuration in ``folder`` unless they
    are there; return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "openssl.cnf").exists():
        return folder
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(_name("exchange local TSA CA"))
        .issuer_name(_name("exchange local TSA CA")).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    tsa = (
        x509.CertificateBuilder().subject_name(_name("exchange local TSA"))
        .issuer_name(ca.subject).public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    descriptor = os.open(folder / "tsa.key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(tsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
    (folder / "serial").write_text("01\n", encoding="ascii")
    (folder / "openssl.cnf").write_text(
        _CONFIG.format(folder=folder.resolve(), policy=POLICY), encoding="utf-8"
    )
    return folder


class TsaServer:
    """``openssl ts -reply`` over HTTP on ``host:port`` (0: any free port), in a thread."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = init_authority(folder)
        self._lock = threading.Lock()
        self.answered = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                kind = self.headers.get("Content-Type", "").split(";")[0].strip()
                length = int(self.headers.get("Content-Length") or 0)
                if kind != QUERY_TYPE or not 0 < length <= MAX_QUERY:
                    self.send_error(415 if kind != QUERY_TYPE else 413,
                                    f"send a {QUERY_TYPE} of at most {MAX_QUERY} bytes")
                    return
                reply = server.reply(self.rfile.read(length))
                if reply is None:
                    self.send_error(400, "openssl ts -reply refused the query")
                    return
                self.send_response(200)
                self.send_header("Content-Type", REPLY_TYPE)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the caller counts and logs."""

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    def reply(self, query: bytes) -> bytes | None:
        """The DER ``TimeStampResp`` that ``openssl ts -reply`` gives ``query`` (None: refused)."""
        with self._lock, tempfile.TemporaryDirectory(prefix="exchange-tsa-") as work:
            query_file, reply_file = Path(work) / "q.tsq", Path(work) / "r.tsr"
            query_file.write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.folder / "openssl.cnf"),
                 "-section", "tsa_config1", "-queryfile", str(query_file),
                 "-out", str(reply_file)],
                capture_output=True, timeout=30, check=False,
            )
            if done.returncode != 0 or not reply_file.exists():
                return None
            self.answered += 1
            return reply_file.read_bytes()

    def start(self) -> TsaServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="tsa", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        self.httpd.serve_forever()
