"""Online sources behind `data.load`: the local parquet cache, refreshed on request.

Default runs never touch the network: ``load(..., source="yahoo")`` reads the
cache and says how to fill it when empty. ``refresh=True`` (or ``flowbt data
update``) fetches only what is new; when the network fails the cached copy is
used with a `StaleDataWarning` naming what is stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, cast

import pandas as pd

from data.cache import Cache, CacheEntry, update
from data.calendars import calendar_for
from data.market import MarketData, SeriesInfo
from data.publication import known_at, lag_for
from data.sources import ONLINE_SOURCES


def _info(entry: CacheEntry, frame: pd.DataFrame) -> SeriesInfo:
    is_series = entry.kind == "series"
    label = f"ccxt:{entry.exchange}" if entry.source == "ccxt" else entry.source
    return SeriesInfo(
        name=entry.symbol,
        kind="macro" if is_series else "price",
        source=label,
        origin=f"{label} via the local cache {entry.path}",
        basis=None if is_series else entry.basis,
        calendar=None
        if is_series
        else ("24/7" if entry.source == "ccxt" else calendar_for(entry.symbol)),
        lag=lag_for(entry.symbol).describe() if is_series else None,
        rows=len(frame),
        start=str(frame.index[0].date()),
        end=str(frame.index[-1].date()),
        fetched_at=entry.fetched_at,
        sha256=entry.sha256,
    )


def load_online(
    names: list[str],
    *,
    source: str,
    interval: str = "1d",
    exchange: str = "binance",
    refresh: bool = False,
    cache_dir: str | Path | None = None,
) -> MarketData:
    """Cached frames of ``names`` from ``source`` (refreshed first when asked)."""
    cache = Cache(cache_dir)
    ex = exchange if source == "ccxt" else None
    prices, macro, info = {}, {}, {}
    for name in names:
        if refresh:
            frame = update(name, source, interval, cache=cache, exchange=exchange)
        else:
            frame = cache.read(name, source, interval, exchange=ex)
        # read/update above raise when nothing is cached, so the entry exists
        entry = cast(CacheEntry, cache.entry(name, source, interval, exchange=ex))
        info[name] = _info(entry, frame)
        if source == "fred":
            series = frame[["value"]].copy()
            series["known_at"] = known_at(series.index, lag_for(name))
            macro[name] = series
        else:
            prices[name] = frame
    return MarketData(prices, macro, {}, info)


class Updated(NamedTuple):
    """What `update_many` did for one symbol: its summary line, and whether the refresh
    failed so that the (older) cached copy was served instead."""

    symbol: str
    line: str
    stale: bool


def update_many(
    symbols: list[str],
    *,
    source: str,
    exchange: str = "binance",
    interval: str = "1d",
    start: str | None = None,
    cache_dir: str | Path | None = None,
    repair: bool = False,
) -> Iterator[Updated]:
    """Refresh each symbol's cache entry; yield one `Updated` (summary line) per symbol.

    The source, interval and exchange are checked before the first request: a wrong one
    is a `DataError` naming the valid choices, not a network failure.
    """
    from data.errors import DataError

    if source not in ONLINE_SOURCES:
        raise DataError(
            f"cannot update from source {source!r}", hint=f"use one of {', '.join(ONLINE_SOURCES)}"
        )
    cache = Cache(cache_dir)
    ex = exchange if source == "ccxt" else None
    for symbol in symbols:
        cache.path(symbol, source, interval, exchange=ex)  # all arguments, before any fetch
    for symbol in symbols:
        frame = update(
            symbol, source, interval, start, cache=cache, exchange=exchange, repair=repair
        )
        entry = cast(CacheEntry, cache.entry(symbol, source, interval, exchange=ex))
        stale = bool(frame.attrs.get("stale"))
        note = "STALE (refresh failed), served" if stale else "cached at"
        yield Updated(
            symbol,
            f"{symbol}: {len(frame)} rows {frame.index[0].date()}..{frame.index[-1].date()} "
            f"{note} {entry.path} (fetched {entry.fetched_at})",
            stale,
        )


def cache_summary(cache_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per cache entry: source, symbol, interval, range, rows, fetched_at."""
    rows = [
        {
            "name": e.symbol,
            "source": f"ccxt:{e.exchange}" if e.source == "ccxt" else e.source,
            "interval": e.interval,
            "start": e.first[:10],
            "end": e.last[:10],
            "rows": e.rows,
            "fetched_at": e.fetched_at[:19],
        }
        for e in Cache(cache_dir).list()
    ]
    return pd.DataFrame(rows)
