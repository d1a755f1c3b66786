"""Misbehaving outside servers for the ledger's tests (the honest ones live in the package)."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

from rfc3161_client import _rust as tsp_rust

from deconflict.ledger.local_tsa import LocalTSA

__all__ = ["OtherNoteTSA", "ReplayingTSA", "expired_options"]


class ReplayingTSA(LocalTSA):
    """Answers with a genuine token over the same digest but for a query with another nonce."""

    def reply(self, query: bytes) -> bytes:
        digest = tsp_rust.parse_timestamp_request(query).message_imprint.message.hex()
        with tempfile.TemporaryDirectory(dir=self.directory) as work:
            other = Path(work) / "other.tsq"
            subprocess.run(["openssl", "ts", "-query", "-digest", digest, "-sha256", "-cert", "-out", str(other)],
                           check=True, capture_output=True)  # fmt: skip
            return self.openssl_reply(other.read_bytes())


class OtherNoteTSA(LocalTSA):
    """Answers with a genuine token over another message."""

    def reply(self, query: bytes) -> bytes:
        return self.openssl_reply(self.query_for(b"another note\n"))


def expired_options() -> dict[str, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    return {"not_before": now - dt.timedelta(days=10), "not_after": now - dt.timedelta(days=1)}
