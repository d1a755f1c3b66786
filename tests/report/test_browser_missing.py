"""Without Playwright or Chromium, a PDF is refused in one line that says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import deconflict

CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


def _report_pdf(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    db = tmp_path / "r.db"
    deconflict.init(db).close()
    command = [
        *CLI,
        "--db",
        str(db),
        "report",
        "--out",
        str(tmp_path / "r.html"),
        "--no-analysis",
        "--pdf",
        str(tmp_path / "r.pdf"),
    ]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def test_pdf_without_playwright_names_the_pdf_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "without-playwright"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['playwright'] = None\n", encoding="utf-8")
    done = _report_pdf(tmp_path, {"PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])})
    assert done.returncode == 2
    assert (
        done.stderr.count("\n") == 1
        and "pip install 'deconflict[pdf]'" in done.stderr
        and "Traceback" not in done.stderr
    )
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_without_chromium_names_the_install_script(tmp_path: Path) -> None:
    done = _report_pdf(tmp_path, {"DECONFLICT_CHROMIUM": str(tmp_path / "no-such-chromium")})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "scripts/install-system-deps.sh" in done.stderr
    assert not (tmp_path / "r.pdf").exists()
