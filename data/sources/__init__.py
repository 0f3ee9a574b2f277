"""Online sources: small fetchers that turn one provider's answer into a canonical frame.

Every fetcher has the same shape, ``fetch(symbol, *, interval, start, end) -> DataFrame``:

- prices (``yahoo``, ``ccxt``): float columns ``open, high, low, close, volume`` (+
  ``adj_close`` for Yahoo) on a tz-aware UTC ``DatetimeIndex`` named ``date``; a daily bar
  is stamped 00:00 UTC of its session date (it is *known* only at that session's close).
- series (``fred``): one float column ``value`` on the same kind of index, stamped at the
  observation date (known later: see `data.publication` for the lag).

``start`` is inclusive and ``end`` exclusive (UTC timestamps or ``None``). A fetcher may
return an empty frame when the provider has no bar in the range; a transport failure or a
malformed answer raises (`DataError` for what flowbt recognises). Fetchers never touch the
cache: `data.cache.update` decides what to fetch and keeps what was on disk safe.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from data.errors import DataError

ONLINE_SOURCES: tuple[str, ...] = ("yahoo", "ccxt", "fred")

# flowbt interval names (ccxt style) and how each provider spells them.
INTERVALS: tuple[str, ...] = ("1m", "5m", "15m", "30m", "1h", "1d", "1w")
_DURATION: dict[str, pd.Timedelta] = {
    "1m": pd.Timedelta(minutes=1),
    "5m": pd.Timedelta(minutes=5),
    "15m": pd.Timedelta(minutes=15),
    "30m": pd.Timedelta(minutes=30),
    "1h": pd.Timedelta(hours=1),
    "1d": pd.Timedelta(days=1),
    "1w": pd.Timedelta(weeks=1),
}


class Fetcher(Protocol):
    """What `data.cache.update` calls to get new bars (tests pass fakes of this shape)."""

    def __call__(
        self,
        symbol: str,
        *,
        interval: str,
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
    ) -> pd.DataFrame: ...


def check_interval(interval: str, *, source: str, allowed: tuple[str, ...] = INTERVALS) -> str:
    """Return ``interval`` if flowbt knows it for ``source``, else raise a one-line DataError."""
    if interval not in allowed:
        raise DataError(
            f"unknown interval {interval!r} for source {source}",
            file=source,
            hint=f"use one of {', '.join(allowed)}",
        )
    return interval


def interval_duration(interval: str) -> pd.Timedelta:
    """Length of one bar of ``interval`` (a week for ``1w``)."""
    return _DURATION[check_interval(interval, source="flowbt")]


def as_utc(when: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """A date/time as a UTC timestamp (naive = UTC); ``None`` stays ``None``."""
    if when is None:
        return None
    ts = pd.Timestamp(when)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


__all__ = [
    "INTERVALS",
    "ONLINE_SOURCES",
    "Fetcher",
    "as_utc",
    "check_interval",
    "interval_duration",
]
