"""Aligned OHLC panels: the engine's view of market data.

Several assets with different calendars (NYSE sessions, Korea, 24/7 crypto) are
aligned on the union of their timestamps. A bar where an asset has no data is a
closed market for that asset: its OHLC are NaN there, it is not tradable, and
its positions are valued at the last known close (point in time: never a later
price).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from data.calendars import calendar_kind, infer_calendar

OHLC = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Bars:
    """OHLC of ``m`` assets on ``n`` bars, float64 arrays of shape (n, m), NaN = closed.

    ``tradable`` is True where the asset has a bar (and the user did not mask it out).
    Prices are in each asset's quote currency; no FX conversion is made.
    ``signals`` are point-in-time signal frames on the same index (row ``t`` = what
    was known at bar ``t``'s close); strategies read them from ``MarketView.signals``.
    """

    index: pd.DatetimeIndex
    symbols: tuple[str, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    tradable: np.ndarray
    signals: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    # UTC open instant (int64 ns) of each asset's bar, for bars merged from several
    # calendars on their close instants (None: one calendar, a row opens after the
    # previous row closed). Orders decided at a row's close fill at the first later
    # open, so a 24/7 day that opened before a New York close never fills its orders.
    opens: np.ndarray | None = None

    @property
    def n_bars(self) -> int:
        return len(self.index)

    @property
    def n_assets(self) -> int:
        return len(self.symbols)

    def rows(self, first: int, stop: int | None = None) -> Bars:
        """Bars ``first`` .. ``stop - 1`` (signals and open instants sliced alike)."""
        cut = slice(first, stop)
        return replace(
            self,
            index=self.index[cut],
            open=self.open[cut],
            high=self.high[cut],
            low=self.low[cut],
            close=self.close[cut],
            tradable=self.tradable[cut],
            signals={k: v.iloc[cut] for k, v in self.signals.items()},
            opens=None if self.opens is None else self.opens[cut],
        )

    def frame(self, field: str) -> pd.DataFrame:
        """One field (open/high/low/close) as a DataFrame indexed by date, one column per symbol."""
        if field not in OHLC:
            raise ValueError(f"unknown field {field!r}; expected one of {OHLC}")
        return self._frames[field].copy(deep=False)

    @cached_property
    def _frames(self) -> dict[str, pd.DataFrame]:
        return {
            f: pd.DataFrame(getattr(self, f), index=self.index, columns=list(self.symbols))
            for f in OHLC
        }

    @cached_property
    def inferred_calendar(self) -> str:
        """'24/7' when any bar falls on a weekend, else 'sessions' (computed once)."""
        return calendar_kind(infer_calendar(self.index))

    @property
    def close_frame(self) -> pd.DataFrame:
        return self.frame("close")

    def valuation_close(self) -> np.ndarray:
        """Close forward-filled per asset: the last known price at each bar (NaN before the first)."""
        if not np.isnan(self.close).any():
            return self.close
        return _ffill(self.close)

    def checksum(self) -> str:
        """sha256 over the symbols, timestamps and OHLC arrays: identifies the exact input."""
        h = hashlib.sha256()
        h.update("|".join(self.symbols).encode())
        h.update(np.asarray(self.index.asi8, dtype=np.int64).tobytes())
        for name in OHLC:
            h.update(np.ascontiguousarray(getattr(self, name), dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.tradable, dtype=np.bool_).tobytes())
        for name in sorted(self.signals):
            h.update(name.encode())
            h.update(
                pd.util.hash_pandas_object(self.signals[name], index=True).to_numpy().tobytes()
            )
        return h.hexdigest()


def _ffill(a: np.ndarray) -> np.ndarray:
    return pd.DataFrame(a).ffill().to_numpy(dtype=np.float64)


def bars_from_frames(
    frames: Mapping[str, pd.DataFrame] | pd.DataFrame,
    tradable: pd.DataFrame | None = None,
    symbol: str = "asset",
) -> Bars:
    """Align per-symbol OHLC frames on the union of their timestamps.

    ``frames`` maps symbol -> DataFrame with open/high/low/close columns and a
    DatetimeIndex (a single DataFrame is taken as one asset named ``symbol``).
    ``tradable`` (optional, boolean, same index/columns) further restricts where
    orders may fill, e.g. a halted session; bars with no data are never tradable.
    """
    if isinstance(frames, pd.DataFrame):
        frames = {symbol: frames}
    if not frames:
        raise ValueError("no price data given")
    symbols = tuple(str(s) for s in frames)
    index = None
    for sym, df in frames.items():
        missing = [c for c in OHLC if c not in df.columns]
        if missing:
            raise ValueError(f"prices for {sym} miss columns {missing}")
        if not isinstance(df.index, pd.DatetimeIndex):
            raise ValueError(f"prices for {sym} need a DatetimeIndex")
        if not df.index.is_monotonic_increasing or df.index.has_duplicates:
            raise ValueError(f"prices for {sym} must have sorted, unique timestamps")
        index = df.index if index is None else index.union(df.index)
    assert index is not None
    arrays = {}
    for name in OHLC:
        arrays[name] = np.column_stack(
            [frames[s][name].reindex(index).to_numpy(dtype=np.float64) for s in frames]
        )
    has_bar = ~np.isnan(arrays["open"]) & ~np.isnan(arrays["close"])
    if tradable is not None:
        mask = tradable.reindex(index=index, columns=list(symbols)).fillna(False)
        has_bar &= mask.to_numpy(dtype=bool)
    if np.any(arrays["open"][has_bar] <= 0) or np.any(arrays["close"][has_bar] <= 0):
        raise ValueError("prices must be strictly positive")
    return Bars(
        index=pd.DatetimeIndex(index),
        symbols=symbols,
        open=arrays["open"],
        high=arrays["high"],
        low=arrays["low"],
        close=arrays["close"],
        tradable=has_bar,
    )
