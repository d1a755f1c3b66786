"""Print an HTML report to an A4 PDF with headless Chromium.

Why Chromium and not WeasyPrint: the map is drawn by JavaScript (Leaflet, canvas), which
WeasyPrint does not run; Chromium prints exactly what a reader sees. Page numbers come from
DevTools ``Page.printToPDF`` with ``displayHeaderFooter`` (its footer template fills in
``pageNumber`` and ``totalPages``), because Chromium ignores CSS ``@page`` margin boxes and
the command-line ``--print-to-pdf`` offers no page numbers. Before printing, the page is laid
out at A4 width with print media, so the map is drawn for the paper, not for a screen.
"""

from __future__ import annotations

import html
from pathlib import Path

from deconflict.report.chromium import BrowserError, Chromium

__all__ = ["A4_HEIGHT_IN", "A4_WIDTH_IN", "render_pdf"]

A4_WIDTH_IN = 8.27
A4_HEIGHT_IN = 11.69
#: A4 width in CSS pixels (96 per inch), the width the page is laid out at before printing.
_A4_WIDTH_PX = 794
_MARGIN_IN = {"marginTop": 0.55, "marginBottom": 0.6, "marginLeft": 0.45, "marginRight": 0.45}
_BOX = "font-family: 'DejaVu Sans', sans-serif; font-size: 8px; color: #555; width: 100%; padding: 0 0.45in;"


def _header(title: str, label: str) -> str:
    return (
        f'<div style="{_BOX} display: flex; justify-content: space-between;">'
        f"<span>{html.escape(title)}</span><span><b>{html.escape(label)}</b></span></div>"
    )


def _footer(generated: str) -> str:
    return (
        f'<div style="{_BOX} display: flex; justify-content: space-between;">'
        f"<span>{html.escape(generated)}</span>"
        '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
    )


def render_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    browser: Chromium | None = None,
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
        A running :class:`~deconflict.report.chromium.Chromium` to reuse; default: start one
        (offline: every request outside the file fails).
    timeout_s
        How long to wait for the page's map to be ready.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    BrowserError
        When Chromium is missing or the page does not become ready.
    """
    source = Path(html_path).resolve()
    if not source.is_file():
        raise BrowserError(f"no report at {source}")
    if browser is None:
        with Chromium() as own:
            return _print(own, source, Path(pdf_path), timeout_s)
    return _print(browser, source, Path(pdf_path), timeout_s)


def _print(browser: Chromium, source: Path, pdf_path: Path, timeout_s: float) -> Path:
    page = browser.new_page(width=_A4_WIDTH_PX, height=1123)
    try:
        page.send("Emulation.setEmulatedMedia", {"media": "print"})
        page.navigate(source.as_uri(), timeout_s=timeout_s)
        page.wait_for("window.__reportReady === true", timeout_s=timeout_s)
        page.evaluate("window.__reportPrepareForPrint && window.__reportPrepareForPrint()")
        # Let Leaflet finish the redraw that the resize triggered.
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))", await_promise=True)
        info = page.evaluate(
            "({title: document.title, synthetic: !!document.querySelector('#data-notice .badge.synthetic'),"
            " generated: (document.querySelector('p.meta') || {}).textContent || ''})"
        )
        label = "contains SYNTHETIC data" if info["synthetic"] else ""
        pdf = page.print_pdf(
            paperWidth=A4_WIDTH_IN,
            paperHeight=A4_HEIGHT_IN,
            printBackground=True,
            displayHeaderFooter=True,
            headerTemplate=_header(info["title"], label),
            footerTemplate=_footer(info["generated"].split(" by ")[0]),
            preferCSSPageSize=False,
            **_MARGIN_IN,
        )
    finally:
        page.close()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(pdf)
    return pdf_path
