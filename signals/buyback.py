"""Buyback blackout calendar: corporate buybacks are the largest net buyer of US equities,
so the market tends to be firmer while most S&P 500 companies can buy back stock (open
window) and softer while many are in their pre-earnings blackout.

Window rule (METHODS.md, "Buyback blackout windows"): a company's window closes
``days_before_quarter_end`` calendar days before the quarter end its release reports on
and reopens on the ``sessions_after_release``-th NYSE session after the earnings release.
The quarter a release reports on is taken as the **calendar quarter end strictly before
the release date** (a release on 2023-02-02 reports on 2022-12-31). That is exact for
calendar fiscal years and close for most others (AAPL's fiscal quarters end on the last
Saturday of Dec/Mar/Jun/Sep); companies whose fiscal quarters end a month or two after
the calendar quarter (NVDA, ORCL, retailers) get a window that starts too early.

Point in time: the release date is the 8-K Item 2.02 filing date, known at the end of
the filing day in New York (``known_at``), so it is first usable on the next session.
Until a release is known the window stays open-ended (the company is in blackout until
it files), capped at ``max_days_after_quarter_end`` calendar days after the quarter end.
S&P 500 membership is known from each company's add date.

Source: bundled ``earnings_dates`` (8-K 2.02 filing dates, 2003-07..2025-11) and
``sp500_constituents`` (today's members with their add date). Survivorship caveat: both
tables cover today's members only, so past shares are over the survivors that were
already in the index, never over the index as it really was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.calendars import exchange_sessions, session_close
from data.market import MarketData
from signals._align import bars
from signals.registry import register

# Constituent symbol -> ticker of its earnings history (renamed tickers; share classes
# of one company map to the class that carries the earnings dates).
TICKER_ALIASES = {
    "BNY": "BK",  # BNY Mellon, ticker BK until 2024
    "MRSH": "MMC",  # Marsh McLennan
    "FISV": "FI",  # Fiserv
    "PSKY": "PARA",  # Paramount Skydance, history of Paramount Global
    "GOOGL": "GOOG",
    "FOXA": "FOX",
    "NWS": "NWSA",
}
YEAR_DAYS = 364  # the same weekday a year later
_DAY = np.timedelta64(1, "D")


def _check(**params: int) -> None:
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if params.get("max_days_after_quarter_end", 1) < 1:
        raise ValueError("max_days_after_quarter_end must be at least 1")


def _dates(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC timestamps (00:00 of a date) as ``datetime64[D]``."""
    return pd.DatetimeIndex(ts).tz_convert(None).values.astype("datetime64[D]")


def _quarter_of(days: np.ndarray) -> np.ndarray:
    """Quarter ordinal (quarters since 1970Q1) of each date."""
    months = days.astype("datetime64[M]").astype(np.int64)
    return months // 3


def _quarter_end(quarter: np.ndarray) -> np.ndarray:
    """Last calendar day of each quarter ordinal."""
    return (np.asarray(quarter) * 3 + 3).astype("datetime64[M]").astype("datetime64[D]") - _DAY


def _releases(md: MarketData) -> pd.DataFrame:
    """First release per (ticker, reported quarter): the calendar quarter before its date."""
    ev = md.event("earnings_dates").sort_values(["ticker", "date"], kind="stable")
    out = pd.DataFrame(
        {
            "ticker": ev["ticker"].to_numpy(),
            "quarter": _quarter_of(_dates(ev["date"])) - 1,
            "release": _dates(ev["date"]),
            "known_at": ev["known_at"].to_numpy(),
        }
    )
    return out.drop_duplicates(["ticker", "quarter"], keep="first").reset_index(drop=True)


