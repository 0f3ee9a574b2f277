"""`data.load` over the cache of online sources, and `flowbt data update`, offline."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import data
import data.cache
from data import DataError, StaleDataWarning
from flowbt.cli.main import main


def spy_fetcher(bundle, upto: str):
    """Serve real bundled SPY bars (a stand-in for Yahoo's answer) up to ``upto``."""
    calls = []

    def fetch(symbol, *, interval, start, end):
        calls.append(start)
        frame = bundle.price("SPY").loc[: pd.Timestamp(upto, tz="UTC")]
        return frame.loc[start:] if start is not None else frame

    fetch.calls = calls
    return fetch


def test_load_reads_the_cache_and_never_the_network(tmp_path, bundle):
    fetch = spy_fetcher(bundle, "2020-03-23")
    data.cache.update("SPY", "yahoo", start="2020-01-02", cache=tmp_path, fetcher=fetch)
    md = data.load(["SPY"], source="yahoo", cache_dir=tmp_path)
    assert md.price("SPY").loc["2020-03-23", "close"] == 222.95
    info = md.provenance("SPY")
    assert info.source == "yahoo" and info.fetched_at and info.calendar == "XNYS"
    assert md.as_of("2020-03-20").price("SPY").index[-1] == pd.Timestamp("2020-03-20", tz="UTC")


def test_load_without_cache_says_how_to_fill_it(tmp_path):
    with pytest.raises(DataError) as info:
        data.load(["SPY"], source="yahoo", cache_dir=tmp_path)
    assert "flowbt data update SPY --source yahoo" in info.value.one_line()


def test_fred_series_get_their_publication_lag(tmp_path, bundle):
    walcl = bundle.macro["WALCL"][["value"]]

    def fetch(symbol, *, interval, start, end):
        return walcl.loc[start:] if start is not None else walcl

    data.cache.update("WALCL", "fred", cache=tmp_path, fetcher=fetch)
    md = data.load(["WALCL"], source="fred", cache_dir=tmp_path)
    frame = md.macro["WALCL"]
    assert frame.loc["2020-03-18", "value"] == 4668212.0
    assert (
        frame.loc["2020-03-18", "known_at"] == bundle.macro["WALCL"].loc["2020-03-18", "known_at"]
    )


def test_cli_update_failure_is_one_line_and_keeps_the_cache(tmp_path, bundle, monkeypatch, capsys):
    fetch = spy_fetcher(bundle, "2020-03-23")
    data.cache.update("SPY", "yahoo", start="2020-03-02", cache=tmp_path, fetcher=fetch)
    cached = next(tmp_path.rglob("*.parquet"))
    before = cached.read_bytes()

    def offline(*args, **kwargs):
        raise ConnectionError("network unreachable")

    monkeypatch.setattr(data.cache, "get_fetcher", lambda *a, **k: offline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleDataWarning)
        code = main(["data", "update", "SPY", "--source", "yahoo", "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 3  # fell back to the cache: a distinct exit code, not success
    assert "stale" in err.lower() and "SPY" in err
    assert cached.read_bytes() == before
    code = main(["data", "update", "QQQ", "--source", "yahoo", "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("flowbt: error: ") and err.count("\n") == 1
    code = main(["data", "list", "--cache-dir", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert "Local cache: 1 entries" in out and "2020-03-23" in out
