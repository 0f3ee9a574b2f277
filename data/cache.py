"""Local parquet cache of online data, one file per (source, symbol, interval).

Layout: ``<root>/<source>/<interval>/<quoted symbol>.parquet`` with ``<root>`` =
``$FLOWBT_CACHE_DIR`` or ``~/.cache/flowbt`` and ``<source>`` = ``yahoo``, ``fred`` or
``ccxt-<exchange>``. Each file carries its own metadata (parquet key-value ``flowbt``):
source, symbol, interval, fetched_at (UTC ISO), rows, first/last bar and the sha256 of the
data, checked on every read, and the content is validated on read exactly as before a
write (columns, order, prices). Files are replaced atomically (temp file in the same folder
+ ``os.replace``): a reader sees the old file or the new one, never half of one. New files
get the permissions of the umask (``0o666 & ~umask``, like any file the user creates), so
a shared cache stays readable. Every path is confined to ``<root>``: the source and
interval come from fixed lists, the exchange id is checked and the symbol is %-quoted.
A disk or permission failure while writing is a `DataError` naming the file.

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
import secrets
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
from data.sources import (
    CACHE_ENV_VAR,
    ONLINE_SOURCES,
    RequestError,
    as_utc,
    check_exchange_id,
    check_interval,
    default_cache_dir,
    describe_failure,
    redact,
)
from data.sources.fetchers import get_fetcher
from data.validate import check_order, check_prices

ENV_VAR = CACHE_ENV_VAR
META_KEY = b"flowbt"
FORMAT_VERSION = 1
_BASIS = {"yahoo": "raw+tr", "ccxt": "raw", "fred": None}
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
_REQUIRED_PRICES = ("open", "high", "low", "close")
_MAX_NAME = 200  # bytes of a quoted symbol: file names stop at 255


def source_key(source: str, exchange: str | None = None) -> str:
    """Folder name of a source: ``yahoo``, ``fred``, ``ccxt-binance``."""
    if source not in ONLINE_SOURCES:
        raise DataError(
            f"unknown online source {source!r}", hint=f"use one of {', '.join(ONLINE_SOURCES)}"
        )
    if source == "ccxt":
        return f"ccxt-{check_exchange_id((exchange or 'binance').lower())}"
    return source


def _file_name(symbol: str) -> str:
    """``<quoted symbol>.parquet``: no separator, no ``..``, no hidden or empty name."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise RequestError("empty symbol", hint="name a symbol, e.g. SPY, BTC/USDT or WALCL")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in symbol):
        raise RequestError(
            f"symbol {symbol!r} contains control characters",
            symbol=repr(symbol),
            hint="type the symbol as the provider lists it, e.g. SPY or BTC/USDT",
        )
    name = quote(symbol, safe="")  # '/', '\\' and '%' are encoded; letters stay readable
    if name.startswith("."):
        name = "%2E" + name[1:]  # never a hidden file, never '.' or '..'
    if len(name.encode()) > _MAX_NAME:
        raise RequestError(
            f"symbol is too long ({len(symbol)} characters)",
            symbol=symbol[:40] + "...",
            hint="type the symbol as the provider lists it, e.g. SPY or BTC/USDT",
        )
    return f"{name}.parquet"


def _inside(path: Path, root: Path) -> bool:
    """Is ``path`` under ``root``, both lexically and once symlinks are resolved?"""
    lexical = Path(os.path.normpath(os.path.abspath(path)))
    if not lexical.is_relative_to(os.path.normpath(os.path.abspath(root))):
        return False
    return path.resolve().is_relative_to(root.resolve())


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


def _write_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to a temp file beside ``path``, fsync, ``os.replace`` it into place.

    The temp file is created with mode ``0o666`` so the kernel applies the umask, as for
    any file the user creates (``tempfile.mkstemp`` would make it ``0o600``, and a cache
    shared by a group would become unreadable). On any failure the temp file is removed
    and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.stem}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
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


