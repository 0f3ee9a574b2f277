"""Local parquet cache of online data, one file per (source, symbol, interval).

Layout: ``<root>/<source>/<interval>/<quoted symbol>.parquet`` with ``<root>`` =
``$FLOWBT_CACHE_DIR`` or ``~/.cache/flowbt`` and ``<source>`` = ``yahoo``, ``fred`` or
``ccxt-<exchange>``. Each file carries its own metadata (parquet key-value ``flowbt``):
source, symbol, interval, fetched_at (UTC ISO), rows, first/last bar and the sha256 of the
data, checked on every read. Files are replaced atomically (temp file in the same folder +
``os.replace``): a reader sees the old file or the new one, never half of one.

`update` refreshes incrementally (only from the last cached bar on) and never loses what
was on disk: a failed or empty fetch falls back to the cache with a `StaleDataWarning`,
bad data raises before anything is written. Timestamps are bar stamps (see
`data.sources`); when a bar became *known* is the job of calendars/publication lags.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from data.errors import DataError, StaleDataWarning
from data.sources import ONLINE_SOURCES, as_utc
from data.sources.fetchers import get_fetcher
from data.validate import check_order, check_prices

ENV_VAR = "FLOWBT_CACHE_DIR"
META_KEY = b"flowbt"
FORMAT_VERSION = 1
_BASIS = {"yahoo": "raw+tr", "ccxt": "raw", "fred": None}


def default_cache_dir() -> Path:
    """``$FLOWBT_CACHE_DIR`` when set, else ``~/.cache/flowbt``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "flowbt"


def source_key(source: str, exchange: str | None = None) -> str:
    """Folder name of a source: ``yahoo``, ``fred``, ``ccxt-binance``."""
    if source not in ONLINE_SOURCES:
        raise DataError(
            f"unknown online source {source!r}", hint=f"use one of {', '.join(ONLINE_SOURCES)}"
        )
    if source == "ccxt":
        return f"ccxt-{(exchange or 'binance').lower()}"
    return source


def _update_hint(symbol: str, source: str, exchange: str | None) -> str:
    extra = f" --exchange {exchange}" if source == "ccxt" and exchange else ""
    return f"flowbt data update {symbol} --source {source}{extra}"


def frame_checksum(frame: pd.DataFrame) -> str:
    """sha256 of a frame's content: column names, int64 ns timestamps, float64 values."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(np.ascontiguousarray(frame.index.asi8, dtype="<i8").tobytes())
    for col in frame.columns:
        digest.update(np.ascontiguousarray(frame[col].to_numpy(dtype="float64"), "<f8").tobytes())
    return digest.hexdigest()


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """UTC ns index named ``date``, float64 columns, no attrs: the shape that is hashed."""
    out = frame.astype("float64")
    index = pd.DatetimeIndex(out.index)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    out.index = index.as_unit("ns").rename("date")
    out.attrs = {}
    return out


class CacheEntry(BaseModel):
    """What the cache holds for one (source, symbol, interval): the file's own metadata."""

    source: str
    exchange: str | None = None
    symbol: str
    interval: str
    kind: str  # "prices" (OHLCV) or "series" (one ``value`` column)
    basis: str | None = None
    fetched_at: str
    rows: int
    first: str
    last: str
    sha256: str
    path: str
    format: int = FORMAT_VERSION


