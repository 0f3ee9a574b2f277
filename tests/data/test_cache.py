"""Parquet cache: metadata, checksums, atomic writes and incremental updates with fallback.

Fetchers are fakes of the `data.sources.Fetcher` shape that serve real SPY bars
(2020-03-16..27, from the shared SPY.csv) and record what they were asked for.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import data.cache as cache_mod
from data.cache import Cache, default_cache_dir, frame_checksum, list_cached, read_cached, update
from data.errors import DataError, StaleDataWarning

SPY_CSV = """date,open,high,low,close,adj_close,volume
2020-03-16,241.18,256.9,237.36,239.85,218.6262,297240030
2020-03-17,245.04,256.17,237.07,252.8,230.4303,262070471
2020-03-18,236.25,248.37,228.02,240.0,218.763,327597130
2020-03-19,239.25,247.38,232.22,240.51,219.2278,289322040
2020-03-20,242.53,244.47,228.5,228.8,209.78,347158790
2020-03-23,228.19,229.6833,218.26,222.95,204.4163,326025170
2020-03-24,234.42,244.1,233.8,243.15,222.9371,235494475
2020-03-25,244.87,256.35,239.75,246.79,226.2745,299430255
2020-03-26,249.52,262.8,249.05,261.2,239.4866,257632816
2020-03-27,253.27,260.81,251.05,253.42,232.3534,224341217
"""


def spy() -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(SPY_CSV), index_col="date").astype("float64")
    index = pd.DatetimeIndex(pd.to_datetime(frame.index), name="date").tz_localize("UTC")
    frame.index = index.as_unit("ns")
    return frame


class RecordingFetcher:
    """Serves ``frame`` sliced to [start, end) like a provider; records every request."""

    def __init__(self, frame: pd.DataFrame | None = None, error: Exception | None = None):
        self.frame = spy() if frame is None else frame
        self.error = error
        self.calls: list[tuple[pd.Timestamp | None, pd.Timestamp | None]] = []

    def __call__(self, symbol, *, interval, start, end):
        self.calls.append((start, end))
        if self.error is not None:
            raise self.error
        out = self.frame
        if start is not None:
            out = out.loc[out.index >= start]
        if end is not None:
            out = out.loc[out.index < end]
        return out.copy()


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path) -> Cache:
    return Cache(tmp_path / "cache")


def seeded(store: Cache, last: str = "2020-03-20") -> Path:
    update(
        "SPY",
        "yahoo",
        start="2020-03-16",
        end=ts(last) + pd.Timedelta(days=1),
        cache=store,
        fetcher=RecordingFetcher(),
    )
    return store.path("SPY", "yahoo")


# --- location and metadata -------------------------------------------------------------


def test_cache_dir_from_env_or_home(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWBT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    assert Cache().root == tmp_path / "elsewhere"
    monkeypatch.delenv("FLOWBT_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "flowbt"


def test_write_read_round_trip_with_metadata(store):
    frame = spy()
    before = datetime.now().astimezone()
    entry = store.write(frame, "SPY", "yahoo", basis="raw+tr")
    back = store.read("SPY", "yahoo")
    pd.testing.assert_frame_equal(back, frame, check_freq=False)
    assert back.loc[ts("2020-03-23"), "close"] == 222.95
    stored = json.loads(pq.read_schema(store.path("SPY", "yahoo")).metadata[b"flowbt"])
    assert stored["source"] == "yahoo" and stored["symbol"] == "SPY"
    assert stored["interval"] == "1d" and stored["rows"] == 10
    assert stored["first"].startswith("2020-03-16") and stored["last"].startswith("2020-03-27")
    assert stored["sha256"] == frame_checksum(frame) == entry.sha256
    fetched = datetime.fromisoformat(stored["fetched_at"])
    assert fetched.utcoffset().total_seconds() == 0
    assert abs((fetched - before).total_seconds()) < 60
    assert back.attrs["basis"] == "raw+tr"


def test_symbols_with_slashes_and_carets_get_safe_file_names(store):
    path = store.path("BTC/USDT", "ccxt", exchange="binance")
    assert path.parent == store.root / "ccxt-binance" / "1d" and "/" not in path.name
    store.write(spy(), "^VIX", "yahoo")
    assert [e.symbol for e in store.list()] == ["^VIX"]


def test_list_entries(store):
    store.write(spy(), "SPY", "yahoo")
    store.write(spy().iloc[:3], "BTC/USDT", "ccxt", exchange="kraken")
    entries = list_cached(store.root)
    assert {(e.source, e.exchange, e.symbol, e.rows) for e in entries} == {
        ("yahoo", None, "SPY", 10),
        ("ccxt", "kraken", "BTC/USDT", 3),
    }


def test_missing_entry_error_names_the_update_command(store):
    with pytest.raises(DataError) as err:
        read_cached("SPY", "yahoo", cache=store)
    assert "flowbt data update SPY --source yahoo" in err.value.hint
    with pytest.raises(DataError) as err:
        store.read("ETH/USDT", "ccxt", exchange="kraken")
    assert "flowbt data update ETH/USDT --source ccxt --exchange kraken" in err.value.hint


def test_unknown_source_is_a_data_error(store):
    with pytest.raises(DataError, match="unknown online source"):
        store.path("SPY", "bloomberg")


# --- corruption -------------------------------------------------------------------------


def test_checksum_mismatch_is_a_corrupt_cache_error(store):
    store.write(spy(), "SPY", "yahoo")
    path = store.path("SPY", "yahoo")
    table = pq.read_table(path)
    tampered = table.to_pandas()
    tampered.loc[ts("2020-03-23"), "close"] = 999.0
    import pyarrow as pa

    bad = pa.Table.from_pandas(tampered).replace_schema_metadata(table.schema.metadata)
    pq.write_table(bad, path)
    with pytest.raises(DataError, match="corrupt: checksum mismatch") as err:
        store.read("SPY", "yahoo")
    assert "delete" in err.value.hint and "flowbt data update SPY --source yahoo" in err.value.hint


def test_truncated_file_is_a_corrupt_cache_error(store):
    store.write(spy(), "SPY", "yahoo")
    path = store.path("SPY", "yahoo")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="corrupt"):
        store.read("SPY", "yahoo")
    assert store.list()[0].first == "corrupt"


# --- atomic writes ----------------------------------------------------------------------


def test_crash_while_writing_leaves_old_file_and_no_temp(store, monkeypatch):
    store.write(spy().iloc[:5], "SPY", "yahoo")
    path = store.path("SPY", "yahoo")
    digest = file_digest(path)

    def crash(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(cache_mod.pq, "write_table", crash)
    with pytest.raises(DataError, match="disk full"):  # one line, not a traceback
        store.write(spy(), "SPY", "yahoo")
    assert file_digest(path) == digest
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_failed_rename_leaves_old_file_and_no_temp(store, monkeypatch):
    store.write(spy().iloc[:5], "SPY", "yahoo")
    path = store.path("SPY", "yahoo")
    digest = file_digest(path)
    monkeypatch.setattr(
        cache_mod.os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("x"))
    )
    with pytest.raises(DataError, match="cannot write the cache file"):
        store.write(spy(), "SPY", "yahoo")
    assert file_digest(path) == digest
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_write_goes_through_a_temp_file_in_the_same_folder(store, monkeypatch):
    seen = []
    real = os.replace

    def spy_replace(src, dst):
        seen.append((Path(src), Path(dst)))
        real(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", spy_replace)
    store.write(spy(), "SPY", "yahoo")
    ((src, dst),) = seen
    assert src.parent == dst.parent and src != dst and dst == store.path("SPY", "yahoo")


# --- incremental update -----------------------------------------------------------------


def test_update_fetches_only_from_the_last_cached_bar(store):
    seeded(store, last="2020-03-20")
    fetcher = RecordingFetcher()
    full = update("SPY", "yahoo", cache=store, fetcher=fetcher)
    assert fetcher.calls == [(ts("2020-03-20"), None)]
    assert len(full) == 10 and full.index.is_unique
    assert full.loc[ts("2020-03-23"), "close"] == 222.95
    assert store.entry("SPY", "yahoo").rows == 10


def test_refetched_partial_bar_is_replaced_by_the_newest(store):
    partial = spy().iloc[:5].copy()
    partial.loc[ts("2020-03-20"), ["high", "close", "volume"]] = [244.0, 235.0, 1e6]  # intraday
    store.write(partial, "SPY", "yahoo")
    full = update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher())
    assert full.loc[ts("2020-03-20"), "close"] == 228.8
    assert full.loc[ts("2020-03-20"), "volume"] == 347158790


def test_start_before_the_cache_refetches_from_start(store):
    seeded(store, last="2020-03-20")
    store.write(spy().iloc[3:5], "SPY", "yahoo")  # cache holds 03-19..03-20 only
    fetcher = RecordingFetcher()
    full = update("SPY", "yahoo", start="2020-03-16", cache=store, fetcher=fetcher)
    assert fetcher.calls == [(ts("2020-03-16"), None)]
    assert full.index[0] == ts("2020-03-16") and len(full) == 10


def test_dividend_rebasing_triggers_a_full_refetch(store):
    seeded(store, last="2020-03-20")
    rebased = spy()
    rebased["adj_close"] *= 0.99  # a new dividend re-scaled Yahoo's adjusted history
    fetcher = RecordingFetcher(rebased)
    full = update("SPY", "yahoo", cache=store, fetcher=fetcher)
    assert fetcher.calls == [(ts("2020-03-20"), None), (ts("2020-03-16"), None)]
    assert full.loc[ts("2020-03-16"), "adj_close"] == pytest.approx(218.6262 * 0.99)


def test_series_frames_are_cached_too(store):
    walcl = pd.DataFrame(
        {"value": [4241507.0, 4311911.0, 4668212.0]},
        index=pd.DatetimeIndex(["2020-03-04", "2020-03-11", "2020-03-18"], name="date", tz="UTC"),
    )
    out = update("WALCL", "fred", cache=store, fetcher=RecordingFetcher(walcl))
    assert out.loc[ts("2020-03-18"), "value"] == 4668212.0
    assert store.entry("WALCL", "fred").kind == "series"


# --- failures never lose the cache --------------------------------------------------------


def test_network_failure_falls_back_with_a_stale_warning(store):
    path = seeded(store, last="2020-03-20")
    digest = file_digest(path)
    down = RecordingFetcher(error=ConnectionError("Failed to resolve query2.finance.yahoo.com"))
    with pytest.warns(StaleDataWarning) as caught:
        frame = update("SPY", "yahoo", cache=store, fetcher=down)
    text = str(caught[0].message)
    assert "SPY" in text and "yahoo" in text and "2020-03-20" in text and "stale" in text
    assert "Failed to resolve" in text
    assert frame.index[-1] == ts("2020-03-20") and frame.attrs["stale"] is True
    assert file_digest(path) == digest


def test_empty_answer_falls_back_with_a_stale_warning(store):
    path = seeded(store, last="2020-03-20")
    digest = file_digest(path)
    with pytest.warns(StaleDataWarning, match="sent no bars"):
        frame = update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher(spy().iloc[:0]))
    assert len(frame) == 5
    assert file_digest(path) == digest


def test_failure_without_cache_is_a_clear_error_not_an_empty_frame(store):
    down = RecordingFetcher(error=ConnectionError("offline"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match="nothing cached: ConnectionError: offline") as err:
            update("SPY", "yahoo", cache=store, fetcher=down)
    assert err.value.symbol == "SPY"
    assert not store.path("SPY", "yahoo").exists()
    with pytest.raises(DataError, match="nothing cached"):
        update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher(spy().iloc[:0]))


def test_invalid_fetched_data_raises_and_leaves_the_file_byte_for_byte(store):
    path = seeded(store, last="2020-03-20")
    digest, mtime = file_digest(path), path.stat().st_mtime_ns
    bad = spy()
    bad.loc[ts("2020-03-23"), "high"] = 100.0  # high < low
    with pytest.raises(DataError, match="bad data: high 100 < low 218.26") as err:
        update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher(bad))
    assert "cache was left unchanged" in err.value.hint
    assert file_digest(path) == digest and path.stat().st_mtime_ns == mtime
    assert store.read("SPY", "yahoo").index[-1] == ts("2020-03-20")


def test_negative_price_from_source_is_rejected(store):
    bad = spy()
    bad.loc[ts("2020-03-17"), "open"] = -1.0
    with pytest.raises(DataError, match="non-positive price"):
        update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher(bad))
    assert not store.path("SPY", "yahoo").exists()
