"""Drive headless Chromium through the DevTools Protocol over a pipe (standard library only).

Chromium started with ``--remote-debugging-pipe`` reads DevTools commands from file
descriptor 3 and writes replies and events to descriptor 4, each message a JSON object
terminated by a NUL byte. That needs no websocket library and opens no TCP port, so the
browser that renders a report cannot be reached by anything else on the machine.

:class:`Chromium` is used by :func:`deconflict.report.pdf.render_pdf` (``Page.printToPDF``),
by the browser tests and by the report benchmark::

    with Chromium() as browser:
        page = browser.new_page()
        page.navigate(Path("report.html").resolve().as_uri())
        page.wait_for("window.__reportReady === true")
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from deconflict.errors import DeconflictError

__all__ = ["BrowserError", "Chromium", "Page", "find_chromium"]

#: Executable names tried in order when ``$DECONFLICT_CHROMIUM`` is not set.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Flags for a quiet, isolated, reproducible browser: no first-run UI, no background
#: traffic to Google (component updates, sync, QUIC probes), and every connection sent to a
#: proxy that does not exist, so a page that tries to reach the network fails instead.
QUIET_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--font-render-hinting=none",
)


class BrowserError(DeconflictError):
    """Chromium is missing, failed to start, or a DevTools command failed."""

    code = "browser_error"


def find_chromium() -> str:
    """Path of the Chromium executable.

    Returns
    -------
    str
        ``$DECONFLICT_CHROMIUM`` when set, else the first of :data:`CHROMIUM_NAMES` on ``PATH``.

    Raises
    ------
    BrowserError
        When no Chromium is installed (the message says how to install it).
    """
    configured = os.environ.get("DECONFLICT_CHROMIUM")
    if configured:
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(
        "Chromium is not installed: PDF reports and the browser tests need it; "
        "install it with `sudo bash scripts/install-system-deps.sh` (Debian package chromium) "
        "or set DECONFLICT_CHROMIUM to a Chrome/Chromium executable"
    )


class Chromium:
    """A headless Chromium process controlled over ``--remote-debugging-pipe``.

    Parameters
    ----------
    executable
        Browser binary; default :func:`find_chromium`.
    offline
        Route all traffic to an unreachable proxy (``127.0.0.1:9``), so nothing leaves the
        machine even if a page asks for it; such requests still show up as DevTools events.
    extra_flags
        More command-line flags.
    timeout_s
        Default timeout of each command.
    """

    def __init__(
        self,
        executable: str | None = None,
        *,
        offline: bool = True,
        extra_flags: tuple[str, ...] = (),
        timeout_s: float = 30.0,
    ) -> None:
        self.executable = executable or find_chromium()
        self.offline = offline
        self.extra_flags = extra_flags
        self.timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._profile: tempfile.TemporaryDirectory[str] | None = None
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._replies: dict[int, dict[str, Any]] = {}
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._closed = False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Launch the browser; raises :class:`BrowserError` when it does not start."""
        self._profile = tempfile.TemporaryDirectory(prefix="deconflict-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # The child must see the pipes as fds 3 (commands) and 4 (replies). Move our ends
        # above 9 first so the dup2 calls in the child cannot clobber each other.
        child_in, child_out = _dup_high(to_browser_r), _dup_high(from_browser_w)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def wire_fds() -> None:  # runs in the child between fork and exec
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        proxy = ("--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>") if self.offline else ()
        args = [
            self.executable,
            *QUIET_FLAGS,
            f"--user-data-dir={self._profile.name}",
            "--remote-debugging-pipe",
            *proxy,
            *self.extra_flags,
            "about:blank",
        ]
        try:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Our own descriptors are close-on-exec (PEP 446); only the dup2 copies survive.
                close_fds=False,
                preexec_fn=wire_fds,
            )
        except OSError as exc:
            raise BrowserError(f"cannot start Chromium {self.executable}: {exc}") from exc
        finally:
            os.close(child_in)
            os.close(child_out)
        self._writer = os.fdopen(to_browser_w, "wb", buffering=0)
        self._reader = os.fdopen(from_browser_r, "rb", buffering=0)
        threading.Thread(target=self._read_loop, name="chromium-devtools", daemon=True).start()
        self.send("Browser.getVersion")

    def _read_loop(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self._reader.read(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._replies[message["id"]] = message
                        self._cond.notify_all()
                else:
                    for listener in list(self._listeners):
                        listener(message)

    def add_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener(event)`` for every DevTools event (``method``, ``params``, ``sessionId``)."""
        self._listeners.append(listener)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Send one DevTools command and return its ``result``.

        Raises
        ------
        BrowserError
            When the command fails, the browser exits or no reply comes within the timeout.
        """
        with self._cond:
            self._next_id += 1
            command_id = self._next_id
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        try:
            self._writer.write(json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"Chromium is gone ({method}): {exc}") from exc
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        with self._cond:
            while command_id not in self._replies:
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    why = "exited" if self._closed else "did not answer in time"
                    raise BrowserError(f"Chromium {why} ({method})")
                self._cond.wait(remaining)
            reply = self._replies.pop(command_id)
        if "error" in reply:
            raise BrowserError(f"DevTools {method} failed: {reply['error'].get('message', reply['error'])}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def new_page(self, *, width: int = 1280, height: int = 900) -> Page:
        """Open a blank tab of ``width`` × ``height`` CSS pixels and attach to it."""
        target = self.send("Target.createTarget", {"url": "about:blank"})
        attached = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = Page(self, attached["sessionId"], target["targetId"])
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page

    def close(self) -> None:
        """Close the browser and remove its temporary profile."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(BrowserError):
                self.send("Browser.close", timeout_s=5)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (self._writer, self._reader):
                with contextlib.suppress(OSError):
                    stream.close()
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None


def _dup_high(fd: int) -> int:
    """A close-on-exec duplicate of ``fd`` numbered 10 or more (dup2 in the child clears the flag)."""
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


class Page:
    """One tab, with the events seen since it was opened.

    Attributes
    ----------
    requests
        ``(url, resource type)`` of every request the page made (``Network.requestWillBeSent``).
    errors
        Console errors, uncaught exceptions and browser log errors, as text.
    """

    def __init__(self, browser: Chromium, session_id: str, target_id: str) -> None:
        self.browser = browser
        self.session_id = session_id
        self.target_id = target_id
        self.requests: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._loaded = threading.Event()
        browser.add_listener(self._on_event)
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("sessionId") != self.session_id:
            return
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append((params["request"]["url"], params.get("type", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(
                "console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(
                "exception: " + str(details.get("exception", {}).get("description", details.get("text")))
            )
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
        elif method == "Page.loadEventFired":
            self._loaded.set()

    def send(self, method: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """Send a DevTools command to this tab (see :meth:`Chromium.send`)."""
        return self.browser.send(method, params, session_id=self.session_id, **kwargs)

    def navigate(self, url: str, *, timeout_s: float = 30.0) -> None:
        """Load ``url`` and wait for its ``load`` event."""
        self._loaded.clear()
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        if not self._loaded.wait(timeout_s):
            raise BrowserError(f"{url} did not finish loading within {timeout_s:g} s")

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """The JSON value of a JavaScript expression; raises :class:`BrowserError` if it throws."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description", details.get("text"))
            raise BrowserError(f"JavaScript failed: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout_s: float = 30.0, poll_s: float = 0.02) -> None:
        """Poll until the JavaScript ``expression`` is truthy; raises :class:`BrowserError` on timeout."""
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {timeout_s:g} s waiting for {expression}")
            time.sleep(poll_s)

    def screenshot(self, path: str | Path | None = None, *, full_page: bool = False) -> bytes:
        """A PNG of the viewport (or the whole page); written to ``path`` when given."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            metrics = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1}
        png = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        if path is not None:
            Path(path).write_bytes(png)
        return png

    def close(self) -> None:
        """Close the tab."""
        self.browser.send("Target.closeTarget", {"targetId": self.target_id})

    def print_pdf(self, **options: Any) -> bytes:
        """``Page.printToPDF`` with ``options``; returns the PDF bytes."""
        return base64.b64decode(self.send("Page.printToPDF", options, timeout_s=120)["data"])
