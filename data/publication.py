"""When each series became known: the publication-lag table and ``known_at``.

Point-in-time rule: an observation may be used only from its ``known_at``
instant (UTC). A daily bar uses what was known at its session close, so a value
published after the close lands on the next session. Business days here are
US federal business days (the Fed and Treasury publish on those, not on NYSE
sessions: the Fed works on Good Friday, NYSE trades on Columbus Day).

| series | observation date | published (ET) | first usable bar |
|---|---|---|---|
| WALCL, WTREGEN, WRESBAL, TREAST, WSHOMCB | Wednesday level / week avg (H.4.1) | Thursday 16:30 (next business day) | Friday |
| RRPONTSYD | operation day | next business day 09:00 (conservative; results are out the same afternoon) | next session |
| EFFR, DFF, SOFR | rate day | next business day 09:00 | next session |
| TGA_DTS_DAILY | cash balance day | next business day 16:00 (Daily Treasury Statement) | next session |
| DGS*, T10Y2Y, T10Y3M, T10YIE, T5YIE | trading day | same day 16:00 (the day's close) | same session |
| CBOE_* (VIX family closes) | trading day | same day 16:15 | next session (after the 16:00 NYSE close) |
| DFEDTARU, DFEDTARL, IORB | effective day | at the FOMC announcement that set it (see below) | the announcement's session |
| BAA10Y, ACMTP10 | trading day | next business day 09:00 | next session |
| DEXKOUS (KRW per USD, H.10 noon buying rate) | New York business day | same day 12:00 (the noon rate) | a Seoul close uses the previous NY business day's rate |
| NFCI | week ending Friday | following Wednesday 08:30 | Wednesday |
| STLFSI4 | week ending Friday | following Thursday 10:00 | Thursday |
| ICSA | week ending Saturday | following Thursday 08:30 | Thursday |
| CPIAUCSL, CPILFESL | month (dated the 1st) | month end + 15 days 08:30 | ~mid next month |
| PCEPI, PCEPILFE | month | month end + 31 days 08:30 | ~end of next month |
| UNRATE, PAYEMS | month | month end + 8 days 08:30 (first Friday at the latest) | ~first week |
| M2SL | month | month end + 28 days 13:00 | ~4th week |
| UMCSENT | month | month end + 1 day 10:00 (final reading) | next month |
| FEDFUNDS | month | month end + 1 business day 09:00 | next month |
| FOMC statement | meeting day | 14:15 until 2012, 14:00 from 2013 | same session |
| FOMC minutes | meeting day | three weeks later 14:00 (and after the notation vote) | that session |
| Fed speeches | speech day | end of day (time of day unknown: conservative) | next session |
| S&P 500 earnings (8-K 2.02) | filing day | end of day (before/after the open unknown) | next session |
| fed funds futures, FOMC implied probabilities | trading day | 17:00 (after settlement) | next session |

Series missing from the table (a user's FRED pick) get the conservative
default: next business day 09:00 ET, and their info says it was assumed.

Target range and IORB (``anchor="fomc"``). A value is known when it was announced. A row
dated (effective) d is known at the latest FOMC announcement released between the start
of d - 1 and the end of d (New York time): the statement that set it, 14:15 ET until 2012,
14:00 ET from 2013, the real time where it was later (2020-03-15, 17:00 ET, see
`data.events.STATEMENT_RELEASES`). That covers a change effective the day after the
statement (every move from 2017; 2020-03-16 after the Sunday 2020-03-15 statement) and a
value effective on its own statement day (the range's first row 2008-12-16, known
2008-12-16 14:15 ET, and the hikes FRED dates 2015-12-16 and 2016-12-14). A row with no
announcement in that window carries the standing value and is known from the start of
d (00:00 ET). The announcements are the bundled FOMC statements and held meetings
(`data.events.fomc_announcements`, after the calendar corrections); every change in the
bundled DFEDTARU/DFEDTARL/IORB falls in such a window (tests/data). A change announced
after the bundled tables end (a FRED refresh) is seen from the start of its effective
day: one evening late for a next-day change, a same-day inter-meeting move excepted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar
from pydantic import BaseModel

ET = "America/New_York"


class PublicationLag(BaseModel, frozen=True):
    """Rule turning an observation date into the instant it was published."""

    anchor: Literal["date", "month_end", "fomc"] = "date"  # fomc: the announcement
    days: int = 0  # calendar days after the anchor
    business_days: int = 0  # then this many US federal business days forward
    at: time = time(9, 0)  # Eastern time of day of the release
    note: str = ""

    def describe(self) -> str:
        if self.anchor == "fomc":
            return (
                "the FOMC announcement that set it (statement 14:15 ET to 2012, 14:00 ET "
                "from 2013) on the effective day or the day before, else the start of "
                "the effective day" + (f" ({self.note})" if self.note else "")
            )
        parts = ["month end" if self.anchor == "month_end" else "observation date"]
        if self.days:
            parts.append(f"+{self.days} day(s)")
        if self.business_days:
            parts.append(f"+{self.business_days} business day(s)")
        return (
            " ".join(parts) + f" at {self.at:%H:%M} ET" + (f" ({self.note})" if self.note else "")
        )


_H41 = PublicationLag(business_days=1, at=time(16, 30), note="H.4.1, Thursday 16:30 ET")
_NEXT_9 = PublicationLag(business_days=1, at=time(9, 0))
_CLOSE = PublicationLag(at=time(16, 0), note="the day's close")
_CBOE = PublicationLag(at=time(16, 15), note="CBOE close")
_ANNOUNCED = PublicationLag(anchor="fomc", at=time(0, 0))  # see the module docstring

PUBLICATION_LAGS: dict[str, PublicationLag] = {
    **dict.fromkeys(["WALCL", "WTREGEN", "WRESBAL", "TREAST", "WSHOMCB"], _H41),
    "RRPONTSYD": PublicationLag(business_days=1, at=time(9, 0), note="conservative: next day"),
    **dict.fromkeys(["EFFR", "DFF", "SOFR", "BAA10Y", "ACMTP10"], _NEXT_9),
    "TGA_DTS_DAILY": PublicationLag(
        business_days=1, at=time(16, 0), note="Daily Treasury Statement"
    ),
    **dict.fromkeys(
        ["DGS1MO", "DGS3MO", "DGS6MO", "DGS1", "DGS2", "DGS5", "DGS10", "DGS30"], _CLOSE
    ),
    **dict.fromkeys(["T10Y2Y", "T10Y3M", "T10YIE", "T5YIE"], _CLOSE),
    **dict.fromkeys(["DFEDTARU", "DFEDTARL", "IORB"], _ANNOUNCED),
    "NFCI": PublicationLag(days=5, at=time(8, 30), note="Chicago Fed, Wednesday"),
    "STLFSI4": PublicationLag(days=6, at=time(10, 0), note="St. Louis Fed, Thursday"),
    "ICSA": PublicationLag(days=5, at=time(8, 30), note="DOL, Thursday"),
    **dict.fromkeys(
        ["CPIAUCSL", "CPILFESL"], PublicationLag(anchor="month_end", days=15, at=time(8, 30))
    ),
    **dict.fromkeys(
        ["PCEPI", "PCEPILFE"], PublicationLag(anchor="month_end", days=31, at=time(8, 30))
    ),
    **dict.fromkeys(
        ["UNRATE", "PAYEMS"], PublicationLag(anchor="month_end", days=8, at=time(8, 30))
    ),
    "M2SL": PublicationLag(anchor="month_end", days=28, at=time(13, 0)),
    "UMCSENT": PublicationLag(anchor="month_end", days=1, at=time(10, 0)),
    "FEDFUNDS": PublicationLag(anchor="month_end", business_days=1, at=time(9, 0)),
    "DEXKOUS": PublicationLag(at=time(12, 0), note="H.10 noon buying rate in New York"),
    "fed_funds_futures": PublicationLag(at=time(17, 0), note="after settlement"),
    "fomc_implied_probabilities": PublicationLag(at=time(17, 0), note="after settlement"),
    "fed_speeches_text": PublicationLag(at=time(23, 59), note="time of day unknown"),
    "fed_speeches_index": PublicationLag(at=time(23, 59), note="time of day unknown"),
    "earnings_dates": PublicationLag(at=time(23, 59), note="before/after the open unknown"),
}
for _name in [
    "VIX",
    "VIX9D",
    "VIX3M",
    "VIX6M",
    "VIX1Y",
    "VVIX",
    "SKEW",
    "VXN",
    "VIX1D",
    "OVX",
    "GVZ",
]:
    PUBLICATION_LAGS[f"CBOE_{_name}_close"] = _CBOE

DEFAULT_LAG = PublicationLag(business_days=1, at=time(9, 0), note="assumed: not in the lag table")


@lru_cache(maxsize=1)
def _holidays() -> np.ndarray:
    """US federal holidays 1950-2035 as datetime64[D] (numpy busday calendar)."""
    days = USFederalHolidayCalendar().holidays("1950-01-01", "2035-12-31")
    return days.values.astype("datetime64[D]")


def lag_for(name: str) -> PublicationLag:
    """The publication rule of a series (the conservative default when unknown)."""
    return PUBLICATION_LAGS.get(name, DEFAULT_LAG)


def _at_eastern(days: np.ndarray, at: time) -> pd.DatetimeIndex:
    """UTC instants of Eastern wall time ``at`` on each datetime64[D] day."""
    wall = days.astype("datetime64[m]") + np.timedelta64(at.hour * 60 + at.minute, "m")
    local = pd.DatetimeIndex(wall.astype("datetime64[ns]"))
    return local.tz_localize(ET, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")


def _days(dates: pd.DatetimeIndex) -> np.ndarray:
    """Calendar dates (datetime64[D]) of an index, read in its own timezone."""
    naive = dates.tz_localize(None) if dates.tz is not None else dates
    return naive.values.astype("datetime64[D]")


# Where the ``fomc`` anchor finds the FOMC announcement instants (UTC, sorted): installed
# by `data.events` when it is imported (it reads the bundled FOMC tables, corrected). This
# module cannot import data.events, which imports it; importing `data` imports both.
_ANNOUNCEMENTS: dict[str, Callable[[], pd.DatetimeIndex]] = {}


def set_fomc_announcements(provider: Callable[[], pd.DatetimeIndex]) -> None:
    """Install the calendar of FOMC announcement instants the ``fomc`` anchor uses."""
    _ANNOUNCEMENTS["fomc"] = provider


def _announced(days: np.ndarray) -> pd.DatetimeIndex:
    """Latest FOMC announcement from the start of d - 1 to the end of d, else d 00:00 ET."""
    provider = _ANNOUNCEMENTS.get("fomc")
    if provider is None:
        raise RuntimeError("no FOMC announcement calendar installed: import data.events first")
    releases = provider()
    start = _at_eastern(days, time(0, 0))
    eve = _at_eastern(days - np.timedelta64(1, "D"), time(0, 0))
    pos = releases.searchsorted(_at_eastern(days + np.timedelta64(1, "D"), time(0, 0))) - 1
    latest = releases[pos.clip(0)]
    found = (pos >= 0) & np.asarray(latest >= eve)
    return pd.DatetimeIndex(np.where(found, latest.asi8, start.asi8), tz="UTC")


def known_at(dates: pd.DatetimeIndex, lag: PublicationLag) -> pd.DatetimeIndex:
    """Publication instants (UTC) of observations dated ``dates`` under ``lag``."""
    days = _days(pd.DatetimeIndex(dates))
    if lag.anchor == "fomc":
        return _announced(days).as_unit("ns")
    if lag.anchor == "month_end":
        days = (days.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    if lag.days:
        days = days + np.timedelta64(lag.days, "D")
    if lag.business_days:
        # roll back to a business day, then step forward: Saturday + 1 -> Monday
        days = np.busday_offset(days, lag.business_days, roll="backward", holidays=_holidays())
    return _at_eastern(days, lag.at).as_unit("ns")