def _windows(md: MarketData, days: int, last_quarter: pd.Series | int) -> pd.DataFrame:
    """One row per (ticker, quarter) from the ticker's first reported quarter through
    ``last_quarter``: the real release (NaT if none) and its projection.

    The projection of a quarter's release is the latest earlier release of the same
    quarter of the year plus 364 days per year between them; without one, the quarter end
    plus the median lag (release date minus quarter end) of the last four releases filed
    before the window opens; never before the day after the quarter end. Both use only
    releases filed before the window opens, so they are point in time."""
    real = _releases(md)
    first = real.groupby("ticker", sort=True)["quarter"].min()
    stop = (
        pd.Series(last_quarter, index=first.index)
        if isinstance(last_quarter, int)
        else last_quarter.reindex(first.index)
    )
    counts = np.maximum(stop.to_numpy() - first.to_numpy() + 1, 0)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = pd.DataFrame(
        {
            "ticker": np.repeat(first.index.to_numpy(), counts),
            "quarter": np.repeat(first.to_numpy(), counts) + offset,
        }
    )
    win = grid.merge(real, on=["ticker", "quarter"], how="left")
    win["release"] = win["release"].to_numpy().astype("datetime64[D]")
    q_end = _quarter_end(win["quarter"].to_numpy())
    # latest earlier real release of the same quarter of the year
    season = [win["ticker"], win["quarter"] % 4]
    src_q = win["quarter"].where(win["release"].notna())
    prev_release = win["release"].groupby(season).shift(1)
    prev_release = prev_release.groupby(season).ffill()
    prev_q = src_q.groupby(season).shift(1).groupby(season).ffill()
    years = ((win["quarter"] - prev_q) // 4).to_numpy()
    by_year = prev_release.to_numpy().astype("datetime64[D]") + (
        np.nan_to_num(years, nan=0).astype(np.int64) * YEAR_DAYS
    ).astype("timedelta64[D]")
    # median lag of the last four releases filed before the window opens
    lags = real.assign(lag=(real["release"].to_numpy() - _quarter_end(real["quarter"].to_numpy())))
    lags["lag"] = lags["lag"].dt.days.astype(float)
    lags["median"] = lags.groupby("ticker")["lag"].transform(
        lambda x: x.rolling(4, min_periods=1).median()
    )
    opens = q_end - np.timedelta64(days, "D")
    left = pd.DataFrame({"row": np.arange(len(win)), "ticker": win["ticker"], "open": opens})
    left["open"] = pd.to_datetime(left["open"])
    right = lags[["ticker", "release", "median"]].copy()
    right["release"] = pd.to_datetime(right["release"].to_numpy().astype("datetime64[D]"))
    med = pd.merge_asof(
        left.sort_values("open"),
        right.sort_values("release"),
        left_on="open",
        right_on="release",
        by="ticker",
        allow_exact_matches=False,
    ).sort_values("row")["median"]
    by_lag = q_end + np.nan_to_num(med.round().to_numpy(), nan=0).astype("timedelta64[D]")
    by_lag = np.where(med.isna().to_numpy(), np.datetime64("NaT", "D"), by_lag)
    guess = np.where(np.isnat(by_year), by_lag, by_year).astype("datetime64[D]")
    win["projection"] = np.where(np.isnat(guess), guess, np.maximum(guess, q_end + _DAY))
    return win[["ticker", "quarter", "release", "known_at", "projection"]]


def _session_after(days: np.ndarray, n: int) -> np.ndarray:
    """The ``n``-th NYSE session after each date (n = 0: the first session on or after)."""
    sessions = _dates(exchange_sessions("XNYS", "1990-01-02", "2035-12-31"))
    pos = np.searchsorted(sessions, days, side="left" if n == 0 else "right") + max(n - 1, 0)
    out = sessions[np.minimum(pos, len(sessions) - 1)]
    return np.where(np.isnat(days), np.datetime64("NaT", "D"), out)


@register("blackout_windows", "Buyback blackout windows per company from 8-K earnings dates")
def blackout_windows(
    md: MarketData,
    *,
    days_before_quarter_end: int = 14,
    sessions_after_release: int = 2,
    max_days_after_quarter_end: int = 90,
    project_quarters: int = 4,
) -> pd.DataFrame:
    """Blackout windows per company: one row per release, then ``project_quarters``
    projected rows after the company's last known release.

    Columns: ``ticker``; ``quarter_end`` (calendar quarter end before the release);
    ``start`` = ``quarter_end - days_before_quarter_end`` calendar days, the first day of
    blackout; ``end`` = the session the window reopens (exclusive), the
    ``sessions_after_release``-th NYSE session after ``release_date``, capped at the first
    session after ``quarter_end + max_days_after_quarter_end``; ``release_date``;
    ``known_at`` (filing known; for projected rows, when the projection could be made);
    ``projected`` (release date projected: the latest release of the same quarter of
    the year + 364 days per year, else the quarter end + the median lag of the last four
    releases; see `_windows`).
    Quarters without a release before the last one are left out. Dates are 00:00 UTC.
    """
    _check(
        days_before_quarter_end=days_before_quarter_end,
        sessions_after_release=sessions_after_release,
        max_days_after_quarter_end=max_days_after_quarter_end,
        project_quarters=project_quarters,
    )
    last = _releases(md).groupby("ticker")["quarter"].max()
    win = _windows(md, days_before_quarter_end, last + project_quarters)
    win = win[win["release"].notna() | (win["quarter"] > win["ticker"].map(last))].copy()
    win["projected"] = win["release"].isna()
    release = np.where(win["projected"], win["projection"], win["release"]).astype("datetime64[D]")
    q_end = _quarter_end(win["quarter"].to_numpy())
    cap = _session_after(q_end + np.timedelta64(max_days_after_quarter_end, "D"), 1)
    end = np.minimum(_session_after(release, sessions_after_release), cap)
    last_known = win.groupby("ticker")["known_at"].transform("max")
    out = pd.DataFrame(
        {
            "ticker": win["ticker"].to_numpy(),
            "quarter_end": q_end,
            "start": q_end - np.timedelta64(days_before_quarter_end, "D"),
            "end": end,
            "release_date": release,
            "known_at": win["known_at"].where(~win["projected"], last_known).to_numpy(),
            "projected": win["projected"].to_numpy(),
        }
    )
    for col in ("quarter_end", "start", "end", "release_date"):
        out[col] = pd.to_datetime(out[col]).dt.tz_localize("UTC")
    return out.reset_index(drop=True)


def _members(md: MarketData, tickers: set[str]) -> pd.DataFrame:
    """S&P 500 members by earnings ticker: known from the earliest add date of its lines."""
    cons = md.event("sp500_constituents")
    ticker = cons["Symbol"].map(lambda s: TICKER_ALIASES.get(s, s))
    frame = pd.DataFrame({"ticker": ticker.to_numpy(), "known_at": cons["known_at"].to_numpy()})
    frame = frame.groupby("ticker", sort=True)["known_at"].min().reset_index()
    frame["covered"] = frame["ticker"].isin(tickers)
    return frame


@register("blackout_share", "Share of S&P 500 members in buyback blackout per session (0-1)")
def blackout_share(
    md: MarketData,
    *,
    symbol: str = "SPY",
    days_before_quarter_end: int = 14,
    sessions_after_release: int = 2,
    max_days_after_quarter_end: int = 90,
) -> pd.DataFrame:
    """Share of S&P 500 members in buyback blackout at each bar of ``symbol``.

    A company counts from the bar its index membership is known (add date) and once its
    first earnings filing is known (before that it is ``uncovered``). Per quarter its
    blackout runs from ``days_before_quarter_end`` days before the quarter end until the
    window reopens ``sessions_after_release`` sessions after the release, but never before
    the release is known at the bar's close (end of the filing day), and at most
    ``max_days_after_quarter_end`` days after the quarter end.

    Columns: ``share`` (in [0, 1], NaN with no covered member) and ``blackout``: members
    in blackout under that strict rule; ``share_projected`` / ``blackout_projected``: a
    release not yet known is replaced by its projection (year-earlier release + 364
    days, from data filed before the window opened), so a late filer counts as reopened
    once its projected window has passed. Past the end of the earnings data (2025-11-20)
    the strict share drifts to 1, the projected one stays usable. ``members``: covered
    members; ``uncovered``: members without any known earnings date (BRK.B, BF.B, recent
    additions).
    """
    _check(
        days_before_quarter_end=days_before_quarter_end,
        sessions_after_release=sessions_after_release,
        max_days_after_quarter_end=max_days_after_quarter_end,
    )
    index, calendar = bars(md, symbol)
    closes = session_close(index, calendar)
    days = _dates(index)
    n = len(index)
    releases = _releases(md)
    members = _members(md, set(releases["ticker"]))
    member_from = closes.asi8[:, None] >= pd.DatetimeIndex(members["known_at"]).asi8[None, :]
    covered_from = releases.groupby("ticker")["known_at"].min()

    # every quarter whose window opens by the last bar
    ahead = days[-1:] + np.timedelta64(days_before_quarter_end, "D")
    win = _windows(md, days_before_quarter_end, int(_quarter_of(ahead)[0]) if n else -1)
    win = win[win["ticker"].isin(members["ticker"])]
    q_end = _quarter_end(win["quarter"].to_numpy())
    start = np.searchsorted(days, q_end - np.timedelta64(days_before_quarter_end, "D"), "left")
    cap = np.searchsorted(days, q_end + np.timedelta64(max_days_after_quarter_end, "D"), "right")
    known_at = pd.DatetimeIndex(win["known_at"])
    known = np.where(known_at.isna(), n, np.searchsorted(closes.asi8, known_at.asi8, side="left"))
    reopen = np.searchsorted(
        days, _session_after(win["release"].to_numpy(), sessions_after_release), "left"
    )
    reopen = np.where(win["release"].isna(), n, reopen)
    reopen_hat = np.searchsorted(
        days, _session_after(win["projection"].to_numpy(), sessions_after_release), "left"
    )
    reopen_hat = np.where(win["projection"].isna(), n, reopen_hat)

    company = members["ticker"].reset_index().set_index("ticker")["index"]
    row = company.loc[win["ticker"]].to_numpy()

    def in_blackout(intervals: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        diff = np.zeros((len(members), n + 1), dtype=np.int32)
        for lo, hi in intervals:
            ok = hi > lo
            np.add.at(diff, (row[ok], lo[ok]), 1)
            np.add.at(diff, (row[ok], hi[ok]), -1)
        return np.cumsum(diff[:, :n], axis=1).T > 0

    strict = in_blackout([(start, np.minimum(cap, np.maximum(known, reopen)))])
    projected = in_blackout(
        [
            (start, np.minimum.reduce([cap, known, reopen_hat])),
            (np.maximum(start, known), np.minimum(cap, reopen)),
        ]
    )
    covered_at = members["ticker"].map(covered_from)
    covered = member_from & (closes.asi8[:, None] >= pd.DatetimeIndex(covered_at).asi8[None, :])
    covered &= members["covered"].to_numpy()[None, :]
    count = covered.sum(axis=1)
    out = pd.DataFrame(index=index)
    for name, flags in (("", strict), ("_projected", projected)):
        hits = (flags & covered).sum(axis=1)
        out[f"share{name}"] = np.where(count > 0, hits / np.maximum(count, 1), np.nan)
        out[f"blackout{name}"] = hits
    out["members"] = count
    out["uncovered"] = (member_from & ~covered).sum(axis=1)
    return out[
        ["share", "blackout", "share_projected", "blackout_projected", "members", "uncovered"]
    ]
