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
from data.files import FILE_KINDS, read_price_file_with_quirks, symbol_for
from data.market import MarketData, SeriesInfo
from data.schema import PriceBasis
from data.timestamps import EARLIEST, LATEST

SOURCES = ("bundled", "csv", "parquet", "yahoo", "ccxt", "fred")


def _as_list(names: str | Iterable[str] | None) -> list[str] | None:
    if names is None:
        return None
    return [names] if isinstance(names, str) else list(names)


def _date_arg(value: object, name: str) -> str | None:
    """A ``start``/``end`` argument checked as a date (or instant) in 1678..2261, as a
    naive UTC ISO string; anything else is a `DataError` naming the argument."""
    if value is None:
        return None
    hint = f"give a real date as YYYY-MM-DD, e.g. {name}=2020-02-28 (--{name} 2020-02-28)"
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"invalid {name} date {value!r}: {reason}", where=f"argument {name}", hint=hint
        ) from None
    if ts is pd.NaT or pd.isna(ts):
        raise DataError(f"invalid {name} date {value!r}", where=f"argument {name}", hint=hint)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if not EARLIEST <= ts <= LATEST:
        raise DataError(
            f"{name} date {value!r} is outside {EARLIEST.year}..{LATEST.year}",
            where=f"argument {name}",
            hint=hint,
        )
    return ts.tz_localize(None).isoformat()


def _where(md: MarketData, symbol: str) -> str:
    """A symbol's file (user files) or source name, for error messages."""
    info = md.info[symbol]
    return info.origin if info.source == "file" else info.source


def _check_range(md: MarketData, start: str | None, end: str | None) -> MarketData:
    """Cut to [start, end]. A price series that ends before ``start``, or that has no bar
    in the window at all (it starts after ``end``, or the window falls in a gap), is an
    error naming the symbol and the span the data covers, never an empty frame."""
    start, end = _date_arg(start, "start"), _date_arg(end, "end")
    if start is not None:
        lo = pd.Timestamp(start, tz="UTC")
        for sym, frame in md.prices.items():
            if len(frame) and frame.index[-1] < lo:
                raise DataError(
                    f"series ends {frame.index[-1].date()} before the requested start {lo.date()}",
                    file=_where(md, sym),
                    symbol=sym,
                    hint=f"choose a start on or before {frame.index[-1].date()} or update the data",
                )
    if end is not None and start is not None and pd.Timestamp(end) < pd.Timestamp(start):
        raise DataError(
            f"end {end[:10]} is before start {start[:10]}",
            where="arguments start, end",
            hint="swap --start and --end (start=, end=)",
        )
    if not (start or end):
        return md
    cut = md.between(start, end)
    for sym, frame in cut.prices.items():
        whole = md.prices[sym]
        if frame.empty and len(whole):
            first, last = whole.index[0].date(), whole.index[-1].date()
            raise DataError(
                f"no bars between {(start or 'the start')[:10]} and {(end or 'the end')[:10]}: "
                f"the data covers {first}..{last}",
                file=_where(md, sym),
                symbol=sym,
                hint=f"choose a window that overlaps {first}..{last} (--start/--end, "
                "Python: start=, end=)",
            )
    return cut


def _load_files(
    paths: list[str],
    *,
    repair: bool,
    mapping: dict[str, str] | None,
    date_format: str | None,
) -> MarketData:
    """User files, one symbol each (the file name without its suffix, `symbol_for`).
    Two files giving the same symbol (``a/SPY.csv`` and ``b/SPY.csv``) are refused:
    flowbt never merges or drops one silently. A file with ``adj_close`` has basis
    ``raw+tr`` (Yahoo's convention: OHLC as traded, Adj Close the total-return close),
    so backtests use total return unless told otherwise; without it, ``unknown``."""
    prices, info, quirks = {}, {}, []
    origins: dict[str, Path] = {}
    for path in paths:
        symbol = symbol_for(path)
        if symbol in origins:
            same = origins[symbol] == Path(path).resolve()
            raise DataError(
                f"file given twice: {origins[symbol]}"
                if same
                else f"two files give the symbol {symbol}: {origins[symbol]} and {path}",
                file=path,
                symbol=symbol,
                hint="give each file once"
                if same
                else "rename one of them: the file name (without .csv) is the symbol",
            )
        origins[symbol] = Path(path).resolve()
        frame, found = read_price_file_with_quirks(
            path, symbol=symbol, mapping=mapping, repair=repair, date_format=date_format
        )
        prices[symbol] = frame
        quirks.extend(found)
        has_tr = "adj_close" in frame and bool(frame["adj_close"].notna().any())
        basis = PriceBasis.RAW_TR if has_tr else PriceBasis.UNKNOWN
        info[symbol] = SeriesInfo(
            name=symbol,
            kind="price",
            source="file",
            origin=str(Path(path).resolve()),
            basis=basis.value,
            calendar=infer_calendar(frame.index),
            rows=len(frame),
            start=str(frame.index[0].date()),
            end=str(frame.index[-1].date()),
        )
    return MarketData(prices, {}, {}, info, quirks)


def _file_args_only(source: str, **given: object) -> None:
    """``date_format``/``mapping`` read user files: refused, not ignored, elsewhere."""
    for name, value in given.items():
        if value is not None:
            raise DataError(
                f"{name} applies to user files, not source {source!r}",
                where=f"argument {name}",
                hint=f"drop {name}, or load a file with source='csv' or 'parquet'",
            )


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
    date_format: str | None = None,
) -> MarketData:
    """Load prices, macro series and events as one point-in-time `MarketData`.

    ``source``: ``bundled`` (default, offline; ``None`` for symbols/macro/events means
    all of that kind), ``csv``/``parquet`` (``symbols`` are file paths), ``yahoo``,
    ``ccxt`` (with ``exchange``) or ``fred`` (``symbols`` are FRED series ids).
    ``start``/``end`` are inclusive dates (1678..2261; an impossible date such as
    2020-02-30 raises); a price series with no bar in the window raises, never an
    empty frame. User files take ``mapping`` (file column -> field), ``repair`` and
    ``date_format`` (a `strftime` layout such as ``%d/%m/%Y``); see `data.files`.
    Every mistake is a `DataError` saying what, where and how to fix it.
    """
    names = _as_list(symbols)
    if source not in SOURCES:
        raise DataError(
            f"unknown source {source!r}",
            where="argument source",
            hint=f"use one of {', '.join(SOURCES)}",
        )
    _date_arg(start, "start")  # checked before any file is read
    _date_arg(end, "end")
    if source == "bundled":
        _file_args_only(source, date_format=date_format, mapping=mapping)
        files = [n for n in names or [] if Path(n).suffix.lower() in FILE_KINDS]
        if files:
            raise DataError(
                f"{files[0]!r} looks like a file, not a bundled symbol",
                where="argument symbols",
                hint="load files with source='csv' (or 'parquet')",
            )
        md = load_bundle(names, _as_list(macro), _as_list(events))
    elif source in ("csv", "parquet"):
        if not names:
            raise DataError(
                "no file given", where="argument symbols", hint="pass one or more file paths"
            )
        md = _load_files(names, repair=repair, mapping=mapping, date_format=date_format)
    else:
        _file_args_only(source, date_format=date_format, mapping=mapping)
        if not names:
            raise DataError(
                f"no symbol given for source {source}",
                where="argument symbols",
                hint="name the symbols to load, e.g. data.load(['SPY'], source='yahoo')",
            )
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
