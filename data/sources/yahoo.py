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

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.errors import DataError
from data.schema import PriceBasis
from data.sources import (
    as_utc,
    check_interval,
    default_cache_dir,
    provider_error,
)

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
_YF_LOGGER = "yfinance"
_yf_cache_dir: str | None = None  # where yfinance's own caches were last pointed


def yfinance_cache_dir(root: str | Path | None = None) -> Path:
    """Where yfinance keeps its cookie, crumb, timezone and ISIN caches: ``<root>/yfinance``.

    ``root`` is flowbt's cache folder (default ``$FLOWBT_CACHE_DIR`` or ``~/.cache/flowbt``),
    so nothing of flowbt's lands in yfinance's default ``~/.cache/py-yfinance``.
    """
    return Path(root if root is not None else default_cache_dir()).expanduser() / "yfinance"


def _use_cache_dir(root: str | Path | None) -> None:
    """Point yfinance's caches at `yfinance_cache_dir` (before they are opened)."""
    global _yf_cache_dir
    import yfinance as yf

    where = str(yfinance_cache_dir(root))
    if where != _yf_cache_dir:
        yf.set_tz_cache_location(where)  # moves the tz, cookie and ISIN databases
        _yf_cache_dir = where


@contextmanager
def _raise_yfinance_errors() -> Iterator[None]:
    """yfinance logs and returns an empty frame by default; flowbt wants the reason.

    While yfinance runs, its logger is silenced (its ``ERROR ... possibly delisted`` lines
    would otherwise reach stderr beside flowbt's own one-line error) and its pandas/numpy
    warnings are hidden: the failure reaches the user once, as flowbt's DataError.
    """
    import yfinance as yf

    logger = logging.getLogger(_YF_LOGGER)
    with _hide_lock, warnings.catch_warnings():
        # yfinance's own pandas deprecations and numpy RuntimeWarnings (``invalid value
        # encountered`` in its price repair) are not the user's business.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"yfinance")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        before = yf.config.debug.hide_exceptions
        level, propagate, disabled = logger.level, logger.propagate, logger.disabled
        yf.config.debug.hide_exceptions = False
        logger.disabled, logger.propagate = True, False
        logger.setLevel(logging.CRITICAL + 1)
        try:
            with np.errstate(all="ignore"):
                yield
        finally:
            yf.config.debug.hide_exceptions = before
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in _COLUMNS.values()},
        index=pd.DatetimeIndex([], tz="UTC", name="date"),
    )
    return frame[["open", "high", "low", "close", "adj_close", "volume"]]


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
    cache_root: str | Path | None = None,
) -> pd.DataFrame:
    """Fetch OHLCV + adj_close of ``symbol`` (Yahoo ticker, e.g. ``SPY``, ``^VIX``, ``BTC-USD``).

    ``start`` inclusive, ``end`` exclusive (dates or UTC timestamps; ``None`` = all history /
    up to now). Returns an empty frame when Yahoo has no bar in the range; raises `DataError`
    for an unknown symbol, a failed request or an answer yfinance cannot parse.
    ``cache_root`` is flowbt's cache folder: yfinance's own caches go under
    ``<cache_root>/yfinance`` (default: under ``$FLOWBT_CACHE_DIR``).
    """
    import yfinance as yf

    check_interval(interval, source="yahoo", allowed=tuple(_YAHOO_INTERVAL))
    _use_cache_dir(cache_root)
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

    failure: DataError | None = None
    raw: pd.DataFrame | None = None
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
        failure = provider_error(
            "Yahoo request failed", exc, source="yahoo", symbol=symbol, hint=hint
        )
    if failure is not None:  # outside ``except``: the provider's exception is not chained
        raise failure
    if raw is None or raw.empty:
        return _empty()
    frame = to_canonical(raw, symbol=symbol, interval=interval)
    if start_ts is not None:
        frame = frame.loc[frame.index >= start_ts.normalize() if interval == "1d" else start_ts]
    if end_ts is not None:
        frame = frame.loc[frame.index < end_ts]
    return frame


__all__ = ["BASIS", "fetch_yahoo", "to_canonical", "yfinance_cache_dir"]
