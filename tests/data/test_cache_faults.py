"""Cache faults: escaping paths, file modes, forged or garbled files, full disks.

Files are forged with a *valid* checksum where the point is that the checksum alone
proves nothing; hypothesis garbles, truncates and re-columns real cache files on disk:
every read is a frame or a `DataError`, and a refresh that fails leaves the file
byte-identical.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cache import RecordingFetcher, spy

import data.cache as cache_mod
from data.cache import META_KEY, Cache, frame_checksum, update
from data.errors import DataError
from data.sources import RequestError

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine
    database=None,  # nothing written beside the tests
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256: what a test compares before/after."""
    return {str(p.relative_to(root)): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def store(tmp_path) -> Cache:
    return Cache(tmp_path / "cache")


def forge(path: Path, frame: pd.DataFrame, **meta: object) -> None:
    """Write ``frame`` as a cache file whose metadata (and checksum) match it exactly."""
    index = pd.DatetimeIndex(frame.index).tz_convert("UTC").as_unit("ns").rename("date")
    frame = frame.set_axis(index).astype("float64")
    entry = {
        "source": "yahoo",
        "exchange": None,
        "symbol": "SPY",
        "interval": "1d",
        "kind": "prices",
        "basis": "raw+tr",
        "fetched_at": "2020-03-28T00:00:00+00:00",
        "rows": len(frame),
        "first": index[0].isoformat() if len(index) else "",
        "last": index[-1].isoformat() if len(index) else "",
        "sha256": frame_checksum(frame),
        "format": 1,
        **meta,
    }
    table = pa.Table.from_pandas(frame, preserve_index=True)
    import json

    schema_meta = dict(table.schema.metadata or {})
    schema_meta[META_KEY] = json.dumps(entry).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(schema_meta), path)


# --- 2. every path stays under the cache root -----------------------------------------


def test_fred_interval_cannot_leave_the_cache(tmp_path):
    store = Cache(tmp_path / "a" / "b" / "cache")
    outside = tree(tmp_path)
    with pytest.raises(RequestError, match="unknown interval '../../x' for source fred"):
        update(
            "WALCL",
            "fred",
            "../../x",
            cache=store,
            fetcher=lambda *a, **k: pd.DataFrame(
                {"value": [1.0]}, index=pd.DatetimeIndex(["2020-03-04"], tz="UTC", name="date")
            ),
        )
    assert tree(tmp_path) == outside  # nothing written anywhere
    with pytest.raises(RequestError):
        store.path("WALCL", "fred", "../../x")


@pytest.mark.parametrize("exchange", ["../../evil", "bin/ance", "..", "Bin ance", ""])
def test_exchange_ids_cannot_name_folders_outside(store, exchange):
    with pytest.raises(RequestError, match="exchange id"):
        store.path("BTC/USDT", "ccxt", exchange=exchange or "/")


@pytest.mark.parametrize("symbol", ["../../x", "..", ".", "a/b\\c", "%2e%2e", ".hidden", "x" * 60])
def test_symbols_are_encoded_into_one_file_under_the_root(store, symbol):
    path = store.path(symbol, "yahoo")
    assert path.parent == store.root / "yahoo" / "1d"
    assert not path.name.startswith(".")
    frame = spy()
    store.write(frame, symbol, "yahoo")
    assert [p for p in store.root.rglob("*.parquet")] == [path]
    assert store.read(symbol, "yahoo").equals(store.read(symbol, "yahoo"))
    assert [e.symbol for e in store.list()] == [symbol]


@pytest.mark.parametrize("symbol", ["", "   ", "SP\x00Y", "a\nb", "x" * 300])
def test_empty_control_or_huge_symbols_are_refused(store, symbol):
    with pytest.raises(RequestError):
        store.path(symbol, "yahoo")


def test_a_symlink_out_of_the_cache_is_refused(tmp_path):
    store = Cache(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "cache" / "yahoo").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RequestError, match="would leave the cache folder"):
        store.write(spy(), "SPY", "yahoo")
    assert list((tmp_path / "elsewhere").iterdir()) == []