def check_frame(frame: pd.DataFrame, *, kind: str, label: str, symbol: str) -> pd.DataFrame:
    """The content rules of a cached frame, the same before a write and after a read.

    ``kind`` ``series``: exactly one finite ``value`` column; ``prices``: open, high, low,
    close (and only flowbt's price columns), finite, validated by `check_prices` (strict).
    Timestamps must be set, sorted and unique. Raises `DataError`.
    """
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.hasnans:
        raise DataError("timestamps are missing or not dates", file=label, symbol=symbol)
    if frame.empty:
        raise DataError("no rows", file=label, symbol=symbol)
    columns = [str(c) for c in frame.columns]
    if kind == "series":
        if columns != ["value"]:
            raise DataError(
                f"a series has one column 'value', not {', '.join(columns) or 'none'}",
                file=label,
                symbol=symbol,
            )
    else:
        missing = [c for c in _REQUIRED_PRICES if c not in columns]
        extra = [c for c in columns if c not in PRICE_COLUMNS]
        if missing or extra or len(set(columns)) != len(columns):
            raise DataError(
                f"price columns are {', '.join(columns) or 'none'}, expected "
                f"{', '.join(PRICE_COLUMNS)}",
                file=label,
                symbol=symbol,
            )
    check_order(index, file=label, symbol=symbol)
    values = frame.to_numpy(dtype="float64")
    # prices may hold NaN where check_prices has its own rule; inf never, in any column
    bad = (~np.isfinite(values) if kind == "series" else np.isinf(values)).any(axis=1)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"non-finite value on {index[pos].isoformat()}", file=label, symbol=symbol, row=pos + 1
        )
    if kind != "series":
        checked, _ = check_prices(frame, file=label, symbol=symbol, first_row=1)
        return checked
    return frame


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
        """Where the file of (source, symbol, interval) lives (it may not exist).

        The interval must be one the source serves and the exchange a ccxt id
        (`RequestError` otherwise); the result is checked to lie under the cache root.
        """
        folder = source_key(source, exchange)
        check_interval(interval, source=source)
        path = self.root / folder / interval / _file_name(symbol)
        if not _inside(path, self.root):
            raise RequestError(
                f"cache path {path} would leave the cache folder {self.root}",
                file=path,
                symbol=symbol,
                hint=f"remove the symlink under {self.root}, or use another cache folder "
                f"with --cache-dir DIR or {ENV_VAR}=DIR",
            )
        return path

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
        except PermissionError:
            raise DataError(
                "cache file is not readable (permission denied)",
                file=path,
                symbol=symbol,
                hint=f"ask its owner to run chmod a+r {path}, or use your own cache "
                f"with --cache-dir DIR or {ENV_VAR}=DIR",
            ) from None
        except Exception as exc:
            why = f"unreadable ({type(exc).__name__}: {str(exc)[:120]})"
            raise self._corrupt(path, symbol, source, exchange, why) from None
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
        if entry.symbol != symbol or entry.interval != interval or entry.source != source:
            raise self._corrupt(
                path,
                symbol,
                source,
                exchange,
                f"it holds {entry.symbol} ({entry.source}, {entry.interval})",
            )
        try:
            frame = _normalise(pq.read_table(path).to_pandas())
            same = frame_checksum(frame) == entry.sha256 and len(frame) == entry.rows
        except Exception as exc:
            why = f"unreadable ({type(exc).__name__})"
            raise self._corrupt(path, symbol, source, exchange, why) from None
        if not same:
            raise self._corrupt(path, symbol, source, exchange, "checksum mismatch")
        try:  # the checksum proves the bytes are what was written, not that they are sane
            check_frame(frame, kind=entry.kind, label=str(path), symbol=symbol)
        except DataError as exc:
            raise self._corrupt(path, symbol, source, exchange, exc.what) from None
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
        try:  # the same rules as on read: a file flowbt writes is one it will serve
            check_frame(data, kind=entry.kind, label=str(path), symbol=symbol)
        except DataError as exc:
            raise DataError(
                f"refusing to cache bad data: {exc.what}",
                file=path,
                symbol=symbol,
                hint=exc.hint or "the cache was left unchanged",
            ) from None
        table = pa.Table.from_pandas(data, preserve_index=True)
        meta = dict(table.schema.metadata or {})
        meta[META_KEY] = entry.model_dump_json(exclude={"path"}).encode()
        table = table.replace_schema_metadata(meta)
        failure: OSError | None = None
        try:
            _write_atomically(table, path)
        except OSError as exc:  # full disk, read-only mount, permissions, failed rename
            failure = exc
        if failure is not None:
            raise DataError(
                f"cannot write the cache file: {failure.strerror or describe_failure(failure)}"
                " (the cached copy, if any, is unchanged)",
                file=path,
                symbol=symbol,
                hint=f"free disk space or fix the permissions of {self.root}, or cache "
                f"elsewhere with --cache-dir DIR or {ENV_VAR}=DIR",
            )
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
    """Check the merged frame before it may replace the cache file (see `check_frame`)."""
    kind = "series" if list(frame.columns) == ["value"] else "prices"
    try:
        if kind == "prices" and repair and not frame.empty:
            # repair first (widen high/low, drop empty bars), then the strict rules
            frame, _ = check_prices(frame, file=label, symbol=symbol, repair=True)
        return check_frame(frame, kind=kind, label=label, symbol=symbol)
    except DataError as exc:
        raise DataError(
            f"{label} sent bad data: {exc.what}",
            file=label,
            symbol=symbol,
            hint="the cache was left unchanged" + (f"; {exc.hint}" if exc.hint else ""),
        ) from None


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
    store.path(symbol, source, interval, exchange=ex)  # source, interval, exchange, symbol
    fetch = fetcher or get_fetcher(source, exchange=exchange, cache_root=store.root)
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
        except RequestError:  # a wrong interval/exchange: the cache cannot help
            raise
        except Exception as exc:  # any transport/parse failure: keep the cache
            # a provider library's own exception text may quote a key: redact either way
            why = redact(exc.what) if isinstance(exc, DataError) else describe_failure(exc)
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
                hint=f"check the symbol and the network, then run "
                f"{_update_hint(symbol, source, ex)}",
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