class Cache:
    """The parquet cache under ``root`` (default `default_cache_dir`)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    def path(
        self, symbol: str, source: str, interval: str = "1d", *, exchange: str | None = None
    ) -> Path:
        """Where the file of (source, symbol, interval) lives (it may not exist)."""
        return (
            self.root
            / source_key(source, exchange)
            / interval
            / f"{quote(symbol, safe='')}.parquet"
        )

    def entry(
        self, symbol: str, source: str, interval: str = "1d", *, exchange: str | None = None
    ) -> CacheEntry | None:
        """Metadata of the cached file, ``None`` when nothing is cached (no data read)."""
        path = self.path(symbol, source, interval, exchange=exchange)
        if not path.exists():
            return None
        return self._entry_at(path, symbol=symbol, source=source, exchange=exchange)

    def _entry_at(
        self, path: Path, *, symbol: str, source: str, exchange: str | None
    ) -> CacheEntry:
        try:
            meta = pq.read_schema(path).metadata or {}
            entry = CacheEntry(**json.loads(meta[META_KEY]), path=str(path))
        except Exception as exc:
            raise self._corrupt(path, symbol, source, exchange, f"unreadable ({exc})") from None
        return entry

    def _corrupt(
        self, path: Path, symbol: str, source: str, exchange: str | None, why: str
    ) -> DataError:
        return DataError(
            f"cache file is corrupt: {why}",
            file=path,
            symbol=symbol,
            hint=f"delete {path} and run {_update_hint(symbol, source, exchange)}",
        )

    def read(
        self, symbol: str, source: str, interval: str = "1d", *, exchange: str | None = None
    ) -> pd.DataFrame:
        """The cached frame, checksum verified; DataError when absent or corrupt."""
        path = self.path(symbol, source, interval, exchange=exchange)
        if not path.exists():
            raise DataError(
                f"nothing cached for {symbol} from {source_key(source, exchange)} ({interval})",
                file=path,
                symbol=symbol,
                hint=f"run {_update_hint(symbol, source, exchange)}",
            )
        entry = self._entry_at(path, symbol=symbol, source=source, exchange=exchange)
        try:
            frame = _normalise(pq.read_table(path).to_pandas())
        except Exception as exc:
            raise self._corrupt(path, symbol, source, exchange, f"unreadable ({exc})") from None
        if frame_checksum(frame) != entry.sha256 or len(frame) != entry.rows:
            raise self._corrupt(path, symbol, source, exchange, "checksum mismatch")
        frame.attrs = {
            "source": source_key(source, exchange),
            "basis": entry.basis,
            "fetched_at": entry.fetched_at,
        }
        return frame

    def write(
        self,
        frame: pd.DataFrame,
        symbol: str,
        source: str,
        interval: str = "1d",
        *,
        exchange: str | None = None,
        basis: str | None = None,
        fetched_at: datetime | None = None,
    ) -> CacheEntry:
        """Write ``frame`` atomically (temp file + ``os.replace``) with its metadata."""
        if frame.empty:
            raise DataError("refusing to cache an empty frame", symbol=symbol)
        data = _normalise(frame)
        path = self.path(symbol, source, interval, exchange=exchange)
        path.parent.mkdir(parents=True, exist_ok=True)
        when = (fetched_at or datetime.now(UTC)).astimezone(UTC)
        entry = CacheEntry(
            source=source,
            exchange=exchange if source == "ccxt" else None,
            symbol=symbol,
            interval=interval,
            kind="series" if list(data.columns) == ["value"] else "prices",
            basis=basis,
            fetched_at=when.isoformat(timespec="seconds"),
            rows=len(data),
            first=data.index[0].isoformat(),
            last=data.index[-1].isoformat(),
            sha256=frame_checksum(data),
            path=str(path),
        )
        table = pa.Table.from_pandas(data, preserve_index=True)
        meta = dict(table.schema.metadata or {})
        meta[META_KEY] = entry.model_dump_json(exclude={"path"}).encode()
        table = table.replace_schema_metadata(meta)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(table, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return entry

    def list(self) -> list[CacheEntry]:
        """Every cached file's metadata, sorted by source, interval, symbol.

        An unreadable file is listed with ``rows=0`` and ``first="corrupt"`` rather than
        hiding it (``flowbt data list`` should show it).
        """
        out: list[CacheEntry] = []
        if not self.root.exists():
            return out
        for path in sorted(self.root.glob("*/*/*.parquet")):
            symbol = unquote(path.stem)
            try:
                out.append(self._entry_at(path, symbol=symbol, source="", exchange=None))
            except DataError:
                out.append(
                    CacheEntry(
                        source=path.parent.parent.name,
                        symbol=symbol,
                        interval=path.parent.name,
                        kind="unknown",
                        fetched_at="",
                        rows=0,
                        first="corrupt",
                        last="corrupt",
                        sha256="",
                        path=str(path),
                    )
                )
        return out


def _as_cache(cache: Cache | str | Path | None) -> Cache:
    return cache if isinstance(cache, Cache) else Cache(cache)


def read_cached(
    symbol: str,
    source: str,
    interval: str = "1d",
    *,
    exchange: str | None = None,
    cache: Cache | str | Path | None = None,
) -> pd.DataFrame:
    """Read a cached frame (DataError with the ``flowbt data update`` hint when absent)."""
    return _as_cache(cache).read(symbol, source, interval, exchange=exchange)


def list_cached(cache: Cache | str | Path | None = None) -> list[CacheEntry]:
    """Metadata of every cached (source, symbol, interval)."""
    return _as_cache(cache).list()


def _validate(frame: pd.DataFrame, *, label: str, symbol: str, repair: bool) -> pd.DataFrame:
    """Check the merged frame before it may replace the cache file."""
    try:
        if list(frame.columns) == ["value"]:
            if frame.empty:
                raise DataError("no observations", file=label, symbol=symbol)
            check_order(frame.index, file=label, symbol=symbol)
            if not np.isfinite(frame["value"].to_numpy(dtype="float64")).all():
                raise DataError("non-finite value", file=label, symbol=symbol)
            return frame
        checked, _ = check_prices(frame, file=label, symbol=symbol, repair=repair)
        return checked
    except DataError as exc:
        raise DataError(
            f"{label} sent bad data: {exc.what}",
            file=label,
            symbol=symbol,
            hint="the cache was left unchanged" + (f"; {exc.hint}" if exc.hint else ""),
        ) from exc


def _rebased(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """Did the provider re-base history (split or dividend) since the cache was written?

    Checked on the overlapping (re-fetched) bar: its open is fixed once the bar starts,
    and Yahoo's adj_close/close factor only changes when a new dividend/split re-scales
    the whole adjusted history. Either change means the cached history is stale.
    """
    both = old.index.intersection(new.index)
    if len(both) == 0 or "open" not in old.columns:
        return False
    t = both[-1]
    if not np.isclose(old.at[t, "open"], new.at[t, "open"], rtol=1e-9, atol=0):
        return True
    if "adj_close" in old.columns and "adj_close" in new.columns:
        f_old = old.at[t, "adj_close"] / old.at[t, "close"]
        f_new = new.at[t, "adj_close"] / new.at[t, "close"]
        return not np.isclose(f_old, f_new, rtol=1e-6, atol=0)
    return False


def _merge(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Cached bars then fetched ones; on a duplicated stamp the newest fetch wins."""
    merged = new if old is None else pd.concat([old, new[old.columns.intersection(new.columns)]])
    merged = merged[~merged.index.duplicated(keep="last")].sort_index()
    merged.attrs = {}
    return merged


