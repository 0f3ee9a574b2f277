"""Crypto candles from any exchange ccxt knows, paginated ``fetch_ohlcv``, as OHLCV frames.

Symbols are ccxt's unified ``BASE/QUOTE`` (``BTC/USDT``; ``BTC-USDT`` is accepted and
rewritten). Basis `PriceBasis.RAW` (exchange trades, no adjustments; volume in the base
asset). Each bar is stamped at its UTC open instant (a daily candle at 00:00 UTC) and is
known at its close, one interval later: the last candle of a fetch may still be forming.

Pagination: ask from ``since``, advance ``since`` past the last bar received, stop at
``end``, on an empty page or when a page brings nothing new. With ``enableRateLimit`` ccxt
itself spaces the requests by ``exchange.rateLimit`` ms (its ``throttle`` sleeps).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from data.errors import DataError
from data.schema import PriceBasis
from data.sources import as_utc, check_interval, interval_duration

BASIS = PriceBasis.RAW
COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
MAX_PAGES = 10_000  # a guard, not a limit anyone should meet: 10k pages of 1000 bars


def make_exchange(exchange_id: str, **config: Any) -> Any:
    """A ccxt exchange instance with rate limiting on; unknown id -> DataError."""
    import ccxt

    klass = getattr(ccxt, exchange_id, None) if exchange_id in ccxt.exchanges else None
    if klass is None:
        raise DataError(
            f"unknown ccxt exchange id {exchange_id!r}",
            file="ccxt",
            hint="use a lower-case id such as binance, kraken, coinbase or bybit; "
            "python -c 'import ccxt; print(ccxt.exchanges)' lists them all",
        )
    return klass({"enableRateLimit": True, **config})


def unified_symbol(symbol: str) -> str:
    """``BTC-USDT``/``btc/usdt`` -> ``BTC/USDT`` (ccxt's unified form)."""
    text = symbol.strip().upper()
    if "/" not in text and text.count("-") == 1:
        text = text.replace("-", "/")
    return text


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in COLUMNS},
        index=pd.DatetimeIndex([], tz="UTC", name="date"),
    )


def candles_to_frame(candles: list[list[Any]], *, symbol: str, source: str) -> pd.DataFrame:
    """ccxt OHLCV rows ``[ms, open, high, low, close, volume]`` -> canonical frame."""
    if not candles:
        return _empty()
    bad = next(
        (i for i, c in enumerate(candles) if not isinstance(c, list | tuple) or len(c) < 6), None
    )
    if bad is not None:
        raise DataError(
            f"malformed candle {candles[bad]!r}: expected [time, open, high, low, close, volume]",
            file=source,
            symbol=symbol,
            hint="the exchange answer changed or is broken; try again later",
        )
    arr = np.array([c[:6] for c in candles], dtype="float64")
    if np.isnan(arr[:, 0]).any():
        raise DataError("candle without a timestamp", file=source, symbol=symbol)
    holes = np.isnan(arr[:, 1:5]).any(axis=1)
    if holes.any():
        pos = int(np.flatnonzero(holes)[0])
        raise DataError(
            f"candle {pos + 1} of the answer lacks open/high/low/close: {candles[pos]!r}",
            file=source,
            symbol=symbol,
            hint="the exchange answer is incomplete; try again later",
        )
    index = pd.DatetimeIndex(pd.to_datetime(arr[:, 0].astype("int64"), unit="ms", utc=True))
    frame = pd.DataFrame(arr[:, 1:], index=index.rename("date").as_unit("ns"), columns=COLUMNS)
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame


def _check_not_garbage(ex: Any, *, source: str, symbol: str) -> None:
    """ccxt turns a 200 answer it cannot parse (an HTML error page) into no candles."""
    body = getattr(ex, "last_http_response", None)
    if not isinstance(body, str):
        return
    text = body.lstrip()[:200]
    if text and text[0] not in "[{":
        raise DataError(
            f"{ex.id} sent a non-JSON answer: {' '.join(text.split())[:80]!r}",
            file=source,
            symbol=symbol,
            hint="the exchange or a proxy is failing; try again later",
        )


def fetch_ccxt(
    symbol: str,
    *,
    interval: str = "1d",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    exchange: Any = "binance",
    limit: int | None = None,
) -> pd.DataFrame:
    """Fetch candles of ``symbol`` on ``exchange`` (an id like ``binance`` or a ccxt instance).

    ``start`` inclusive (``None`` = the exchange's earliest, asked as ``since=0``), ``end``
    exclusive (``None`` = up to now). ``limit`` is the page size (``None`` = the exchange's
    default). Returns an empty frame when there is no candle in the range; raises
    `DataError` for an unknown exchange/symbol/timeframe or a failed/malformed answer.
    """
    import ccxt

    ex = make_exchange(exchange) if isinstance(exchange, str) else exchange
    source = f"ccxt {ex.id}"
    pair = unified_symbol(symbol)
    check_interval(interval, source="ccxt")
    timeframes = getattr(ex, "timeframes", None) or {}
    if timeframes and interval not in timeframes:
        raise DataError(
            f"{ex.id} has no {interval} candles",
            file=source,
            symbol=pair,
            hint=f"use one of {', '.join(timeframes)}",
        )
    start_ts, end_ts = as_utc(start), as_utc(end)
    since = int(start_ts.value // 1_000_000) if start_ts is not None else 0
    stop = int(end_ts.value // 1_000_000) if end_ts is not None else None
    step = int(interval_duration(interval).value // 1_000_000)

    candles: list[list[Any]] = []
    for _ in range(MAX_PAGES):
        try:
            page = ex.fetch_ohlcv(pair, interval, since, limit)
        except ccxt.BadSymbol as exc:
            raise DataError(
                f"{ex.id} does not list {pair}",
                file=source,
                symbol=pair,
                hint="use the exchange's unified symbol, e.g. BTC/USDT",
            ) from exc
        except ccxt.BaseError as exc:
            raise DataError(
                f"{ex.id} request failed: {type(exc).__name__}: {str(exc)[:200]}",
                file=source,
                symbol=pair,
                hint="check the network connection; the cached copy is used when there is one",
            ) from exc
        if not isinstance(page, list):
            raise DataError(f"unexpected answer {type(page).__name__}", file=source, symbol=pair)
        if not page:
            _check_not_garbage(ex, source=source, symbol=pair)
            break
        last = page[-1][0] if isinstance(page[-1], list | tuple) and page[-1] else None
        if not isinstance(last, int | float):
            candles_to_frame(page, symbol=pair, source=source)  # raises the precise error
            raise DataError("candle without a timestamp", file=source, symbol=pair)
        candles.extend(page)
        if last < since:  # the exchange ignored ``since``: no progress possible
            break
        since = int(last) + step  # past the last bar received
        if stop is not None and since >= stop:
            break
    else:
        raise DataError(f"more than {MAX_PAGES} pages", file=source, symbol=pair)

    frame = candles_to_frame(candles, symbol=pair, source=source)
    if start_ts is not None:
        frame = frame.loc[frame.index >= start_ts]
    if end_ts is not None:
        frame = frame.loc[frame.index < end_ts]
    return frame


__all__ = ["BASIS", "candles_to_frame", "fetch_ccxt", "make_exchange", "unified_symbol"]
