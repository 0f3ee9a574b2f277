"""Crypto candles from any exchange ccxt knows, paginated ``fetch_ohlcv``, as OHLCV frames.

Symbols are ccxt's unified ``BASE/QUOTE`` (``BTC/USDT``; ``BTC-USDT`` is accepted and
rewritten). Basis `PriceBasis.RAW` (exchange trades, no adjustments; volume in the base
asset). Each bar is stamped at its UTC open instant (a daily candle at 00:00 UTC) and is
known at its close, one interval later: the last candle of a fetch may still be forming.

Pagination: ask from ``since``, advance ``since`` past the newest bar received, stop at
``end`` or now, on an empty page or when a page brings nothing newer than what came
before. The pages are capped (about twice what the range needs, at most `MAX_PAGES`): an
exchange that keeps paging is a clear `DataError`, not thousands of requests. A candle
dated after now is refused before anything reaches the cache. With ``enableRateLimit``
ccxt itself spaces the requests by ``exchange.rateLimit`` ms (its ``throttle`` sleeps).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from data.errors import DataError
from data.schema import PriceBasis
from data.sources import (
    RequestError,
    as_utc,
    check_exchange_id,
    check_interval,
    interval_duration,
    provider_error,
    redact,
)

BASIS = PriceBasis.RAW
COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
MAX_PAGES = 10_000  # the absolute ceiling; the range sets a much lower cap (`_page_cap`)
_LAST_MS = 9_223_372_036_854  # pandas' last nanosecond timestamp (2262-04-11), in ms
FUTURE_TOLERANCE = pd.Timedelta(minutes=5)  # clock skew between us and the exchange
# Credentials a ccxt exchange instance may hold; their values never reach a message.
_CREDENTIALS = ("apiKey", "secret", "password", "uid", "privateKey", "token", "login")


def exchange_secrets(ex: Any) -> tuple[str, ...]:
    """The credentials set on a ccxt exchange instance (to redact from its errors)."""
    values = (getattr(ex, name, None) for name in _CREDENTIALS)
    return tuple(v for v in values if isinstance(v, str) and v)


def make_exchange(exchange_id: str, **config: Any) -> Any:
    """A ccxt exchange instance with rate limiting on; unknown id -> DataError."""
    import ccxt

    check_exchange_id(exchange_id)
    klass = getattr(ccxt, exchange_id, None) if exchange_id in ccxt.exchanges else None
    if klass is None:
        raise RequestError(
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
    try:
        arr = np.array([c[:6] for c in candles], dtype="float64")
    except (TypeError, ValueError):
        bad = next(i for i, c in enumerate(candles) if not _numeric(c[:6]))
        raise DataError(
            f"candle {bad + 1} of the answer is not numbers: {candles[bad]!r}"[:200],
            file=source,
            symbol=symbol,
            hint="the exchange answer changed or is broken; try again later",
        ) from None
    if np.isnan(arr[:, 0]).any():
        raise DataError("candle without a timestamp", file=source, symbol=symbol)
    stamps = arr[:, 0]
    wrong = (stamps < 0) | (stamps > _LAST_MS) | (stamps != np.floor(stamps))
    if wrong.any():
        pos = int(np.flatnonzero(wrong)[0])
        raise DataError(
            f"candle {pos + 1} of the answer has an impossible time {candles[pos][0]!r}",
            file=source,
            symbol=symbol,
            hint="the exchange answer is broken; try again later",
        )
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


def _numeric(values: Any) -> bool:
    try:
        np.array(values, dtype="float64")
    except (TypeError, ValueError):
        return False
    return True


def _check_not_garbage(ex: Any, *, source: str, symbol: str) -> None:
    """ccxt turns a 200 answer it cannot parse (an HTML error page) into no candles."""
    body = getattr(ex, "last_http_response", None)
    if not isinstance(body, str):
        return
    text = body.lstrip()[:200]
    if text and text[0] not in "[{":
        raise DataError(
            f"{ex.id} sent a non-JSON answer: "
            f"{redact(' '.join(text.split())[:80], exchange_secrets(ex))!r}",
            file=source,
            symbol=symbol,
            hint="the exchange or a proxy is failing; try again later",
        )


def _page_cap(since: int, stop: int | None, now_ms: int, step: int, page_len: int) -> int:
    """Pages the range needs at ``page_len`` bars a page, doubled, plus slack."""
    last = min(stop, now_ms) if stop is not None else now_ms
    bars = max(0, last - since) / step + 1
    return min(MAX_PAGES, 2 * math.ceil(bars / max(1, page_len)) + 10)


def _stamp(ms: float) -> str:
    """A candle's ms timestamp as ISO text, whatever the exchange sent."""
    if not 0 <= ms <= _LAST_MS:
        return f"{ms:.0f} ms after 1970-01-01"
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


def _day(ms: float) -> str:
    return _stamp(ms)[:10]


def _endless(
    exchange_id: str, pair: str, interval: str, pages: int, since: int, *, source: str
) -> DataError:
    return DataError(
        f"{exchange_id} kept sending {interval} candles for {pair} after {pages} pages "
        f"(up to {_day(since)}), more than the range needs: stopped, nothing cached",
        file=source,
        symbol=pair,
        hint=f"fetch a shorter range: flowbt data update {pair} --source ccxt --exchange "
        f"{exchange_id} --interval {interval} --start {_day(since)}",
    )


