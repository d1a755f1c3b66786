"""The tlog-witness protocol over HTTP: the witness's server and the log's client call.

The server is the standard library's threading HTTP server: the protocol is two routes with
tiny text bodies, and :class:`~deconflict.ledger.witness.Witness` serialises the writes, so a
web framework would add a dependency and nothing else. ``POST <prefix>/add-checkpoint``
and ``GET <prefix>/<origin hash>/checkpoint`` are served; everything else is 404.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deconflict.errors import InvalidInput, ServiceUnavailable
from deconflict.ledger.witness import Witness, WitnessAnswer, add_checkpoint_body

__all__ = ["MAX_BODY_BYTES", "RunningWitness", "WitnessHTTPServer", "post_checkpoint", "start_witness"]

MAX_BODY_BYTES = 1 << 16


class _Handler(BaseHTTPRequestHandler):
    server: WitnessHTTPServer
    protocol_version = "HTTP/1.1"

    def _send(self, answer: WitnessAnswer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _path(self) -> str | None:
        prefix = self.server.prefix
        path = self.path.split("?", 1)[0]
        return path[len(prefix) :] if path.startswith(prefix) else None

    def do_POST(self) -> None:
        if self._path() != "/add-checkpoint":
            self._send(WitnessAnswer.text(404, "not found"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(WitnessAnswer.text(411, "a Content-Length is required"))
            return
        if not 0 <= length <= MAX_BODY_BYTES:
            self._send(WitnessAnswer.text(413, f"the body must be at most {MAX_BODY_BYTES} bytes"))
            return
        answer = self.server.witness.add_checkpoint(self.rfile.read(length))
        self.server.report(f"add-checkpoint -> {answer.status} {answer.body[:80]!r}")
        self._send(answer)

    def do_GET(self) -> None:
        path = self._path() or ""
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "checkpoint":
            self._send(self.server.witness.checkpoint_answer(parts[0]))
        else:
            self._send(WitnessAnswer.text(404, "not found"))

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are reported through the server's ``report`` callback instead."""


class WitnessHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server in front of one :class:`Witness`."""

    daemon_threads = True

    def __init__(
        self,
        witness: Witness,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        prefix: str = "",
        report: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.witness = witness
        self.prefix = prefix.rstrip("/")
        self.report = report or (lambda message: None)

    @property
    def url(self) -> str:
        """The submission prefix URL."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{self.prefix}"


@dataclass
class RunningWitness:
    """A witness server running in a background thread; :meth:`close` stops it."""

    server: WitnessHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """The submission prefix URL."""
        return self.server.url

    def close(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def __enter__(self) -> RunningWitness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_witness(witness: Witness, host: str = "127.0.0.1", port: int = 0) -> RunningWitness:
    """Serve ``witness`` on ``host:port`` (0: a free port) in a background thread."""
    server = WitnessHTTPServer(witness, host, port)
    thread = threading.Thread(target=server.serve_forever, name=f"witness-{server.url}", daemon=True)
    thread.start()
    return RunningWitness(server, thread)


def post_checkpoint(
    url: str, old_size: int, proof: Sequence[bytes], checkpoint_note: str, *, timeout: float = 30.0
) -> WitnessAnswer:
    """POST ``add-checkpoint`` to the witness at submission prefix ``url``; return its answer.

    Raises
    ------
    ServiceUnavailable
        The witness could not be reached.
    InvalidInput
        ``url`` is not an http(s) URL.
    """
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"a witness URL must start with http:// or https://, got {url!r}", where="--url")
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint", data=add_checkpoint_body(old_size, proof, checkpoint_note),
        method="POST", headers={"Content-Type": "text/plain; charset=utf-8"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return WitnessAnswer(answer.status, answer.read(MAX_BODY_BYTES), answer.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_BODY_BYTES) if exc.fp is not None else b""
        return WitnessAnswer(exc.code, body, exc.headers.get("Content-Type", "") if exc.headers else "")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceUnavailable(f"the witness could not be reached: {reason}", where=url) from None
