"""Trading calendars and multi-asset alignment.

US equities, ETFs and US indices trade NYSE sessions (``XNYS``), the two Korean
memory makers trade the Korea Exchange (``XKRX``), crypto trades 24/7 (daily
bars are UTC days). A daily bar is stamped 00:00 UTC of its session date and is
*known* at its session close (NYSE 16:00 New York, KRX 15:30 Seoul, crypto the
following 00:00 UTC). Early closes are treated as full days, which is
conservative (the bar is deemed known later than it really was).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from functools import lru_cache

import numpy as np
import pandas as pd

from data.errors import DataError

CALENDARS: dict[str, tuple[str, time]] = {
    "XNYS": ("America/New_York", time(16, 0)),
    "XKRX": ("Asia/Seoul", time(15, 30)),
    "24/7": ("UTC", time(0, 0)),  # a UTC day closes at the next midnight
}
# regular session opens (local time); a 24/7 UTC day opens at its own midnight
OPEN_TIMES: dict[str, time] = {"XNYS": time(9, 30), "XKRX": time(9, 0), "24/7": time(0, 0)}
CRYPTO_QUOTES = ("-USD", "-USDT", "/USD", "/USDT", "-EUR", "/EUR", "-BTC", "/BTC")


def calendar_for(symbol: str) -> str:
    """Default calendar of a symbol: .KS -> XKRX, crypto pairs -> 24/7, else XNYS."""
    upper = symbol.upper()
    if upper.endswith((".KS", ".KQ")):
        return "XKRX"
    if upper.endswith(CRYPTO_QUOTES) or "/" in upper:
        return "24/7"
    return "XNYS"


def check_calendar(name: str) -> str:
    if name not in CALENDARS:
        raise DataError(f"unknown calendar {name!r}", hint=f"use one of {', '.join(CALENDARS)}")
    return name


# The one vocabulary of calendars. A symbol trades on an exchange calendar (``XNYS``,
# ``XKRX``) or ``24/7``; a run is annualised on the *kind* of its calendar:
# exchange ``sessions`` (252 bars a year) or ``24/7`` (365 UTC days a year).
SESSIONS = "sessions"
ALWAYS_OPEN = "24/7"
PERIODS_PER_YEAR: dict[str, int] = {SESSIONS: 252, ALWAYS_OPEN: 365}
_KINDS: dict[str, str] = {
    "24/7": ALWAYS_OPEN,
    "247": ALWAYS_OPEN,
    "crypto": ALWAYS_OPEN,
    "always_open": ALWAYS_OPEN,
    "sessions": SESSIONS,
    "exchange": SESSIONS,
    "nyse": SESSIONS,
    "xnys": SESSIONS,
    "krx": SESSIONS,
    "xkrx": SESSIONS,
}
_DAY_NS = 86_400 * 10**9


def calendar_kind(calendar: str) -> str:
    """``"sessions"`` or ``"24/7"`` for any calendar name (XNYS, XKRX, crypto, ...).

    Raises ``ValueError`` for a name that is neither.
    """
    kind = _KINDS.get(str(calendar).lower())
    if kind is None:
        raise ValueError(
            f"unknown calendar {calendar!r}; use 'sessions' (252/yr) or '24/7' (365/yr)"
        )
    return kind


def periods_per_year(calendar: str) -> int:
    """Annualisation: 365 bars a year for 24/7 daily data, 252 for exchange sessions."""
    return PERIODS_PER_YEAR[calendar_kind(calendar)]


def infer_calendar(index: pd.DatetimeIndex) -> str:
    """24/7 when any bar falls on a Saturday or Sunday (wall clock of the index), else
    NYSE (a user file's default). ``calendar_kind`` of it gives the annualisation."""
    if not len(index):
        return "XNYS"
    local = index.tz_localize(None) if index.tz is not None else index
    days = local.as_unit("ns").asi8 // _DAY_NS  # 1970-01-01 was a Thursday: weekday 3
    return ALWAYS_OPEN if bool((((days + 3) % 7) >= 5).any()) else "XNYS"


def session_close(index: pd.DatetimeIndex, calendar: str) -> pd.DatetimeIndex:
    """UTC instant at which each daily bar (stamped 00:00 UTC of its date) closes."""
    tz, close = CALENDARS[check_calendar(calendar)]
    if calendar == "24/7":
        return _local_instants(index, tz, time(0, 0), days=1)
    return _local_instants(index, tz, close)


def session_open(index: pd.DatetimeIndex, calendar: str) -> pd.DatetimeIndex:
    """UTC instant at which each daily bar (stamped 00:00 UTC of its date) opens."""
    tz, _ = CALENDARS[check_calendar(calendar)]
    return _local_instants(index, tz, OPEN_TIMES[calendar])


def _local_instants(index: pd.DatetimeIndex, tz: str, at: time, days: int = 0) -> pd.DatetimeIndex:
    """``at`` (wall clock in ``tz``) on each bar's date plus ``days``, as UTC instants."""
    naive = index.tz_localize(None) if index.tz is not None else index
    day = naive.values.astype("datetime64[D]") + np.timedelta64(days, "D")
    wall = day.astype("datetime64[m]") + np.timedelta64(at.hour * 60 + at.minute, "m")
    local = pd.DatetimeIndex(wall.astype("datetime64[ns]")).tz_localize(tz)
    return local.tz_convert("UTC")


@lru_cache(maxsize=8)
def exchange_sessions(calendar: str, start: str, end: str) -> pd.DatetimeIndex:
    """Official sessions of an exchange between two dates, from exchange_calendars."""
    import exchange_calendars as xcals

    check_calendar(calendar)
    if calendar == "24/7":
        return pd.date_range(start, end, freq="D", tz="UTC")
    cal = xcals.get_calendar(calendar, start=start, end=end)
    return cal.sessions_in_range(start, end).tz_localize("UTC")


@dataclass(frozen=True)
class AlignedPrices:
    """Several assets on one timeline (the union of their bars).

    ``close`` is forward-filled so every asset is valued at its last known price;
    ``tradable`` is True only where the asset had a real bar at that timestamp (a
    forward-filled price is never tradable); ``open/high/low`` are NaN where not
    tradable.
    """

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    tradable: pd.DataFrame
    calendars: dict[str, str]


def align(
    prices: dict[str, pd.DataFrame],
    calendars: dict[str, str] | None = None,
    *,
    at: str = "session",
) -> AlignedPrices:
    """Align price frames on the union of their timestamps with a per-asset tradable mask.

    ``at="session"`` keeps each bar's session date (00:00 UTC); ``at="close"`` stamps
    each bar at its real close instant, so a Seoul close sorts before a New York
    close of the same date and a crypto UTC day sorts after both.
    """
    if not prices:
        raise DataError("nothing to align", hint="pass at least one symbol")
    if at not in ("session", "close"):
        raise DataError(f"unknown alignment {at!r}", hint="use 'session' or 'close'")
    calendars = {s: (calendars or {}).get(s) or calendar_for(s) for s in prices}
    frames = {}
    for sym, frame in prices.items():
        if at == "close":
            frame = frame.set_axis(session_close(frame.index, calendars[sym]))
        frames[sym] = frame
    index = frames[next(iter(frames))].index
    for frame in frames.values():
        index = index.union(frame.index)

    def field(col: str) -> pd.DataFrame:
        return pd.DataFrame({s: f[col].reindex(index) for s, f in frames.items()}, index=index)

    tradable = pd.DataFrame(
        {s: np.isin(index.asi8, f.index.asi8) for s, f in frames.items()}, index=index
    )
    close = field("close")
    tradable &= close.notna()
    return AlignedPrices(
        open=field("open"),
        high=field("high"),
        low=field("low"),
        close=close.ffill(),
        tradable=tradable,
        calendars=calendars,
    )
