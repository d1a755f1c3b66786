"""Reports a person reads: one offline HTML file (map, timelines, statistics, ledger) and its PDF.

::

    from deconflict.report import ReportData, render_html, render_pdf

    html = render_html(data)                       # data: ReportData
    Path("report.html").write_text(html, encoding="utf-8")
    render_pdf("report.html", "report.pdf")        # headless Chromium (pdf extra), A4, page numbers

The HTML loads nothing from the network (a Content-Security-Policy forbids it); Leaflet is
vendored into ``static/`` and inlined. Synthetic incidents and approximate site locations
are labelled on the map, in the timelines and in every table.
"""

from deconflict.errors import BrowserError
from deconflict.report.browser import PageEvents, chromium, find_chromium
from deconflict.report.data import (
    Cosignature,
    LedgerState,
    OutsideTime,
    Period,
    ReportData,
    SensitivityPoint,
    is_approximate,
    is_synthetic,
    report_json,
)
from deconflict.report.html import content_security_policy, render_html
from deconflict.report.pdf import render_pdf

__all__ = [
    "BrowserError",
    "Cosignature",
    "LedgerState",
    "OutsideTime",
    "PageEvents",
    "Period",
    "ReportData",
    "SensitivityPoint",
    "chromium",
    "content_security_policy",
    "find_chromium",
    "is_approximate",
    "is_synthetic",
    "render_html",
    "render_pdf",
    "report_json",
]
