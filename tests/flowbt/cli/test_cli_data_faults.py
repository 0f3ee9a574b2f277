"""`flowbt data ...` under faults: exit codes, one-line errors, no secret, no stray file.

The network is replaced by fetchers serving real SPY bars (tests/data/test_cache.py), by
fredapi with only urllib's HTTPS connection replaced (tests/fred_transport.py), or by
yfinance with an offline session. Exit codes: 0 refreshed, 3 served from a stale cache
after a failed refresh, 2 a user error (one line).
"""

from __future__ import annotations

import functools
import hashlib
import sys
import warnings
from pathlib import Path

import fred_transport
import numpy as np
import pandas as pd
import pytest
import requests
from bt_helpers import assert_user_error
from bt_helpers import run_cli as run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import data.cache
from data.cache import Cache
from data.errors import StaleDataWarning

sys.path.insert(0, str(Path(__file__).parents[2] / "data"))
from test_cache import RecordingFetcher, spy  # noqa: E402

SENTINEL = "clisentinelkey0123456789abcdef00"


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def network(monkeypatch):
    """Replace the fetcher `update` builds; returns a setter for what it should be."""
    current: dict[str, object] = {"fetch": RecordingFetcher()}
    monkeypatch.setattr(data.cache, "get_fetcher", lambda *a, **k: current["fetch"])
    return current


def table_rows(out: str) -> list[str]:
    """The dates of the rows of the table `data show` printed."""
    return [line.split()[1] for line in out.splitlines() if line.startswith("│ 20")]


def update_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["data", "update", *extra, "--cache-dir", str(tmp_path / "cache")]


# --- 9. exit codes of `data update` ----------------------------------------------------


def test_update_exit_codes_tell_fresh_stale_and_failed_apart(tmp_path, capsys, network):
    code, out, err = run(capsys, *update_args(tmp_path, "SPY"))
    assert code == 0 and "SPY: 10 rows 2020-03-16..2020-03-27 cached at" in out
    cached = next((tmp_path / "cache").rglob("*.parquet"))
    before = cached.read_bytes()

    network["fetch"] = RecordingFetcher(error=ConnectionError("network unreachable"))
    code, out, err = run(capsys, *update_args(tmp_path, "SPY"))
    assert code == 3  # served from the stale cache: not 0, so scripts can tell
    assert "flowbt: stale data: SPY (yahoo, 1d) is stale" in err
    assert "SPY: 10 rows" in out and "STALE" in out
    assert cached.read_bytes() == before

    code, out, err = run(capsys, *update_args(tmp_path, "QQQ"))
    assert_user_error(code, out, err, "no data for QQQ from yahoo and nothing cached")


def test_one_stale_symbol_among_fresh_ones_is_exit_3(tmp_path, capsys, network):
    assert run(capsys, *update_args(tmp_path, "SPY"))[0] == 0
    good = RecordingFetcher()

    def fetch(symbol, **kwargs):
        if symbol == "SPY":
            raise ConnectionError("reset by peer")
        return good(symbol, **kwargs)

    network["fetch"] = fetch
    code, out, err = run(capsys, *update_args(tmp_path, "QQQ", "SPY"))
    assert code == 3
    assert "QQQ: 10 rows" in out and "cached at" in out
    assert err.count("stale data") == 1 and "SPY" in err


# --- 10. --rows ------------------------------------------------------------------------


@pytest.mark.parametrize("rows", ["-5", "0", "-1"])
def test_rows_below_one_is_one_line(capsys, bundled, rows):
    code, out, err = run(capsys, "data", "show", "SPY", "--rows", rows)
    assert_user_error(code, out, err, f"--rows must be at least 1, got {rows}")
    assert "flowbt data show SPY --rows 5" in err and out == ""


def test_rows_prints_each_row_at_most_once(capsys):
    code, out, _ = run(
        capsys, "data", "show", "SPY", "--start", "2020-03-16", "--end", "2020-03-27", "--rows", "3"
    )
    assert code == 0
    days = [f"2020-03-{d}" for d in (16, 17, 18, 25, 26, 27)]
    assert all(table_rows(out).count(day) == 1 for day in days)
    assert table_rows(out) == days  # the middle rows are elided