def _from_the_future(
    exchange_id: str, pair: str, newest: float, now: pd.Timestamp, *, source: str
) -> DataError:
    return DataError(
        f"{exchange_id} sent a candle dated {_stamp(newest)}, after now "
        f"({now.isoformat(timespec='seconds')}): refused, nothing cached",
        file=source,
        symbol=pair,
        hint="check this machine's clock (the exchange's may be wrong); try again later",
    )


def fetch_ccxt(
    symbol: str,
    *,
    interval: str = "1d",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    exchange: Any = "binance",
    limit: int | None = None,
    max_pages: int | None = None,
    now: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Fetch candles of ``symbol`` on ``exchange`` (an id like ``binance`` or a ccxt instance).

    ``start`` inclusive (``None`` = the exchange's earliest, asked as ``since=0``), ``end``
    exclusive (``None`` = up to now). ``limit`` is the page size (``None`` = the exchange's
    default). ``max_pages`` caps the requests (default: about twice what the range needs
    at the first page's size, at most `MAX_PAGES`); ``now`` is the present (default the
    clock), after which no candle may be dated. Returns an empty frame when there is no
    candle in the range; raises `DataError` for an unknown exchange/symbol/timeframe, a
    failed/malformed answer, a candle from the future or an exchange that keeps paging.
    """
    import ccxt

    ex = make_exchange(exchange) if isinstance(exchange, str) else exchange
    source = f"ccxt {ex.id}"
    pair = unified_symbol(symbol)
    check_interval(interval, source="ccxt")
    timeframes = getattr(ex, "timeframes", None) or {}
    if timeframes and interval not in timeframes:
        raise RequestError(
            f"{ex.id} has no {interval} candles",
            file=source,
            symbol=pair,
            hint=f"use one of {', '.join(timeframes)}",
        )
    start_ts, end_ts = as_utc(start), as_utc(end)
    now_ts = as_utc(now) if now is not None else pd.Timestamp.now(tz="UTC")
    assert now_ts is not None
    since = int(start_ts.value // 1_000_000) if start_ts is not None else 0
    stop = int(end_ts.value // 1_000_000) if end_ts is not None else None
    now_ms = int(now_ts.value // 1_000_000)
    latest_ok = int((now_ts + FUTURE_TOLERANCE).value // 1_000_000)
    step = int(interval_duration(interval).value // 1_000_000)
    secrets = exchange_secrets(ex)

    candles: list[list[Any]] = []
    newest_seen: float = -math.inf
    cap = MAX_PAGES if max_pages is None else max_pages
    pages = 0
    while True:
        if pages >= cap:
            raise _endless(ex.id, pair, interval, pages, since, source=source)
        failure: DataError | None = None
        page: Any = None
        try:
            page = ex.fetch_ohlcv(pair, interval, since, limit)
        except ccxt.BadSymbol:
            failure = DataError(
                f"{ex.id} does not list {pair}",
                file=source,
                symbol=pair,
                hint="use the exchange's unified symbol, e.g. BTC/USDT",
            )
        except ccxt.BaseError as exc:
            failure = provider_error(
                f"{ex.id} request failed",
                exc,
                source=source,
                symbol=pair,
                hint="check the network connection; the cached copy is used when there is one",
                secrets=secrets,
            )
        if failure is not None:  # outside ``except``: ccxt's exception (URL, headers) is
            raise failure  # neither the cause nor the context of the flowbt error
        pages += 1
        if not isinstance(page, list):
            raise DataError(f"unexpected answer {type(page).__name__}", file=source, symbol=pair)
        if not page:
            _check_not_garbage(ex, source=source, symbol=pair)
            break
        stamps = [
            c[0]
            for c in page
            if isinstance(c, list | tuple) and c and isinstance(c[0], int | float)
        ]
        if len(stamps) != len(page) or any(not math.isfinite(t) for t in stamps):
            candles_to_frame(page, symbol=pair, source=source)  # raises the precise error
            raise DataError("candle without a timestamp", file=source, symbol=pair)
        newest = max(stamps)  # pages need not be sorted (some exchanges send newest first)
        if newest > latest_ok:
            raise _from_the_future(ex.id, pair, newest, now_ts, source=source)
        if newest <= newest_seen:  # nothing newer than the pages before: no progress
            break
        candles.extend(page)
        newest_seen = newest
        if pages == 1 and max_pages is None:
            cap = _page_cap(since, stop, now_ms, step, len(page))
        if newest < since:  # the exchange ignored ``since``: no progress possible
            break
        since = int(newest) + step  # past the newest bar received
        if (stop is not None and since >= stop) or since > now_ms:
            break

    frame = candles_to_frame(candles, symbol=pair, source=source)
    if start_ts is not None:
        frame = frame.loc[frame.index >= start_ts]
    if end_ts is not None:
        frame = frame.loc[frame.index < end_ts]
    return frame


__all__ = [
    "BASIS",
    "MAX_PAGES",
    "candles_to_frame",
    "check_exchange_id",
    "exchange_secrets",
    "fetch_ccxt",
    "make_exchange",
    "unified_symbol",
]
