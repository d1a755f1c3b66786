"""The PDF: A4, numbered pages, legible non-blank pages, the map printed with its layers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

# Starts Chromium and prints a PDF: seconds.
pytestmark = pytest.mark.slow


def _pages(pdf_path: Path, pdftoppm: str, out_dir: Path) -> list[Path]:
    prefix = out_dir / "page"
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf_path), str(prefix)], check=True, timeout=60)
    return sorted(out_dir.glob("page-*.png"))


def _text(pdf_path: Path) -> list[str]:
    """Text of each page (pdftotext from poppler-utils, like pdftoppm)."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return out.split("\f")[:-1]


def test_pdf_has_numbered_a4_pages_that_are_not_blank(pdf_path: Path, pdftoppm: str, tmp_path: Path) -> None:
    pages = _pages(pdf_path, pdftoppm, tmp_path)
    texts = _text(pdf_path)
    assert len(pages) == len(texts)
    assert 4 <= len(pages) <= 40
    for number, (png, text) in enumerate(zip(pages, texts, strict=True), start=1):
        image = Image.open(png).convert("L")
        assert abs(image.size[0] - 331) <= 1 and abs(image.size[1] - 468) <= 1, "not A4 (8.27 x 11.69 in at 40 dpi)"
        inked = sum(n for n, level in image.getcolors(256) if level < 200)
        assert inked > 0.005 * image.size[0] * image.size[1], f"page {number} is blank"
        assert re.search(rf"page {number} of {len(pages)}\b", text), f"page {number} has no page number"
        assert "contains SYNTHETIC data" in text


def test_pdf_prints_the_map_with_sites_and_incidents(pdf_path: Path, pdftoppm: str, tmp_path: Path) -> None:
    subprocess.run(
        [pdftoppm, "-r", "100", "-png", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    image = Image.open(next(tmp_path.glob("p-*.png"))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 22)
    site_blue = sum(n for n, (r, g, b) in colours if abs(r - 0x1F) < 25 and abs(g - 0x4E) < 25 and abs(b - 0x9C) < 25)
    grey_dots = sum(n for n, (r, g, b) in colours if r == g == b and 0x70 <= r <= 0xB0)
    assert site_blue > 300, "site markers are missing from the printed map"
    assert grey_dots > 300, "synthetic incidents are missing from the printed map"


def test_pdf_text_carries_the_sections_and_labels(pdf_path: Path) -> None:
    text = "\n".join(_text(pdf_path))
    for heading in ("Map", "Timeline", "Statistics", "Ledger", "Possible hits"):
        assert heading in text
    assert "APPROXIMATE" in text and "SYNTHETIC" in text
