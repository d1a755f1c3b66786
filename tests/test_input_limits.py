"""Issue 12, item 10: every number, file and name given to a door is checked, in one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.errors import InvalidInput
from deconflict.limits import MAX_JSON_DEPTH, load_json, read_limited, upload_name


def _run(*args: str) -> object:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("command", [["sites", "import"], ["incidents", "import"], ["movements", "import"]])
def test_a_device_given_as_input_is_refused_without_reading_it(cli, device: str, command: list[str]) -> None:
    result = cli(*command, device)
    assert result.exit_code == 2 and "is a device" in result.stderr, result.output


@pytest.mark.parametrize("option", [["analyze", "--study-area"], ["--key-file"]])
def test_a_binary_key_or_study_area_file_is_one_line(cli, tmp_path: Path, option: list[str]) -> None:
    binary = tmp_path / "binary.dat"
    binary.write_bytes(os.urandom(3000) + b"\xff\xfe")
    args = [*option, str(binary)] + (["log", "checkpoint"] if option == ["--key-file"] else [])
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "is not UTF-8 text" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_serve_refuses_a_body_limit_that_is_not_a_finite_number(tmp_path: Path, value: str) -> None:
    result = _run("--db", str(tmp_path / "x.db"), "serve", "--max-body-mb", value)
    assert result.exit_code == 2 and "--max-body-mb" in result.stderr, result.output


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_no_number_option_accepts_nan_or_infinity(cli, value: str) -> None:
    result = cli("sites", "add", "--name", "A", "--kind", "embassy", "--owner", "AZE", "--lat", value, "--lon", "30")
    assert result.exit_code == 2 and "must be a finite number" in result.stderr, result.output


@pytest.mark.parametrize("port", ["0", "-1", "65536", "99999999999999999999"])
def test_serve_refuses_an_invalid_port(tmp_path: Path, port: str) -> None:
    result = _run("--db", str(tmp_path / "x.db"), "serve", "--port", port)
    assert result.exit_code == 2 and "--port" in result.stderr, result.output


def test_read_limited_stops_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2000)
    assert read_limited(path, 2000) == b"x" * 2000
    with pytest.raises(InvalidInput, match="larger than the limit"):
        read_limited(path, 1999)


def test_json_nested_too_deeply_is_refused_at_any_depth() -> None:
    assert load_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, where="x") is not None
    for depth in (MAX_JSON_DEPTH + 1, 50_000):
        with pytest.raises(InvalidInput, match="nested deeper"):
            load_json("[" * depth + "]" * depth, where="x")


@pytest.mark.parametrize("name", [".", "..", "", "a/..", "\\\\.."])
def test_an_upload_named_dot_or_dot_dot_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="not a file name"):
        upload_name(name, where="file")
