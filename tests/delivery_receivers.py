"""Real receivers for delivery tests: an HTTP webhook receiver and an SMTP server (aiosmtpd), on 127.0.0.1.

The webhook receiver deduplicates by the ``Idempotency-Key`` header, as the delivery guarantee
asks a receiver to: ``raw`` holds every request that arrived, ``processed`` one per key.
"""

from __future__ import annotations

import email
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from pg import free_port


@dataclass
class Received:
    """One webhook request as it arrived."""

    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A local HTTP server recording POSTs. ``mode``: ``ok`` (204), ``fail`` (503) or ``hold`` (never answers)."""

    mode: str = "ok"
    raw: list[Received] = field(default_factory=list)
    processed: dict[str, Received] = field(default_factory=dict)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                item = Received({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                receiver.raw.append(item)
                receiver.arrived.set()
                if receiver.mode == "hold":
                    receiver.release.wait(30)
                    return
                if receiver.mode == "fail":
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.processed.setdefault(item.headers["idempotency-key"], item)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = self.port or free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


class _Collect:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free local port; ``messages`` holds every message accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Collect()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self._handler.messages

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