# --- 2./3. intervals and exchanges -----------------------------------------------------


def test_fred_interval_path_is_refused_and_nothing_is_written(tmp_path, capsys, network):
    before = tree(tmp_path)
    code, out, err = run(
        capsys, *update_args(tmp_path, "WALCL", "--source", "fred", "--interval", "../../x")
    )
    assert_user_error(code, out, err, "unknown interval '../../x' for source fred")
    assert "fix: use --interval with one of 1d" in err
    assert tree(tmp_path) == before and not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("args", "needle", "valid"),
    [
        (["SPY", "--interval", "2d"], "unknown interval '2d' for source yahoo", "1h, 1d, 1w"),
        (["BTC/USDT", "--source", "ccxt", "--interval", "4h"], "for source ccxt", "1m, 5m"),
        (
            ["BTC/USDT", "--source", "ccxt", "--exchange", "../../x"],
            "invalid ccxt exchange id",
            "binance",
        ),
    ],
)
def test_unknown_interval_or_exchange_is_named_not_the_network(
    tmp_path, capsys, network, args, needle, valid
):
    code, out, err = run(capsys, *update_args(tmp_path, *args))
    assert_user_error(code, out, err, needle)
    assert valid in err and "network" not in err
    assert network["fetch"].calls == []  # refused before any request


# --- 1. no secret on screen ------------------------------------------------------------


def test_fred_key_never_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", SENTINEL)
    fred_transport.install(monkeypatch, fred_transport.FredWire())
    code, out, err = run(capsys, *update_args(tmp_path, "WAL CL", "--source", "fred"))
    assert_user_error(code, out, err, "FRED API request failed")
    assert SENTINEL not in out + err and "api_key=***" in err

    code, out, err = run(capsys, *update_args(tmp_path, "WALCL", "--source", "fred"))
    assert code == 0 and "WALCL: 9 rows" in out
    page = fred_transport.error_xml(f"api_key={SENTINEL} is not registered")
    fred_transport.install(monkeypatch, fred_transport.FredWire(page, status=400))
    code, out, err = run(capsys, *update_args(tmp_path, "WALCL", "--source", "fred"))
    assert code == 3 and "stale data" in err
    assert SENTINEL not in out + err
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes()


# --- 4. yfinance's noise and numpy's warnings ------------------------------------------


def test_yfinance_failure_is_one_line_without_its_log(tmp_path, capsys, monkeypatch):
    import yfinance.cache as yf_cache
    from yfinance.data import YfData

    from data.sources import yahoo

    class Offline(requests.Session):
        def get(self, url, *args, **kwargs):
            raise requests.ConnectionError(f"failed to connect to {url}")

        request = get

    for manager in (yf_cache._TzDBManager, yf_cache._CookieDBManager, yf_cache._ISINDBManager):
        monkeypatch.setattr(manager, "_cache_dir", manager._cache_dir)
        monkeypatch.setattr(manager, "_db", None)
    monkeypatch.setattr(yf_cache._TzCacheManager, "_tz_cache", None)
    monkeypatch.setattr(yf_cache._CookieCacheManager, "_Cookie_cache", None)
    monkeypatch.setattr(yahoo, "_yf_cache_dir", None)
    YfData.cache_get.cache_clear()
    monkeypatch.setattr(
        data.cache,
        "get_fetcher",
        lambda source, **kw: functools.partial(
            yahoo.fetch_yahoo, session=Offline(), cache_root=kw["cache_root"]
        ),
    )
    code, out, err = run(capsys, *update_args(tmp_path, "SPY", "--start", "2020-03-16"))
    assert_user_error(code, out, err, "Yahoo request failed")
    assert "fc.yahoo.com" not in err and "Cookie" not in err
    assert yf_cache._TzDBManager.get_location() == str(tmp_path / "cache" / "yfinance")
    for manager in (yf_cache._TzDBManager, yf_cache._CookieDBManager):
        if manager._db is not None:
            manager._db.close()


