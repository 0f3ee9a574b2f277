"""`flowbt run --data` with bad or unusual user files (issue 13): one-line errors whose
fix can be typed, --date-format, --adjust (recorded in metrics.json and the manifest),
--map and --repair, and nothing written before the data is known to be good."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bt_helpers import assert_user_error
from bt_helpers import run_cli as run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = ("--param", "fast=3", "--param", "slow=8", "--fees", "0")


def yahoo_csv(path: Path, frame: pd.DataFrame, *, adj: bool = True, fmt: str = "%Y-%m-%d") -> Path:
    """``frame`` (bundled OHLCV + adj_close) as Yahoo's CSV export writes it."""
    out = frame.rename(
        columns={
            "open": "Open",
            "high": "High",
            "low": "Low",
            "close": "Close",
            "adj_close": "Adj Close",
            "volume": "Volume",
        }
    )
    if not adj:
        out = out.drop(columns="Adj Close")
    out.index = out.index.strftime(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.rename_axis("Date").to_csv(path)
    return path


@pytest.fixture
def spy_2019(spy) -> pd.DataFrame:
    """Real SPY sessions of 2019: four dividends, so adj_close / close moves."""
    return spy.loc["2019"].copy()


def test_inf_close_is_one_line_and_nothing_is_written(tmp_path, capsys, spy_2019):
    frame = spy_2019.copy()
    frame.iloc[100, frame.columns.get_loc("close")] = np.inf
    path = yahoo_csv(tmp_path / "SPY.csv", frame)
    out = tmp_path / "res"
    code, stdout, err = run(capsys, "run", "sma_cross", "--data", str(path), "--out", str(out))
    assert_user_error(code, stdout, err, "non-finite close inf")
    assert "row 102" in err and f"file {path}" in err and "; fix: " in err  # header + 101
    assert not out.exists()


def _fills(out: Path) -> pd.DataFrame:
    orders = pd.read_csv(out / "orders.csv", parse_dates=["date"])
    return orders[orders["status"] == "filled"]


def test_adj_close_means_total_return_by_default(tmp_path, capsys, spy_2019):
    path = yahoo_csv(tmp_path / "SPY.csv", spy_2019)
    raw = pd.read_csv(path, index_col="Date", parse_dates=True)
    for adjust, out in (("default", tmp_path / "tr"), ("none", tmp_path / "raw")):
        extra = () if adjust == "default" else ("--adjust", "none")
        code, _, err = run(capsys, "run", "sma_cross", "--data", str(path), "--out", str(out),
                           *FAST, *extra)  # fmt: skip
        assert code == 0, err
        fills = _fills(out)
        assert len(fills) > 4
        days = pd.DatetimeIndex(fills["date"]).tz_localize(None)
        opens = raw.loc[days, "Open"].to_numpy()
        factor = (raw.loc[days, "Adj Close"] / raw.loc[days, "Close"]).to_numpy()
        want = opens * factor if adjust == "default" else opens  # next-open fills
        np.testing.assert_allclose(fills["price"].to_numpy(), want, rtol=1e-12)
        applied = "total-return" if adjust == "default" else "none"
        assert json.loads((out / "metrics.json").read_text())["adjust"] == applied
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["data"]["adjust"] == applied
    assert (factor < 1).all()  # dividends paid after these fills: a real adjustment


def test_adjust_total_return_needs_adj_close(tmp_path, capsys, spy_2019):
    path = yahoo_csv(tmp_path / "SPY.csv", spy_2019, adj=False)
    args = ("run", "sma_cross", "--data", str(path), *FAST)
    code, stdout, err = run(capsys, *args, "--out", str(tmp_path / "a"), "--adjust", "total-return")
    assert_user_error(code, stdout, err, "needs an Adj Close column")
    assert "fix: --adjust none" in err
    code, _, err = run(capsys, *args, "--out", str(tmp_path / "b"))  # default: as stored
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["adjust"] == "none"
    code, stdout, err = run(capsys, *args, "--out", str(tmp_path / "c"), "--adjust", "dividends")
    assert_user_error(code, stdout, err, "--adjust must be total-return or none")


def test_ambiguous_day_first_dates_ask_for_date_format(tmp_path, capsys, spy_2019):
    frame = spy_2019[spy_2019.index.day <= 12]  # every day <= 12: day and month can swap
    path = yahoo_csv(tmp_path / "SPY.csv", frame, fmt="%d/%m/%Y")
    args = ("run", "sma_cross", "--data", str(path), *FAST)
    code, stdout, err = run(capsys, *args, "--out", str(tmp_path / "a"))
    assert_user_error(code, stdout, err, "ambiguous dates")
    assert "--date-format %d/%m/%Y" in err
    out = tmp_path / "b"
    code, _, err = run(capsys, *args, "--out", str(out), "--date-format", "%d/%m/%Y")
    assert code == 0, err
    equity = pd.read_csv(out / "equity.csv", parse_dates=["date"])
    assert list(pd.DatetimeIndex(equity["date"]).date) == list(frame.index.date)


def _typed(fix: str, option: str, value: str | None) -> list[str]:
    """The option as the fix spells it: ``[option]`` for a flag, else ``[option, value]``
    with ``value`` one of those the fix suggests."""
    if value is None:
        assert option in fix
        return [option]
    suggested = re.findall(rf"{option} ([^\s;,()]+)", fix)
    assert value in suggested, (value, fix)
    return [option, value]


def _fixable_files(
    tmp_path: Path, spy_2019: pd.DataFrame
) -> dict[str, tuple[Path, str, str | None]]:
    """Files whose error suggests a typeable fix: name -> (file, option, value)."""
    cases: dict[str, tuple[Path, str, str | None]] = {}
    odd = spy_2019.rename_axis("When").rename(columns={"close": "Close"})
    odd.index = odd.index.strftime("%Y-%m-%d")
    (tmp_path / "map").mkdir()
    odd.to_csv(tmp_path / "map" / "SPY.csv")
    cases["map"] = (tmp_path / "map" / "SPY.csv", "--map", "When=date")
    bent = spy_2019.copy()
    bent.iloc[50, bent.columns.get_loc("close")] = bent["high"].iloc[50] * 1.01
    cases["repair"] = (yahoo_csv(tmp_path / "repair" / "SPY.csv", bent), "--repair", None)
    us = yahoo_csv(tmp_path / "date" / "SPY.csv", spy_2019[spy_2019.index.day <= 12],
                   fmt="%m/%d/%Y")  # fmt: skip
    cases["date"] = (us, "--date-format", "%m/%d/%Y")
    clash = yahoo_csv(tmp_path / "clash" / "SPY.csv", spy_2019)
    pd.read_csv(clash).assign(close=1.0).to_csv(clash, index=False)  # 'Close' and 'close'
    cases["clash"] = (clash, "--map", "Close=close")
    return cases


def test_hints_name_options_that_exist_and_work(tmp_path, capsys, spy_2019):
    """Every --option a file error suggests is one `flowbt run` has, and typing the
    suggested --map, --repair or --date-format fix makes the run succeed."""
    code, help_text, _ = run(capsys, "run", "--help")
    assert code == 0
    cases = _fixable_files(tmp_path, spy_2019)
    for name, (path, option, value) in cases.items():
        args = ("run", "sma_cross", "--data", str(path), *FAST)
        code, stdout, err = run(capsys, *args, "--out", str(tmp_path / f"{name}-1"))
        assert_user_error(code, stdout, err, str(path))
        fix = err.split("; fix: ", 1)[1]
        options = set(re.findall(r"(--[a-z][a-z-]+)", fix))
        assert option in options, err
        for each in options:
            assert each in help_text, (each, err)
        out = tmp_path / f"{name}-2"
        code, _, err = run(capsys, *args, "--out", str(out), *_typed(fix, option, value))
        assert code == 0, (name, err)
        if name == "repair":
            assert "repaired" in err and "1 row(s)" in err
        if name == "clash":  # the run used 'Close', not the 1.0 of 'close'
            equity = pd.read_csv(out / "equity.csv")
            assert equity["equity"].nunique() > 1


def test_data_show_takes_the_fixes_file_errors_suggest(tmp_path, capsys, spy_2019):
    """`flowbt data show FILE --source csv` gets the same errors as `flowbt run`: every
    option their fix names exists on `data show`, and typing it shows the file."""
    code, help_text, _ = run(capsys, "data", "show", "--help")
    assert code == 0
    for name, (path, option, value) in _fixable_files(tmp_path, spy_2019).items():
        args = ("data", "show", str(path), "--source", "csv")
        code, stdout, err = run(capsys, *args)
        assert_user_error(code, stdout, err, str(path))
        fix = err.split("; fix: ", 1)[1]
        for each in set(re.findall(r"(--[a-z][a-z-]+)", fix)):
            assert each in help_text, (name, each, err)
        code, stdout, err = run(capsys, *args, *_typed(fix, option, value))
        assert code == 0 and "rows: " in stdout, (name, err)
    code, stdout, err = run(capsys, "data", "show", "SPY", "--date-format", "%d/%m/%Y")
    assert_user_error(code, stdout, err, "price files only")


def test_a_semicolon_file_is_named_as_such(tmp_path, capsys, spy_2019):
    path = tmp_path / "SPY.csv"
    yahoo_csv(path, spy_2019)
    path.write_text(path.read_text().replace(",", ";"))
    out = tmp_path / "o"
    code, stdout, err = run(capsys, "run", "sma_cross", "--data", str(path), "--out", str(out))
    assert_user_error(code, stdout, err, "separated by semicolons")
    assert "missing column" not in err and not out.exists()


CELLS = st.sampled_from(["", "inf", "nan", "-1", "1e308", "abc", "2020-02-30", "43909"])


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    row=st.integers(0, 59),
    column=st.integers(0, 6),
    cell=CELLS,
    delimiter=st.sampled_from([",", ",", ";"]),
    cut=st.one_of(st.none(), st.integers(0, 3000)),
)
def test_fuzzed_files_exit_0_or_2_with_one_line(capsys, spy, row, column, cell, delimiter, cut):
    with tempfile.TemporaryDirectory() as tmp:
        path = yahoo_csv(Path(tmp) / "SPY.csv", spy.loc["2019"].iloc[:60])
        lines = path.read_text().splitlines()
        cells = lines[row + 1].split(",")
        cells[column] = cell
        lines[row + 1] = ",".join(cells)
        text = "\n".join(lines).replace(",", delimiter)
        raw = text.encode()[:cut] if cut is not None else text.encode()
        path.write_bytes(raw)
        out = Path(tmp) / "res"
        args = ("run", "sma_cross", "--data", str(path), "--out", str(out), *FAST)
        code, stdout, err = run(capsys, *args)
        assert path.read_bytes() == raw
        assert "Traceback" not in stdout + err
        if code == 2:
            assert err.startswith("flowbt: error: ") and err.count("\n") == 1
            assert "; fix: " in err and not out.exists()
        else:
            assert code == 0, err
            assert (out / "metrics.json").is_file()