# --- 6. file modes follow the umask ----------------------------------------------------


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_cache_files_respect_the_umask(store, umask, mode):
    old = os.umask(umask)
    try:
        store.write(spy().iloc[:5], "SPY", "yahoo")
        first = store.path("SPY", "yahoo").stat().st_mode & 0o777
        store.write(spy(), "SPY", "yahoo")  # a replacement gets the same rule
        second = store.path("SPY", "yahoo").stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert first == second == mode


# --- 7. a checksum-valid file is still validated ---------------------------------------


def test_negative_price_with_a_valid_checksum_is_not_served(store):
    frame = spy()
    frame.loc[frame.index[3], "low"] = -1.0
    forge(store.path("SPY", "yahoo"), frame)
    with pytest.raises(DataError, match="cache file is corrupt: non-positive price") as err:
        store.read("SPY", "yahoo")
    assert "delete" in err.value.hint and "flowbt data update SPY --source yahoo" in err.value.hint


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.rename(columns={"close": "Close"}),
        lambda f: f.drop(columns=["high"]),
        lambda f: f.assign(extra=1.0),
        lambda f: f[["close"]].rename(columns={"close": "value"}),
        lambda f: f.assign(close=np.inf),
        lambda f: f.iloc[::-1],
        lambda f: f.assign(high=f["low"] - 1),
    ],
    ids=["renamed", "missing", "extra", "series-as-prices", "inf", "unsorted", "high<low"],
)
def test_forged_content_is_a_corrupt_file(store, change):
    forge(store.path("SPY", "yahoo"), change(spy()))
    with pytest.raises(DataError, match="cache file is corrupt"):
        store.read("SPY", "yahoo")


def test_a_file_copied_to_another_symbol_is_not_served_as_it(store):
    store.write(spy(), "SPY", "yahoo")
    store.path("QQQ", "yahoo").write_bytes(store.path("SPY", "yahoo").read_bytes())
    with pytest.raises(DataError, match="it holds SPY"):
        store.read("QQQ", "yahoo")


def test_series_file_with_a_price_column_is_corrupt(store):
    frame = pd.DataFrame({"close": [1.0, 2.0]}, index=spy().index[:2])
    forge(store.path("WALCL", "fred"), frame, source="fred", symbol="WALCL", kind="series")
    with pytest.raises(DataError, match="a series has one column 'value'"):
        store.read("WALCL", "fred")


def test_update_over_a_forged_file_changes_nothing(store):
    frame = spy()
    frame.loc[frame.index[2], "close"] = 0.0
    path = store.path("SPY", "yahoo")
    forge(path, frame)
    before = digest(path)
    with pytest.raises(DataError, match="corrupt"):
        update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher())
    assert digest(path) == before


# --- 8. full disks and failing renames are one-line errors ------------------------------


_FDOPEN = os.fdopen


class FullDisk:
    """A file handle on a disk with ``room`` bytes left."""

    def __init__(self, fd: int, room: int) -> None:
        self._file = _FDOPEN(fd, "wb")
        self.room = room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


@pytest.mark.parametrize("room", [0, 100, 2000])
def test_full_disk_is_a_data_error_and_keeps_the_cache(store, monkeypatch, room):
    store.write(spy().iloc[:5], "SPY", "yahoo")
    path = store.path("SPY", "yahoo")
    before = tree(store.root)
    monkeypatch.setattr(cache_mod.os, "fdopen", lambda fd, mode="r", *a, **k: FullDisk(fd, room))
    with pytest.raises(DataError) as err:
        update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher())
    monkeypatch.undo()
    assert "No space left on device" in err.value.what
    assert err.value.file == str(path)
    assert "--cache-dir DIR" in err.value.hint and "FLOWBT_CACHE_DIR=DIR" in err.value.hint
    assert tree(store.root) == before  # old file intact, no temp file left
    assert err.value.__cause__ is None and err.value.__context__ is None


def test_failing_rename_is_a_data_error_and_keeps_the_cache(store, monkeypatch):
    store.write(spy().iloc[:5], "SPY", "yahoo")
    before = tree(store.root)

    def refuse(src, dst):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, None, dst)

    monkeypatch.setattr(cache_mod.os, "replace", refuse)
    with pytest.raises(DataError, match="cannot write the cache file: Invalid cross-device"):
        store.write(spy(), "SPY", "yahoo")
    assert tree(store.root) == before