def test_numpy_warnings_do_not_reach_data_commands(tmp_path, capsys, network):
    good = RecordingFetcher()

    def noisy(symbol, **kwargs):
        np.log(np.array([-1.0, 4.0]))  # RuntimeWarning: invalid value encountered in log
        np.array([1.0]) / np.array([0.0])  # RuntimeWarning: divide by zero
        return good(symbol, **kwargs)

    network["fetch"] = noisy
    code, out, err = run(capsys, *update_args(tmp_path, "SPY"))
    assert code == 0
    assert "invalid value encountered" not in err and "divide by zero" not in err
    assert err == ""


# --- 8. a full disk during `data update` -----------------------------------------------


def test_full_disk_is_one_line_and_keeps_the_cache(tmp_path, capsys, network, monkeypatch):
    assert run(capsys, *update_args(tmp_path, "SPY"))[0] == 0
    before = tree(tmp_path / "cache")

    def full(table, where, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data.cache.pq, "write_table", full)
    network["fetch"] = RecordingFetcher(spy().assign(volume=spy()["volume"] + 1))
    code, out, err = run(capsys, *update_args(tmp_path, "SPY"))
    assert_user_error(code, out, err, "cannot write the cache file: No space left on device")
    assert "--cache-dir DIR" in err and "FLOWBT_CACHE_DIR=DIR" in err
    assert tree(tmp_path / "cache") == before


def test_unreadable_cache_file_is_one_line(tmp_path, capsys, network, bundled):
    assert run(capsys, *update_args(tmp_path, "SPY"))[0] == 0
    path = next((tmp_path / "cache").rglob("*.parquet"))
    path.write_bytes(path.read_bytes()[:-40])
    code, out, err = run(capsys, *update_args(tmp_path, "SPY"))
    assert_user_error(code, out, err, "cache file is corrupt")
    assert f"delete {path}" in err


# --- 11. fuzz: parameter strings -------------------------------------------------------

_WORD = st.one_of(
    st.sampled_from(
        [
            "1d",
            "1h",
            "1w",
            "2d",
            "../x",
            "..",
            "/",
            "1d/..",
            "",
            " ",
            "binance",
            "BIN",
            "x/y",
            "-1",
            "0",
            "5",
            "2020-02-30",
            "1500-01-01",
            "2020-03-20",
            "%2e%2e",
            "SPY",
            "BTC/USDT",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine
    database=None,  # nothing written beside the tests
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    source=st.sampled_from(["yahoo", "ccxt", "fred"]),
    symbol=_WORD.filter(lambda s: not s.startswith("-")),
    option=st.sampled_from(["--interval", "--exchange", "--start"]),
    value=_WORD,
)
def test_fuzz_update_parameters(tmp_path_factory, capsys, network, source, symbol, option, value):
    root = tmp_path_factory.mktemp("fuzz")
    fetch = RecordingFetcher()
    if source == "fred":
        fetch = RecordingFetcher(pd.DataFrame({"value": spy()["close"]}))
    network["fetch"] = fetch
    args = [
        "data",
        "update",
        symbol,
        "--source",
        source,
        option,
        value,
        "--cache-dir",
        str(root / "cache"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleDataWarning)
        code, out, err = run(capsys, *args)
    assert "Traceback" not in out + err
    assert code in (0, 2)
    if code == 2:
        assert err.startswith("flowbt: error: ") and err.count("\n") == 1
    for path in root.rglob("*"):  # nothing outside <root>/cache
        assert path == root / "cache" or path.is_relative_to(root / "cache")
    if code == 0:
        listed = Cache(root / "cache").list()
        assert len(listed) == 1 and 1 <= listed[0].rows <= 10  # --start may cut the bars


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine
    database=None,  # nothing written beside the tests
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.one_of(st.integers(-50, 50), _WORD))
def test_fuzz_show_rows(capsys, bundled, rows):
    code, out, err = run(
        capsys,
        "data",
        "show",
        "SPY",
        "--start",
        "2020-03-02",
        "--end",
        "2020-03-31",
        "--rows",
        str(rows),
    )
    assert "Traceback" not in out + err
    if code == 0:
        n = int(str(rows).strip())
        assert n >= 1
        for day in pd.bdate_range("2020-03-02", "2020-03-31").strftime("%Y-%m-%d"):
            assert table_rows(out).count(day) <= 1  # never a row twice
    else:
        assert code == 2 and err.startswith("flowbt: error: ") and err.count("\n") == 1
