"""Issue 12, item 5: the offline verifier cannot be exhausted by the bundle it is given.

The central directory is checked (member count, sizes, compression ratio) before anything is
decompressed, and JSON nesting is bounded.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import deconflict
from deconflict.errors import VerificationError
from deconflict.ledger.bundle import build_bundle, verify_bundle
from deconflict.limits import MAX_BUNDLE_MEMBERS, MAX_COMPRESSION_RATIO, MAX_JSON_DEPTH
from samples import INCIDENTS_CSV, SITES_CSV


@pytest.fixture(scope="module")
def real_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], str]:
    """The members of a real bundle (SQLite: verification reads bytes only) and the log's key."""
    directory = tmp_path_factory.mktemp("bundle")
    (directory / "sites.csv").write_text(SITES_CSV)
    (directory / "incidents.csv").write_text(INCIDENTS_CSV)
    db = deconflict.init(directory / "b.db")
    try:
        db.sites.import_file(directory / "sites.csv")
        db.incidents.import_file(directory / "incidents.csv")
        db.notifications.notify(["aze-emb"], to="RUS", at="2024-01-03", id="n1")
        db.ledger.sign_checkpoint()
        data, key = build_bundle(db.ledger, "aze-emb"), db.ledger.verifier_key
    finally:
        db.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}, key


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _bomb(size: int) -> bytes:
    """``entries.json`` of ``size`` bytes of spaces and one empty list: valid JSON, compressed ~1000 times."""
    return b" " * (size - 2) + b"[]"


def test_the_real_bundle_verifies_after_rezipping(real_bundle: tuple[dict[str, bytes], str]) -> None:
    members, key = real_bundle
    assert verify_bundle(_zip(members), key).site_id == "aze-emb"


def test_a_zip_bomb_is_refused_by_its_compression_ratio(real_bundle: tuple[dict[str, bytes], str]) -> None:
    members, key = real_bundle
    bomb = _zip({**members, "entries.json": _bomb(64 << 20)})
    assert len(bomb) < 1 << 20
    with pytest.raises(VerificationError, match=f"entries.json is compressed .* the limit is {MAX_COMPRESSION_RATIO}"):
        verify_bundle(bomb, key)


@pytest.mark.slow
def test_verifying_a_zip_bomb_from_the_cli_stays_small_in_memory(
    real_bundle: tuple[dict[str, bytes], str], tmp_path: Path
) -> None:
    members, key = real_bundle
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # written in chunks
        for name, content in members.items():
            if name != "entries.json":
                archive.writestr(name, content)
        with archive.open("entries.json", "w", force_zip64=True) as member:
            for _ in range(2048):  # 2 GiB of spaces, about 2 MB compressed
                member.write(b" " * (1 << 20))
    assert path.stat().st_size < 8 << 20
    # VmHWM: the peak resident memory of the verifier since it started (exec resets it).
    script = (
        "import sys\n"
        "from deconflict.cli import main\n"
        "try:\n    main()\n"
        "finally:\n"
        "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "    print('peak', peak, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "evidence", "verify", str(path), "--key", key],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "entries.json" in result.stderr and "the limit is" in result.stderr and "Traceback" not in result.stderr
    peak_kib = int(result.stderr.rsplit("peak", 1)[1])
    assert peak_kib < 400 * 1024, f"peak {peak_kib} KiB"


def test_a_bundle_listing_too_many_members_is_refused(real_bundle: tuple[dict[str, bytes], str]) -> None:
    members, key = real_bundle
    padded = {**members, **{f"time/{n}.tsr": b"" for n in range(MAX_BUNDLE_MEMBERS)}}
    with pytest.raises(VerificationError, match=f"the limit is {MAX_BUNDLE_MEMBERS:,}"):
        verify_bundle(_zip(padded), key)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_a_deeply_nested_manifest_is_refused_in_one_line(real_bundle: tuple[dict[str, bytes], str], depth: int) -> None:
    members, key = real_bundle
    nested = b"[" * depth + b"]" * depth
    with pytest.raises(VerificationError, match=f"manifest.json: JSON is nested deeper than {MAX_JSON_DEPTH}"):
        verify_bundle(_zip({**members, "manifest.json": nested}), key)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_bundle_is_refused_without_reading_it(device: str) -> None:
    from typer.testing import CliRunner

    from deconflict.cli import app

    result = CliRunner().invoke(app, ["evidence", "verify", device, "--key", "k+00000000+AAAA"])
    assert result.exit_code == 2 and "is a device" in result.stderr, result.output