def test_unwritable_cache_folder_is_a_data_error(store, monkeypatch):
    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(DataError, match="Permission denied"):
        store.write(spy(), "SPY", "yahoo")


# --- 11. fuzz: files garbled on disk ----------------------------------------------------


def _garble(raw: bytes, data: st.DataObject) -> bytes:
    kind = data.draw(st.sampled_from(["flip", "truncate", "append", "zero", "splice"]))
    if kind == "truncate":
        return raw[: data.draw(st.integers(0, len(raw) - 1))]
    if kind == "append":
        return raw + data.draw(st.binary(min_size=1, max_size=64))
    if kind == "splice":
        at = data.draw(st.integers(0, len(raw)))
        return raw[:at] + data.draw(st.binary(max_size=32)) + raw[at:]
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(out) - 1))
        out[at] = 0 if kind == "zero" else data.draw(st.integers(0, 255))
    return bytes(out)


@FUZZ
@given(data=st.data())
def test_fuzz_garbled_cache_files(data):
    with tempfile.TemporaryDirectory() as root:
        store = Cache(root)
        store.write(spy().iloc[:6], "SPY", "yahoo", basis="raw+tr")
        path = store.path("SPY", "yahoo")
        path.write_bytes(_garble(path.read_bytes(), data))
        before = digest(path)
        try:
            frame = store.read("SPY", "yahoo")
        except DataError as exc:
            assert exc.file == str(path)
        else:  # the bytes still decode to what was written: the same bars
            pd.testing.assert_frame_equal(frame, spy().iloc[:6], check_freq=False)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with contextlib.suppress(DataError):
                update("SPY", "yahoo", cache=store, fetcher=RecordingFetcher(error=OSError("down")))
        assert digest(path) == before  # a failed refresh never touches the file
        assert [p.name for p in path.parent.iterdir()] == [path.name]


_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e308, 1e-300, -0.0]),
)


@FUZZ
@given(data=st.data())
def test_fuzz_forged_cache_content(data):
    """Content changed and the checksum recomputed: only validation can catch it."""
    frame = spy().iloc[:6].copy()
    kind = data.draw(st.sampled_from(["cell", "drop", "rename", "add", "swap", "dup", "nat"]))
    if kind == "cell":
        col = data.draw(st.sampled_from(list(frame.columns)))
        frame.iloc[data.draw(st.integers(0, 5)), frame.columns.get_loc(col)] = data.draw(_CELLS)
    elif kind == "drop":
        frame = frame.drop(columns=data.draw(st.sampled_from(list(frame.columns))))
    elif kind == "rename":
        col = data.draw(st.sampled_from(list(frame.columns)))
        frame = frame.rename(columns={col: data.draw(st.sampled_from(["Close", "value", "x"]))})
    elif kind == "add":
        frame = frame.assign(**{data.draw(st.sampled_from(["value", "extra"])): 1.0})
    elif kind == "swap":
        i, j = data.draw(st.integers(0, 5)), data.draw(st.integers(0, 5))
        order = list(range(6))
        order[i], order[j] = order[j], order[i]
        frame = frame.iloc[order]
    elif kind == "dup":
        frame.index = frame.index[[0, 0, 2, 3, 4, 5]]
    else:
        frame.index = pd.DatetimeIndex([frame.index[0], pd.NaT, *frame.index[2:]], name="date")
    with tempfile.TemporaryDirectory() as root:
        store = Cache(root)
        path = store.path("SPY", "yahoo")
        try:
            forge(path, frame)
        except Exception:  # pyarrow cannot even write it: nothing to read
            return
        before = digest(path)
        try:
            out = store.read("SPY", "yahoo")
        except DataError as exc:
            assert "cache file is corrupt" in exc.what
        else:
            values = out[["open", "high", "low", "close"]].to_numpy()
            assert np.isfinite(values).all() and (values > 0).all()
            assert out.index.is_monotonic_increasing and out.index.is_unique
            assert (out["high"] >= out["low"]).all()
        assert digest(path) == before
