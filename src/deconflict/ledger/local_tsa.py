"""A throwaway RFC 3161 timestamp authority on 127.0.0.1, for the demo and the tests only.

It is OpenSSL's own TSA (``openssl ts -reply``) behind a small HTTP handler, with a CA and a
TSA certificate made fresh by :func:`make_tsa_certificates` (``cryptography``'s X.509
builder). Its tokens are real RFC 3161 tokens that any verifier checks, but they prove only
what this machine's clock said: nothing here is an independent authority, and every output
that uses it says so (DEMO).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deconflict.errors import NotFound, ServiceUnavailable
from deconflict.ledger.timestamp import RESPONSE_CONTENT_TYPE

__all__ = ["LocalTSA", "TsaFiles", "make_tsa_certificates", "openssl_available"]

_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {serial}
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.3161.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl_available() -> bool:
    """Whether the ``openssl`` command is on PATH."""
    return shutil.which("openssl") is not None


@dataclass(frozen=True)
class TsaFiles:
    """Where a local TSA's files are: the CA certificate (the trust anchor) and the TSA's pair."""

    ca_cert: Path
    tsa_cert: Path
    tsa_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "deconflict DEMO local TSA (not independent)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])  # fmt: skip


def make_tsa_certificates(
    directory: Path,
    name: str,
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None,
) -> tuple[TsaFiles, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]]:
    """Write a CA certificate and a TSA certificate signed by it (EKU timeStamping, critical).

    Returns the files and the CA ``(key, certificate)`` so further TSAs can share the CA.
    """
    now = dt.datetime.now(dt.UTC)
    start = not_before or now - dt.timedelta(hours=1)
    end = not_after or now + dt.timedelta(days=30)
    if ca is None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder().subject_name(_name(f"{name} root CA")).issuer_name(_name(f"{name} root CA"))
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=365)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        ca = (ca_key, ca_cert)
    ca_key, ca_cert = ca
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa_cert = (
        x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca_cert.subject)
        .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    files = TsaFiles(directory / "ca.pem", directory / "tsa.pem", directory / "tsa.key")
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.tsa_cert.write_bytes(tsa_cert.public_bytes(serialization.Encoding.PEM))
    files.tsa_key.write_bytes(
        tsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    )  # fmt: skip
    files.tsa_key.chmod(0o600)
    return files, ca


class _Handler(BaseHTTPRequestHandler):
    server: _TSAServer

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(min(length, 1 << 16))
            reply = self.server.tsa.reply(query)
        except (ServiceUnavailable, ValueError) as exc:
            body = f"{exc}\n".encode()
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", RESPONSE_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the demo prints what matters."""


class _TSAServer(ThreadingHTTPServer):
    daemon_threads = True
    tsa: LocalTSA


class LocalTSA:
    """OpenSSL's TSA behind HTTP on 127.0.0.1, in a background thread (a context manager).

    Parameters
    ----------
    directory
        Where its certificates, key, configuration and serial file go.
    files
        Certificates to use; default a fresh CA and TSA certificate (:func:`make_tsa_certificates`).
    name
        The TSA certificate's common name.
    """

    def __init__(self, directory: Path, files: TsaFiles | None = None, *, name: str = "local DEMO TSA") -> None:
        if not openssl_available():
            raise NotFound("the 'openssl' command is needed for a local TSA and is not installed")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.files = files or make_tsa_certificates(directory, name)[0]
        self.config = directory / "tsa.cnf"
        (directory / "serial").write_text("01\n", encoding="ascii")
        self.config.write_text(_CONFIG.format(serial=directory / "serial"), encoding="ascii")
        self._lock = threading.Lock()
        self._server = _TSAServer(("127.0.0.1", 0), _Handler)
        self._server.tsa = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-tsa", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The TSA's URL (POST ``application/timestamp-query``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def reply(self, query: bytes) -> bytes:
        """The DER TimeStampResp OpenSSL gives for a DER TimeStampReq (override to misbehave in tests)."""
        return self.openssl_reply(query)

    def openssl_reply(self, query: bytes) -> bytes:
        """Run ``openssl ts -reply`` on ``query`` (the serial file is shared, so one at a time)."""
        with self._lock, tempfile.TemporaryDirectory(dir=self.directory) as work:
            query_file, reply_file = Path(work) / "query.tsq", Path(work) / "reply.tsr"
            query_file.write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.config), "-queryfile", str(query_file),
                 "-signer", str(self.files.tsa_cert), "-inkey", str(self.files.tsa_key), "-out", str(reply_file)],
                capture_output=True, timeout=30, check=False,
            )  # fmt: skip
            if done.returncode != 0 or not reply_file.exists():
                raise ServiceUnavailable(f"openssl ts -reply failed: {done.stderr.decode(errors='replace').strip()}")
            return reply_file.read_bytes()

    def query_for(self, data: bytes) -> bytes:
        """A fresh DER TimeStampReq over ``data`` made by ``openssl ts -query`` (random nonce)."""
        with tempfile.TemporaryDirectory(dir=self.directory) as work:
            data_file, query_file = Path(work) / "data", Path(work) / "query.tsq"
            data_file.write_bytes(data)
            subprocess.run(
                ["openssl", "ts", "-query", "-data", str(data_file), "-sha256", "-cert", "-out", str(query_file)],
                capture_output=True, timeout=30, check=True,
            )  # fmt: skip
            return query_file.read_bytes()

    def close(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> LocalTSA:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
