"""Yahoo Finance prices through yfinance (``Ticker.history``), as canonical OHLCV frames.

Basis `PriceBasis.RAW_TR`: OHLC as traded (split-adjusted only, ``auto_adjust=False``) and
``adj_close`` the dividend+split adjusted (total-return) close. Yahoo back-adjusts the whole
``adj_close`` history at every dividend, so a cache merge must check the factor (see
`data.cache.update`). Daily bars are stamped 00:00 UTC of the exchange's session date;
intraday bars keep their UTC start instant. Point in time: a daily bar is known at its
session close, not at its 00:00 UTC stamp.

The transport is yfinance's own HTTP session (curl_cffi); pass ``session=`` (a
``requests``/``curl_cffi`` Session) to route it elsewhere, e.g. recorded answers in tests.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from data.errors import DataError
from data.schema import PriceBasis
from data.sources import as_utc, check_interval

BASIS = PriceBasis.RAW_TR
_YAHOO_INTERVAL = {
    "1m": "1m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1h": "1h",
    "1d": "1d",
    "1w": "1wk",
}
_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_hide_lock = threading.Lock()


@contextmanager
def _raise_yfinance_errors() -> Iterator[None]:
    """yfinance logs and returns an empty frame by default; flowbt wants the reason."""
    import yfinance as yf

    with _hide_lock, warnings.catch_warnings():
        # yfinance's own pandas deprecations are not the user's business.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance")
        before = yf.config.debug.hide_exceptions
        yf.config.debug.hide_exceptions = False
        try:
            yield
        finally:
            yf.config.debug.hide_exceptions = before


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in _COLUMNS.values()},
        index=pd.DatetimeIndex([], tz="UTC", name="date"),
    )
    return frame[["open", "high", "low", "close", "adj_close", "volume"]]


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def to_canonical(raw: pd.DataFrame, *, symbol: str, interval: str) -> pd.DataFrame:
    """yfinance's ``history()`` frame -> flowbt columns, float64, UTC index ``date``."""
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(
            f"Yahoo answer lacks column(s) {', '.join(missing)}",
            file="yahoo",
            symbol=symbol,
            hint="yfinance changed its output; report it with the yfinance version",
        )
    frame = raw[list(_COLUMNS)].rename(columns=_COLUMNS).astype("float64")
    index = pd.DatetimeIndex(raw.index)
    if interval in ("1d", "1w"):
        # Session date in the exchange's own zone, stamped 00:00 UTC.
        local = index.tz_localize(None) if index.tz is not None else index
        index = pd.DatetimeIndex(local.normalize()).tz_localize("UTC")
    else:
        index = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
    frame.index = pd.DatetimeIndex(index, name="date").as_unit("ns")
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    frame = frame.loc[~np.isnan(frame[["open", "high", "low", "close"]].to_numpy()).all(axis=1)]
    return frame[["open", "high", "low", "close", "adj_close", "volume"]]


def fetch_yahoo(
    symbol: str,
    *,
    interval: str = "1d",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    session: Any = None,
    timeout: float = 20,
) -> pd.DataFrame:
    """Fetch OHLCV + adj_close of ``symbol`` (Yahoo ticker, e.g. ``SPY``, ``^VIX``, ``BTC-USD``).

    ``start`` inclusive, ``end`` exclusive (dates or UTC timestamps; ``None`` = all history /
    up to now). Returns an empty frame when Yahoo has no bar in the range; raises `DataError`
    for an unknown symbol, a failed request or an answer yfinance cannot parse.
    """
    import yfinance as yf

    check_interval(interval, source="yahoo", allowed=tuple(_YAHOO_INTERVAL))
    start_ts, end_ts = as_utc(start), as_utc(end)
    kwargs: dict[str, Any] = {
        "interval": _YAHOO_INTERVAL[interval],
        "auto_adjust": False,
        "actions": False,
        "timeout": timeout,
    }
    if start_ts is None and end_ts is None:
        kwargs["period"] = "max"
    if start_ts is not None:
        # Daily bars: yfinance reads a date in the exchange zone; the UTC stamp is the date.
        kwargs["start"] = start_ts.strftime("%Y-%m-%d") if interval in ("1d", "1w") else start_ts
    if end_ts is not None:
        kwargs["end"] = end_ts.strftime("%Y-%m-%d") if interval in ("1d", "1w") else end_ts

    try:
        with _raise_yfinance_errors():
            raw = yf.Ticker(symbol, session=session).history(**kwargs)
    except DataError:
        raise
    except Exception as exc:
        from yfinance.exceptions import YFPricesMissingError

        if isinstance(exc, YFPricesMissingError) and exc.yahoo_reason is None:
            return _empty()  # a valid chart answer without any bar in [start, end)
        hint = (
            "check the ticker on finance.yahoo.com"
            if type(exc).__module__.startswith("yfinance")
            else "check the network connection; the cached copy is used when there is one"
        )
        raise DataError(
            f"Yahoo request failed: {_reason(exc)}", file="yahoo", symbol=symbol, hint=hint
        ) from exc
    if raw is None or raw.empty:
        return _empty()
    frame = to_canonical(raw, symbol=symbol, interval=interval)
    if start_ts is not None:
        frame = frame.loc[frame.index >= start_ts.normalize() if interval == "1d" else start_ts]
    if end_ts is not None:
        frame = frame.loc[frame.index < end_ts]
    return frame


__all__ = ["BASIS", "fetch_yahoo", "to_canonical"]