def update(
    symbol: str,
    source: str,
    interval: str = "1d",
    start: str | pd.Timestamp | None = None,
    *,
    end: str | pd.Timestamp | None = None,
    cache: Cache | str | Path | None = None,
    fetcher: Callable[..., pd.DataFrame] | None = None,
    exchange: str = "binance",
    repair: bool = False,
) -> pd.DataFrame:
    """Refresh the cache of (source, symbol, interval) and return the up-to-date frame.

    Fetches only from the last cached bar on (that bar again, as it may have been
    partial), or from ``start`` when nothing is cached or ``start`` is before the cache.
    If the re-fetched bar shows the provider re-based history (split/dividend), fetches
    again from the first cached bar and replaces the history. The merged frame is
    validated before the atomic write. A fetch that raises or sends nothing falls back to
    the cache with a `StaleDataWarning` naming symbol, source and last cached bar; with no
    cache that is a `DataError`, never an empty frame. ``fetcher`` replaces the network
    (``fetcher(symbol, interval=, start=, end=)``, see `data.sources.Fetcher`).
    """
    store = _as_cache(cache)
    ex = exchange if source == "ccxt" else None
    label = f"ccxt {exchange}" if source == "ccxt" else source
    fetch = fetcher or get_fetcher(source, exchange=exchange)
    start_ts, end_ts = as_utc(start), as_utc(end)

    old = (
        store.read(symbol, source, interval, exchange=ex)
        if store.entry(symbol, source, interval, exchange=ex)
        else None
    )
    if old is not None and (start_ts is None or start_ts >= old.index[0]):
        since = old.index[-1]
    else:
        since = start_ts

    def attempt(begin: pd.Timestamp | None) -> tuple[pd.DataFrame | None, str]:
        try:
            got = fetch(symbol, interval=interval, start=begin, end=end_ts)
        except Exception as exc:  # any transport/parse failure: keep the cache
            why = exc.what if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
            return None, why
        if got is None or len(got) == 0:
            return None, "the source sent no bars"
        return got, ""

    new, why = attempt(since)
    if new is not None and old is not None and since == old.index[-1] and _rebased(old, new):
        new, why = attempt(old.index[0] if start_ts is None else min(start_ts, old.index[0]))
        old = None if new is not None else old

    if new is None:
        if old is None:
            raise DataError(
                f"no data for {symbol} from {label} and nothing cached: {why}",
                file=label,
                symbol=symbol,
                hint="check the symbol and the network, then run "
                + _update_hint(symbol, source, ex),
            )
        last = old.index[-1]
        stamp = last.strftime("%Y-%m-%d") if last == last.normalize() else last.isoformat()
        warnings.warn(
            f"{symbol} ({label}, {interval}) is stale: refresh failed ({why}); using the "
            f"cached copy, last bar {stamp}, fetched {old.attrs.get('fetched_at', '?')}",
            StaleDataWarning,
            stacklevel=2,
        )
        old.attrs["stale"] = True
        return old

    merged = _validate(_merge(old, new), label=label, symbol=symbol, repair=repair)
    basis = _BASIS.get(source)
    store.write(merged, symbol, source, interval, exchange=ex, basis=basis)
    return store.read(symbol, source, interval, exchange=ex)


__all__ = [
    "ENV_VAR",
    "Cache",
    "CacheEntry",
    "default_cache_dir",
    "frame_checksum",
    "list_cached",
    "read_cached",
    "source_key",
    "update",
]
