"""RFC 3161 timestamps of checkpoints: an outside authority's word that a note existed by then.

A timestamp authority (TSA) signs ``(SHA-256 of our message, its own clock's time, our
nonce)`` with a certificate whose extended key usage is ``timeStamping``. We send the log's
signed checkpoint note, so the token proves that the note — and so every entry of the tree it
signs — existed no later than the token's ``genTime``, by the TSA's clock, whoever operates
the log.

Library choice (the ASN.1/CMS work is never hand-written here):

- ``rfc3161-client`` (Trail of Bits; the TSP client of sigstore-python) builds the request
  (imprint, random 64-bit nonce, ``certReq``), parses the response with a strict DER parser
  and verifies the CMS signature with OpenSSL's ``PKCS7_verify`` at the token's ``genTime``
  (so a certificate that expired *after* signing still verifies, one expired *before* does
  not), purpose ``timestamping``, against only the roots and intermediates we give it; it
  then checks status, nonce, a critical ``timeStamping`` EKU and the imprint.
- ``asn1crypto`` + ``cryptography`` was the alternative: a lenient pure-Python parser of the
  TSP/CMS structures, but no CMS signature verification, so the signed-attribute checks
  (messageDigest, the DER SET re-encoding, algorithm dispatch, the ESS signing-certificate
  binding) would have to be written here — the hand-rolled crypto glue we avoid. Its last
  release is from 2022.

We use ``rfc3161-client``. Its one limit met in testing: a response whose certificate SET
is not in DER order (OpenSSL's ``ts -reply -chain`` writes the chain in chain order) is
refused as unparseable; such a TSA must be asked without the chain (the chain then comes
from the trust anchors given with ``--tsa-cert``).
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import (
    TimestampRequestBuilder,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client import (
    VerificationError as TspVerificationError,
)
from rfc3161_client.base import HashAlgorithm

from deconflict.errors import InvalidInput, NotFound, ServiceUnavailable, VerificationError
from deconflict.times import format_utc

__all__ = [
    "REQUEST_CONTENT_TYPE",
    "RESPONSE_CONTENT_TYPE",
    "TsaTrust",
    "VerifiedTimestamp",
    "load_tsa_trust",
    "request_timestamp",
    "verify_timestamp",
]

REQUEST_CONTENT_TYPE = "application/timestamp-query"
RESPONSE_CONTENT_TYPE = "application/timestamp-reply"
MAX_RESPONSE_BYTES = 1 << 20
_IMPRINT_HASHES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
                   "2.16.840.1.101.3.4.2.3": "sha512"}  # fmt: skip
_OPENSSL_REASON = re.compile(r'data: "(?:Verify error: )?([^"]+)"')


@dataclass(frozen=True)
class TsaTrust:
    """The certificates a timestamp may chain to: roots (trust anchors) and intermediates.

    Self-signed certificates are roots; any other certificate given (a TSA's own
    certificate, an intermediate CA) helps build the chain but is not trusted by itself.
    """

    roots: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate]) -> TsaTrust:
        """Sort certificates into roots and intermediates, dropping duplicates."""
        roots: dict[bytes, x509.Certificate] = {}
        others: dict[bytes, x509.Certificate] = {}
        for certificate in certificates:
            der = certificate.public_bytes(Encoding.DER)
            (roots if _self_signed(certificate) else others)[der] = certificate
        return cls(tuple(roots.values()), tuple(others.values()))

    @classmethod
    def from_pem(cls, data: bytes | str, where: str | None = None) -> TsaTrust:
        """Certificates from PEM text (one or more ``BEGIN CERTIFICATE`` blocks).

        Raises
        ------
        InvalidInput
            If the text holds no certificate or a malformed one.
        """
        raw = data.encode("ascii", "replace") if isinstance(data, str) else data
        if not raw.strip():
            return cls()
        try:
            if b"-----BEGIN" in raw:
                certificates = x509.load_pem_x509_certificates(raw)
            else:
                certificates = [x509.load_der_x509_certificate(raw)]
        except ValueError as exc:
            raise InvalidInput(f"not a PEM or DER X.509 certificate file: {exc}", where=where) from None
        return cls.from_certificates(certificates)

    def __add__(self, other: TsaTrust) -> TsaTrust:
        return TsaTrust.from_certificates([*self.roots, *self.intermediates, *other.roots, *other.intermediates])

    def __bool__(self) -> bool:
        return bool(self.roots)

    def pem(self) -> str:
        """Every certificate as PEM text, roots last."""
        return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in (*self.intermediates, *self.roots))


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, Exception):  # InvalidSignature and unsupported key types alike
        return False
    return True


def load_tsa_trust(paths: Sequence[str | Path]) -> TsaTrust:
    """The certificates in ``paths`` (PEM bundles or single DER certificates).

    Raises
    ------
    NotFound
        A file that does not exist.
    InvalidInput
        A file without a valid certificate.
    """
    trust = TsaTrust()
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise NotFound("TSA certificate file does not exist", where=str(path)) from None
        except OSError as exc:
            raise InvalidInput(f"cannot read the TSA certificate file: {exc}", where=str(path)) from None
        found = TsaTrust.from_pem(data, where=str(path))
        if not found.roots and not found.intermediates:
            raise InvalidInput("the file holds no certificate", where=str(path))
        trust = trust + found
    return trust


@dataclass(frozen=True)
class VerifiedTimestamp:
    """What a verified RFC 3161 token says: who vouched for which time."""

    gen_time: datetime
    tsa: str
    serial: int
    policy: str
    nonce: int | None
    accuracy_s: float | None
    chain_pem: str

    @property
    def gen_time_text(self) -> str:
        """``genTime`` as ISO 8601 UTC text."""
        return format_utc(self.gen_time)


def request_timestamp(url: str, message: bytes, *, timeout: float = 30.0) -> tuple[bytes, int]:
    """Ask the TSA at ``url`` for a token over SHA-256(``message``); return (response DER, nonce).

    The response is not verified here: pass it to :func:`verify_timestamp` with the nonce.

    Raises
    ------
    ServiceUnavailable
        The TSA could not be reached, answered with an HTTP error, or sent too much.
    InvalidInput
        ``url`` is not an http(s) URL.
    """
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"a TSA URL must start with http:// or https://, got {url!r}", where="--tsa")
    request = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    if request.nonce is None:  # pragma: no cover - the builder always sets one
        raise ServiceUnavailable("the timestamp request has no nonce")
    http_request = urllib.request.Request(
        url, data=request.as_bytes(), method="POST",
        headers={"Content-Type": REQUEST_CONTENT_TYPE, "Accept": RESPONSE_CONTENT_TYPE},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as answer:
            body = answer.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ServiceUnavailable(f"the TSA answered HTTP {exc.code} {exc.reason}", where=url) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceUnavailable(f"the TSA could not be reached: {reason}", where=url) from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise ServiceUnavailable(f"the TSA's answer is larger than {MAX_RESPONSE_BYTES} bytes", where=url)
    return body, int(request.nonce)


def verify_timestamp(
    response: bytes, message: bytes, trust: TsaTrust, *, nonce: int | None = None, where: str | None = None
) -> VerifiedTimestamp:
    """Verify an RFC 3161 TimeStampResp over ``message`` against ``trust``; return what it says.

    Checks: the status is *granted*; the CMS signature verifies with a certificate that chains
    to one of ``trust.roots`` and was valid at ``genTime``, with a critical ``timeStamping``
    extended key usage; the message imprint is the hash of ``message``; the nonce (when given)
    is the one sent. Revocation (CRL/OCSP) is not checked: that needs the network.

    Raises
    ------
    VerificationError
        Naming the first check that failed.
    """
    try:
        parsed = decode_timestamp_response(response)
    except ValueError as exc:
        raise VerificationError(f"not an RFC 3161 TimeStampResp in DER: {exc}", where=where) from None
    if parsed.status not in (0, 1):
        text = "; ".join(parsed.status_string) or "no reason given"
        raise VerificationError(f"the TSA refused the request (PKIStatus {parsed.status}: {text})", where=where)
    if not trust:
        raise VerificationError(
            "no trusted TSA root certificate: pass the TSA's certificate chain with --tsa-cert", where=where
        )
    info = parsed.tst_info
    imprint = info.message_imprint
    algorithm = _IMPRINT_HASHES.get(imprint.hash_algorithm.dotted_string)
    if algorithm is None:
        raise VerificationError(f"unsupported imprint hash {imprint.hash_algorithm.dotted_string}", where=where)
    if hashlib.new(algorithm, message).digest() != imprint.message:
        raise VerificationError(_explain("Mismatch between messages", None, info.gen_time), where=where)
    if nonce is not None and info.nonce != nonce:
        raise VerificationError(
            f"the token's nonce {info.nonce} is not the nonce {nonce} sent: a replayed or substituted answer",
            where=where,
        )
    embedded = [x509.load_der_x509_certificate(der) for der in parsed.signed_data.certificates]
    signer = _signer_certificate(parsed, [*embedded, *trust.intermediates, *trust.roots])
    builder = VerifierBuilder(
        roots=list(trust.roots), intermediates=list(trust.intermediates), nonce=nonce,
        tsa_certificate=None if embedded else signer,
    )  # fmt: skip
    try:
        builder.build().verify_message(parsed, message)
    except TspVerificationError as exc:
        raise VerificationError(_explain(str(exc), signer, info.gen_time), where=where) from None
    chain = _chain(signer, [*embedded, *trust.intermediates, *trust.roots])
    accuracy = info.accuracy
    accuracy_s = None
    if accuracy is not None:
        accuracy_s = accuracy.seconds + (accuracy.millis or 0) / 1e3 + (accuracy.micros or 0) / 1e6
    return VerifiedTimestamp(
        gen_time=info.gen_time.astimezone(UTC), tsa=signer.subject.rfc4514_string() if signer else "unknown TSA",
        serial=int(info.serial_number), policy=info.policy.dotted_string, nonce=info.nonce, accuracy_s=accuracy_s,
        chain_pem="".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in chain),
    )  # fmt: skip


def _signer_certificate(parsed: object, candidates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """The certificate named by the (single) SignerInfo's issuer and serial number."""
    infos = list(parsed.signed_data.signer_infos)  # type: ignore[attr-defined]
    if len(infos) != 1:
        raise VerificationError(f"a timestamp token has exactly one signer, this one has {len(infos)}")
    info = infos[0]
    for certificate in candidates:
        if certificate.issuer == info.issuer and certificate.serial_number == info.serial_number:
            return certificate
    return None


