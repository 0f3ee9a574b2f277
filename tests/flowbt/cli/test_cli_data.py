"""`flowbt data ...`: real output, and user mistakes as one line with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bt_helpers import assert_user_error
from bt_helpers import run_cli as run


def test_data_list_shows_bundle_and_quirks(capsys):
    code, out, _ = run(capsys, "data", "list")
    assert code == 0
    from data.bundle import manifest

    assert f"Bundled snapshot (offline): {len(manifest())} files" in out
    assert len(manifest()) == 103  # 43 price files, 51 macro series, 9 event tables
    assert "VIX: widened high/low to contain open/close on 47 row(s)" in out
    assert "2014-09-17" in out  # BTC-USD start


def test_data_show_prints_real_rows_and_provenance(capsys):
    code, out, _ = run(
        capsys, "data", "show", "SPY", "--start", "2020-03-23", "--end", "2020-03-23"
    )
    assert code == 0
    assert "222.95" in out and "basis: raw+tr" in out and "calendar: XNYS" in out


def test_data_show_macro_says_its_lag(capsys):
    code, out, _ = run(
        capsys, "data", "show", "WALCL", "--start", "2020-03-18", "--end", "2020-03-18"
    )
    assert code == 0
    assert "4,668,212.00" in out and "16:30 ET" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["data", "show", "NOPE"], "unknown bundled name 'NOPE'"),
        (["data", "show", "SPY", "--start", "2031-01-01"], "before the requested start"),
        (
            ["data", "show", "SPY", "--start", "2020-02-01", "--end", "2020-01-01"],
            "end 2020-01-01 is before start",
        ),
        (["data", "show", "SPY", "--rows", "x"], "Invalid value for '--rows'"),
        (["data", "nothing"], "No such command"),
    ],
)
def test_user_mistakes_are_one_line(capsys, args, needle):
    assert_user_error(*run(capsys, *args), needle)


def test_console_script_exits_non_zero_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "flowbt.cli.main", "data", "show", "NOPE"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("flowbt: error: unknown bundled name")
    assert "Traceback" not in proc.stderr


def test_user_file_errors_name_file_and_row(capsys, tmp_path):
    path = tmp_path / "MINE.csv"
    path.write_text("Date,Open,High,Low,Close\n2024-01-02,10,11,9,10.5\n2024-01-02,10,11,9,10.5\n")
    code, out, err = run(capsys, "data", "show", str(path), "--source", "csv")
    assert code == 2
    assert f"duplicated timestamp 2024-01-02 (file {path}, symbol MINE, row 3)" in err
    path.write_text("Date,Open,High,Low,Close\n2024-01-02,10,11,9,10.5\n2024-01-03,10.5,12,10,11\n")
    code, out, err = run(capsys, "data", "show", str(path), "--source", "csv")
    assert code == 0 and "MINE (price, source file)" in out and "11.00" in out
