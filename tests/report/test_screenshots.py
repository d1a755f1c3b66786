"""Screenshots of the demo's report (HTML and PDF) and of its brief in English and Ukrainian.

The demo runs for real (its own analysis, ledger and outside time); the images are checked here
and, with ``DECONFLICT_DOCS_IMAGES=docs/images``, written where docs/reports.md shows them::

    DECONFLICT_DOCS_IMAGES=docs/images .venv/bin/pytest tests/report/test_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

import deconflict
from deconflict.analysis import write_brief
from deconflict.demo import AZE_SITES, run_demo
from deconflict.report import render_pdf

# Runs the whole demo, prints two PDFs and two briefs: minutes.
pytestmark = pytest.mark.slow


def _page(pdf: Path, number: int, out: Path, pdftoppm: str, dpi: int = 70) -> Path:
    subprocess.run([pdftoppm, "-r", str(dpi), "-png", "-f", str(number), "-l", str(number), "-singlefile", str(pdf),
                    str(out.with_suffix(""))], check=True, timeout=120)  # fmt: skip
    return out


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def _inked(path: Path) -> float:
    image = Image.open(path).convert("L")
    dark = sum(n for n, level in image.getcolors(256) if level < 200)
    return dark / (image.size[0] * image.size[1])


def _count(path: Path, rgb: tuple[int, int, int], tolerance: int = 30) -> int:
    colours = Image.open(path).convert("RGB").getcolors(maxcolors=1 << 22)
    return sum(n for n, c in colours if all(abs(a - b) < tolerance for a, b in zip(c, rgb, strict=True)))


def test_demo_report_and_brief_screenshots(tmp_path: Path, browser, pdftoppm: str) -> None:
    images = Path(os.environ.get("DECONFLICT_DOCS_IMAGES") or tmp_path / "images")
    images.mkdir(parents=True, exist_ok=True)
    summary = run_demo(tmp_path / "demo")
    assert summary.report is not None
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(summary.report.as_uri())
        page.wait_for_function("window.__reportReady === true", timeout=60_000)
        page.screenshot(path=images / "report-html.png")
        page.locator("#timeline-section figure").nth(1).screenshot(path=images / "report-timeline.png")
        page.locator("#statistics-section").screenshot(path=images / "report-statistics.png", timeout=60_000)
        page.locator("#about-analysis").screenshot(path=images / "report-about.png")
    finally:
        page.close()
    assert _count(images / "report-html.png", (0x1F, 0x4E, 0x9C)) > 200, "no site markers on the map"
    timeline = images / "report-timeline.png"
    assert _count(timeline, (0xC0, 0x39, 0x2B)) > 200 and _count(timeline, (0x9A, 0x9A, 0x9A), 12) > 500, (
        "observed (red) and expected (grey) must both be visible"
    )
    assert _count(images / "report-statistics.png", (0xFD, 0xEC, 0xEA), 4) > 1000, "flagged rows lead the table"

    pdf = render_pdf(summary.report, tmp_path / "report.pdf", browser=browser)
    texts = _pages(pdf)
    assert len(texts) <= 14, f"the demo report prints on {len(texts)} pages"
    joined = "\n".join(texts)
    assert "About this analysis" in joined and "20251114" in joined
    assert "Every site's numbers are in the full table" in joined and "All 79 sites" not in joined
    assert joined.count("consistent with chance") <= 4
    _page(pdf, 1, images / "report-pdf-page1.png", pdftoppm)
    statistics_page = next(n for n, t in enumerate(texts, start=1) if "In plain words" in t)
    _page(pdf, statistics_page, images / "report-pdf-statistics.png", pdftoppm)

    with deconflict.open(tmp_path / "demo" / "demo.db") as db:
        for lang in ("en", "uk"):
            files = write_brief(db, [AZE_SITES[0]], tmp_path / f"brief-{lang}.pdf", lang=lang, browser=browser)
            pages = _pages(files.path)
            assert 2 <= len(pages) <= 4, f"the {lang} brief has {len(pages)} pages"
            text = "\n".join(pages)
            assert files.fingerprints[AZE_SITES[0]] in text.replace(" ", "").replace("\n", "")
            for number in range(1, len(pages) + 1):
                shot = _page(files.path, number, images / f"brief-{lang}-page{number}.png", pdftoppm)
                assert _inked(shot) > 0.01, f"brief {lang} page {number} is blank"
            if lang == "uk":
                assert "Що, кому і коли було повідомлено" in text and "не перевірено" in text
                assert "сторінка 1 з" in text and "Про цей аналіз" in text
            else:
                assert "What was notified, to whom and when" in text and "aze-2024-coordinates" in text
                assert "Independent evidence of time" in text and "DEMO TSA one" in text
