"""The sweep's on-disk pieces: the data checksum, the signal cache, chunk files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.market import MarketData
from flowbt.optimize.store import (
    DiskSignalCache,
    code_version,
    market_checksum,
    read_chunk,
    write_chunk,
)


def _md(value: float) -> MarketData:
    idx = pd.date_range("2024-01-01", periods=5, tz="UTC")
    frame = pd.DataFrame({c: [value] * 5 for c in ("open", "high", "low", "close")}, index=idx)
    return MarketData({"X": frame}, {}, {}, {})


def test_market_checksum_changes_with_any_value_and_not_otherwise():
    assert market_checksum(_md(1.0)) == market_checksum(_md(1.0))
    assert market_checksum(_md(1.0)) != market_checksum(_md(1.0 + 1e-12))


def test_signal_cache_round_trips_frames_and_series_and_keys_by_checksum(tmp_path: Path):
    idx = pd.date_range("2020-01-01", periods=4, tz="UTC")
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": ["x", "y", "z", "w"]}, index=idx)
    series = pd.Series([0.1, 0.2, 0.3, 0.4], index=idx, name="share")
    first = DiskSignalCache(tmp_path, "sum1")
    first[(1, "frame_signal", "[]")] = frame
    first[(1, "series_signal", "[('k', 2)]")] = series
    # a new process (a new cache object, another MarketData id) on the same data and code
    again = DiskSignalCache(tmp_path, "sum1")
    assert (99, "frame_signal", "[]") in again
    pd.testing.assert_frame_equal(again[(99, "frame_signal", "[]")], frame, check_freq=False)
    got = again[(99, "series_signal", "[('k', 2)]")]
    pd.testing.assert_series_equal(got, series, check_freq=False)
    # other parameters, other data: not found
    assert (99, "series_signal", "[('k', 3)]") not in again
    assert (1, "frame_signal", "[]") not in DiskSignalCache(tmp_path, "sum2")
    assert code_version() in again.prefix


def test_chunk_files_are_whole_or_absent(tmp_path: Path):
    frame = pd.DataFrame({"trial": [4, 5, 6], "objective": [0.1, 0.2, np.nan]})
    write_chunk(tmp_path, 4, 6, frame)
    pd.testing.assert_frame_equal(read_chunk(tmp_path, 4, 6), frame)
    assert read_chunk(tmp_path, 7, 9) is None
    # a chunk with the wrong number of rows, or a truncated file, counts as not written
    write_chunk(tmp_path, 7, 9, frame.iloc[:2])
    assert read_chunk(tmp_path, 7, 9) is None
    path = tmp_path / "chunks" / "chunk-0000004-0000006.parquet"
    path.write_bytes(path.read_bytes()[:20])
    assert read_chunk(tmp_path, 4, 6) is None
    assert not list((tmp_path / "chunks").glob("*.tmp"))


def test_optimize_reads_signals_from_the_disk_cache(tmp_path: Path, monkeypatch, bundle):
    import flowbt
    import signals.registry as registry

    kwargs = dict(grid=["threshold=0.3:0.7:2"], start="2020-01-02", spa_reps=50)
    first = flowbt.optimize("buyback_blackout", bundle, signal_cache=tmp_path / "sig", **kwargs)
    assert list((tmp_path / "sig").glob("blackout_share-*.parquet"))

    def refuse(name: str):
        raise AssertionError(f"signal {name} computed again")

    monkeypatch.setattr(registry, "get_signal", refuse)
    monkeypatch.setattr("engine.market.get_signal", refuse)
    second = flowbt.optimize("buyback_blackout", bundle, signal_cache=tmp_path / "sig", **kwargs)
    pd.testing.assert_frame_equal(first.results, second.results)
    with pytest.raises(AssertionError, match="computed again"):
        flowbt.optimize("buyback_blackout", bundle, **kwargs)
