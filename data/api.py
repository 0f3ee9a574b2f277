"""`load`: the one entry point to market data.

    import data
    md = data.load()                                    # the whole bundled snapshot, offline
    md = data.load(["SPY", "BTC-USD"], start="2015-01-01")
    md = data.load(["my_prices.csv"], source="csv")     # a user file (Yahoo or Binance CSV)
    md = data.load(["BTC/USDT"], source="ccxt", exchange="binance")  # from the local cache

Online sources (``yahoo``, ``ccxt``, ``fred``) read the local parquet cache; with
``refresh=True`` they first fetch what is new (falling back to the cache, with a
warning naming what is stale, when the network fails).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from data.bundle import load_bundle
from data.calendars import calendar_for, infer_calendar
from data.errors import DataError
from data.files import read_price_file_with_quirks
from data.market import MarketData, SeriesInfo
from data.schema import PriceBasis

SOURCES = ("bundled", "csv", "parquet", "yahoo", "ccxt", "fred")


def _as_list(names: str | Iterable[str] | None) -> list[str] | None:
    if names is None:
        return None
    return [names] if isinstance(names, str) else list(names)


def _check_range(md: MarketData, start: str | None, end: str | None) -> MarketData:
    """Cut to [start, end]; a series that ends before ``start`` is an error, not an empty frame."""
    if start is not None:
        lo = pd.Timestamp(start, tz="UTC")
        for sym, frame in md.prices.items():
            if len(frame) and frame.index[-1] < lo:
                raise DataError(
                    f"series ends {frame.index[-1].date()} before the requested start {lo.date()}",
                    file=md.info[sym].source,
                    symbol=sym,
                    hint="choose an earlier start or update the data",
                )
    if end is not None and start is not None and pd.Timestamp(end) < pd.Timestamp(start):
        raise DataError(f"end {end} is before start {start}", hint="swap --start and --end")
    return md.between(start, end) if (start or end) else md


def _load_files(paths: list[str], *, repair: bool, mapping: dict[str, str] | None) -> MarketData:
    prices, info, quirks = {}, {}, []
    for path in paths:
        frame, found = read_price_file_with_quirks(path, mapping=mapping, repair=repair)
        symbol = Path(path).name.split(".")[0]
        prices[symbol] = frame
        quirks.extend(found)
        info[symbol] = SeriesInfo(
            name=symbol,
            kind="price",
            source="file",
            origin=str(Path(path).resolve()),
            basis=PriceBasis.UNKNOWN.value,
            calendar=infer_calendar(frame.index),
            rows=len(frame),
            start=str(frame.index[0].date()),
            end=str(frame.index[-1].date()),
        )
    return MarketData(prices, {}, {}, info, quirks)


def load(
    symbols: str | Iterable[str] | None = None,
    *,
    source: str = "bundled",
    macro: str | Iterable[str] | None = None,
    events: str | Iterable[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    interval: str = "1d",
    exchange: str = "binance",
    refresh: bool = False,
    cache_dir: str | Path | None = None,
    repair: bool = False,
    mapping: dict[str, str] | None = None,
) -> MarketData:
    """Load prices, macro series and events as one point-in-time `MarketData`.

    ``source``: ``bundled`` (default, offline; ``None`` for symbols/macro/events means
    all of that kind), ``csv``/``parquet`` (``symbols`` are file paths), ``yahoo``,
    ``ccxt`` (with ``exchange``) or ``fred`` (``symbols`` are FRED series ids).
    ``start``/``end`` are inclusive dates; a series that ends before ``start`` raises.
    """
    names = _as_list(symbols)
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}", hint=f"use one of {', '.join(SOURCES)}")
    if source == "bundled":
        md = load_bundle(names, _as_list(macro), _as_list(events))
    elif source in ("csv", "parquet"):
        if not names:
            raise DataError("no file given", hint="pass one or more file paths")
        md = _load_files(names, repair=repair, mapping=mapping)
    else:
        if not names:
            raise DataError(f"no symbol given for source {source}", hint="name the symbols to load")
        from data.online import load_online

        md = load_online(
            names,
            source=source,
            interval=interval,
            exchange=exchange,
            refresh=refresh,
            cache_dir=cache_dir,
        )
    return _check_range(md, start, end)


__all__ = ["load", "SOURCES", "calendar_for"]
