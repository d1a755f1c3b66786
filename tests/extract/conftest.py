"""Fixtures for the extraction tests: the labelled registry and a small Kyiv registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deconflict.extract.evaluate import load_sites
from deconflict.model import Site

REPORTS = Path(__file__).parent / "reports"
HELDOUT = Path(__file__).parent / "heldout"
HELDOUT_WIRE = Path(__file__).parent / "heldout_wire"


@pytest.fixture(scope="session")
def sites() -> list[Site]:
    """The registry of the labelled set (Azerbaijani, Portuguese, Polish ... sites)."""
    return load_sites(json.loads((REPORTS / "labels.json").read_text(encoding="utf-8")))
