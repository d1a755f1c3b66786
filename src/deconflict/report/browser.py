"""Headless Chromium for PDFs, screenshots and the browser tests: Playwright driving Debian's Chromium.

The one browser driver of the project. Playwright (the ``pdf`` extra) starts the Chromium the
system provides (``/usr/bin/chromium`` on Debian, installed by ``scripts/install-system-deps.sh``;
``$DECONFLICT_CHROMIUM`` names another) with :data:`CHROMIUM_FLAGS`, and by default sends every
connection, loopback included, to a proxy that does not exist, so a page cannot reach the
network even if it tries::

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        events = PageEvents.watch(page)            # requests made, console errors
        page.goto(Path("report.html").resolve().as_uri())
        page.wait_for_function("window.__reportReady === true")
        page.screenshot(path="map.png")
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from deconflict.errors import BrowserError, MissingDependency

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["CHROMIUM_FLAGS", "NETWORK_FLAGS", "PageEvents", "chromium", "find_chromium", "report_path"]

#: Flags for a quiet, reproducible browser: no GPU, no first-run UI, no background traffic to
#: Google (component updates, sync, QUIC probes).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Connections go to a proxy that does not exist, so nothing leaves the machine; such requests
#: still reach the page's ``request`` events, then fail. Chromium sends loopback addresses around
#: a proxy unless told otherwise: ``<-loopback>`` tells it otherwise.
_DEAD_PROXY = "--proxy-server=127.0.0.1:9"
NETWORK_FLAGS: dict[str, tuple[str, ...]] = {
    "none": (_DEAD_PROXY, "--proxy-bypass-list=<-loopback>"),
    "loopback": (_DEAD_PROXY,),
    "open": (),
}

_CHROMIUM_PATHS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_INSTALL = "install it with `sudo bash scripts/install-system-deps.sh` (Debian package chromium)"


def find_chromium() -> str:
    """Path of the Chromium executable: ``$DECONFLICT_CHROMIUM``, else Debian's, else one on ``PATH``.

    Raises
    ------
    MissingDependency
        When no Chromium is installed (the message says how to install it).
    """
    configured = os.environ.get("DECONFLICT_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise MissingDependency(f"DECONFLICT_CHROMIUM={configured} is not a program; unset it, or {_INSTALL}")
        return found
    for name in _CHROMIUM_PATHS:
        found = shutil.which(name)
        if found:
            return found
    raise MissingDependency(f"Chromium is not installed (PDF reports and the browser tests need it): {_INSTALL}")


@contextmanager
def chromium(
    *, network: Literal["none", "loopback", "open"] = "none", executable: str | None = None
) -> Iterator[Browser]:
    """A headless Chromium (Playwright :class:`~playwright.sync_api.Browser`), closed afterwards.

    Parameters
    ----------
    network
        What pages may reach: ``"none"`` (the default: no request succeeds but ``file:`` and
        ``data:``), ``"loopback"`` (servers on this machine only) or ``"open"``.
    executable
        The browser binary; default :func:`find_chromium`.

    Raises
    ------
    MissingDependency
        When Playwright (``pip install 'deconflict[pdf]'``) or Chromium is missing.
    BrowserError
        When Chromium does not start.
    """
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise MissingDependency(
            "PDF reports and the browser tests need Playwright: pip install 'deconflict[pdf]'"
        ) from None
    path = executable or find_chromium()
    args = [*CHROMIUM_FLAGS, *NETWORK_FLAGS[network]]
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=path, headless=True, args=args)
        except Error as exc:
            raise BrowserError(f"cannot start Chromium {path}: {exc.message.splitlines()[0]}") from None
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageEvents:
    """What a page did since :meth:`watch`: its requests, and its console and network errors.

    Attributes
    ----------
    requests
        ``(url, resource type)`` of every request (resource types as Playwright names them:
        ``document``, ``script``, ``image``, ...).
    errors
        Console errors, uncaught exceptions and failed requests, as text (with the URL).
    """

    requests: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def watch(cls, page: Page) -> PageEvents:
        """Start recording ``page``'s requests and errors."""
        events = cls()
        page.on("request", lambda request: events.requests.append((request.url, request.resource_type)))
        page.on("console", events._on_console)
        page.on("pageerror", lambda error: events.errors.append(f"exception: {error}"))
        page.on("requestfailed", lambda request: events.errors.append(f"request failed: {request.url}"))
        return events

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            url = (message.location or {}).get("url", "")
            self.errors.append(f"console: {message.text} {url}".rstrip())


def report_path(html_path: str | Path) -> Path:
    """The absolute path of an existing report file; raises :class:`BrowserError` when there is none."""
    source = Path(html_path).resolve()
    if not source.is_file():
        raise BrowserError(f"no report at {source}")
    return source