def _chain(leaf: x509.Certificate | None, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Leaf, then each issuer found in ``pool`` (for display and for the bundle; trust is decided above)."""
    if leaf is None:
        return []
    chain = [leaf]
    while not _self_signed(chain[-1]) and len(chain) < 8:
        issuer = next(
            (c for c in pool if c.subject == chain[-1].issuer and c not in chain and _issued(chain[-1], c)), None
        )
        if issuer is None:
            break
        chain.append(issuer)
    return chain


def _issued(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except Exception:
        return False
    return True


def _explain(reason: str, signer: x509.Certificate | None, gen_time: datetime) -> str:
    """The library's message, in words a reader of the CLI understands."""
    if "Mismatch between messages" in reason:
        return "the token is over another message: its imprint is not the SHA-256 of this checkpoint note"
    if "Nonce mismatch" in reason:
        return "the token's nonce is not the nonce sent: a replayed or substituted answer"
    if "EKU" in reason:
        return f"the TSA certificate is not a timestamping certificate ({reason})"
    match = _OPENSSL_REASON.search(reason)
    detail = match.group(1) if match else reason
    who = signer.subject.rfc4514_string() if signer is not None else "the TSA"
    if "expired" in detail or "not yet valid" in detail:
        return f"the certificate of {who} was not valid at the token's time {format_utc(gen_time)} ({detail})"
    if "local issuer" in detail or "self-signed" in detail or "unable to get" in detail:
        return (
            f"the certificate of {who} does not chain to a trusted TSA root ({detail}); pass its root with --tsa-cert"
        )
    return f"the timestamp signature does not verify: {detail}"
