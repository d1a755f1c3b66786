"""Print an HTML report to an A4 PDF with headless Chromium (Playwright, the ``pdf`` extra).

Why Chromium and not WeasyPrint: the map is drawn by JavaScript (Leaflet, canvas), which
WeasyPrint does not run; Chromium prints exactly what a reader sees. Page numbers come from
``page.pdf`` with ``display_header_footer`` (its footer template fills in ``pageNumber`` and
``totalPages``), because Chromium ignores CSS ``@page`` margin boxes and the command-line
``--print-to-pdf`` offers no page numbers. Before printing, the page is laid out at A4 width
with print media, so the map is drawn for the paper, not for a screen.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from deconflict.errors import BrowserError
from deconflict.report.browser import chromium, report_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, PdfMargins

__all__ = ["A4_HEIGHT_IN", "A4_WIDTH_IN", "render_pdf"]

A4_WIDTH_IN = 8.27
A4_HEIGHT_IN = 11.69
#: A4 width in CSS pixels (96 per inch), the width the page is laid out at before printing.
_A4_WIDTH_PX = 794
_MARGIN: PdfMargins = {"top": "0.55in", "bottom": "0.6in", "left": "0.45in", "right": "0.45in"}
_BOX = "font-family: 'DejaVu Sans', sans-serif; font-size: 8px; color: #555; width: 100%; padding: 0 0.45in;"


def _header(title: str, label: str) -> str:
    return (
        f'<div style="{_BOX} display: flex; justify-content: space-between;">'
        f"<span>{html.escape(title)}</span><span><b>{html.escape(label)}</b></span></div>"
    )


def _footer(generated: str, page: str = "page", of: str = "of") -> str:
    return (
        f'<div style="{_BOX} display: flex; justify-content: space-between;">'
        f"<span>{html.escape(generated)}</span>"
        f'<span>{html.escape(page)} <span class="pageNumber"></span> {html.escape(of)} '
        '<span class="totalPages"></span></span></div>'
    )


def render_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    browser: Browser | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Print the report at ``html_path`` to ``pdf_path`` (A4, page numbers in the footer).

    Parameters
    ----------
    html_path
        A report written from :func:`deconflict.report.render_html`.
    pdf_path
        Where to write the PDF.
    browser
        A running browser from :func:`~deconflict.report.browser.chromium` to reuse; default:
        start one (offline: every request outside the file fails).
    timeout_s
        How long to wait for the page's map to be ready.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    MissingDependency
        When Playwright (``pip install 'deconflict[pdf]'``) or Chromium is missing.
    BrowserError
        When the page does not load or become ready.
    """
    source = report_path(html_path)
    if browser is None:
        with chromium() as own:
            return _print(own, source, Path(pdf_path), timeout_s)
    return _print(browser, source, Path(pdf_path), timeout_s)


def _print(browser: Browser, source: Path, pdf_path: Path, timeout_s: float) -> Path:
    from playwright.sync_api import Error

    page = browser.new_page(viewport={"width": _A4_WIDTH_PX, "height": 1123})
    try:
        page.emulate_media(media="print")
        page.goto(source.as_uri(), timeout=timeout_s * 1000)
        page.wait_for_function("window.__reportReady === true", timeout=timeout_s * 1000)
        page.evaluate("window.__reportPrepareForPrint && window.__reportPrepareForPrint()")
        # Let Leaflet finish the redraw that the resize triggered.
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        info = page.evaluate(
            "({title: document.title, synthetic: !!document.querySelector('#data-notice .badge.synthetic'),"
            " generated: (document.querySelector('p.meta') || {}).textContent || '',"
            # A translated page (the brief) names its own words for the header and footer.
            " words: Object.assign({}, document.documentElement.dataset)})"
        )
        words = info["words"]
        label = words.get("syntheticLabel", "contains SYNTHETIC data") if info["synthetic"] else ""
        pdf = page.pdf(
            width=f"{A4_WIDTH_IN}in",
            height=f"{A4_HEIGHT_IN}in",
            print_background=True,
            display_header_footer=True,
            header_template=_header(info["title"], label),
            footer_template=_footer(
                words.get("footer") or info["generated"].split(" by ")[0],
                words.get("pageLabel", "page"),
                words.get("ofLabel", "of"),
            ),
            prefer_css_page_size=False,
            margin=_MARGIN,
        )
    except Error as exc:
        raise BrowserError(f"cannot print {source}: {exc.message.splitlines()[0]}") from None
    finally:
        page.close()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(pdf)
    return pdf_path