def test_offset_daily_bars_are_sessions_not_24_7(tmp_path, capsys, spy_2019):
    """Seoul-style stamps (local midnight, +09:00) used to land on the previous UTC day,
    put Monday's bar on Sunday and annualise on 365."""
    path = yahoo_csv(tmp_path / "SPY.csv", spy_2019, fmt="%Y-%m-%dT00:00:00+09:00")
    out = tmp_path / "o"
    code, stdout, err = run(capsys, "run", "sma_cross", "--data", str(path), "--out", str(out))
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["periods_per_year"] == 252 and metrics["calendar"] == "sessions"
    equity = pd.read_csv(out / "equity.csv", parse_dates=["date"])
    assert list(pd.DatetimeIndex(equity["date"]).date) == list(spy_2019.index.date)


def test_a_run_config_may_say_how_to_read_the_file(tmp_path, capsys, spy_2019):
    frame = spy_2019[spy_2019.index.day <= 12]
    path = yahoo_csv(tmp_path / "SPY.csv", frame, fmt="%d/%m/%Y")
    config = tmp_path / "run.toml"
    config.write_text(
        'strategy = "sma_cross"\nparams = { fast = 3, slow = 8 }\n'
        'date_format = "%d/%m/%Y"\nadjust = "none"\n'
    )
    out = tmp_path / "o"
    code, _, err = run(
        capsys, "run", "--config", str(config), "--data", str(path), "--out", str(out)
    )
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["adjust"] == "none"
    equity = pd.read_csv(out / "equity.csv", parse_dates=["date"])
    assert list(pd.DatetimeIndex(equity["date"]).date) == list(frame.index.date)
    # the option wins over the config
    out = tmp_path / "p"
    code, _, err = run(capsys, "run", "--config", str(config), "--data", str(path), "--out",
                       str(out), "--adjust", "total-return")  # fmt: skip
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["adjust"] == "total-return"
    # `flowbt backtest` reads no file: the keys are refused there, not ignored
    code, stdout, err = run(
        capsys, "backtest", "--config", str(config), "--out", str(tmp_path / "q")
    )
    assert_user_error(code, stdout, err, "unknown key date_format")
