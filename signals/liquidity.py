"""Liquidity drain, the "reverse QE" thesis: when net liquidity leaves the system and
capital gets scarce (rising long yields, credit lagging Treasuries), speculative
long-duration assets (crypto first) suffer while near-term cash-flow names hold up.

Net liquidity = Fed balance sheet (WALCL) - Treasury General Account (WTREGEN)
- overnight reverse repo (RRPONTSYD), in **millions of USD** (RRPONTSYD is published
in billions, hence ``1000 *``). Point in time: each component enters a bar only once
published by that bar's close (`data.publication`): WALCL (the Wednesday level) and
WTREGEN (the average of the week ending Wednesday) come out with the H.4.1 on Thursday
16:30 ET (so first usable on Friday's bar), RRPONTSYD is taken
from the next business day 09:00 ET, DGS10 at the day's close, ETF closes at their
session close. Sources: FRED WALCL, WTREGEN, RRPONTSYD, DGS10; HYG, LQD, IEF, TLT.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.market import MarketData
from signals._align import (
    bars,
    close_on,
    published_on,
    rolling_zscore,
    total_return_field,
    value_days_ago,
)
from signals.registry import register

# Before this date the Fed ran reverse repos only as occasional test operations: a day
# without an operation had zero take-up, so a stale value then means 0, not "unknown".
RRP_DAILY_SINCE = pd.Timestamp("2013-09-23", tz="UTC")
_MAX_AGE_DAYS = {"WALCL": 14, "WTREGEN": 14, "RRPONTSYD": 10}


def _component(md: MarketData, name: str, index: pd.DatetimeIndex, calendar: str) -> pd.Series:
    """A component as published by each bar's close; NaN once stale (RRP: 0 before 2013-09)."""
    seen = published_on(md, name, index, calendar)
    age = (index - pd.DatetimeIndex(seen["observed"])).days
    stale = ~(age <= _MAX_AGE_DAYS[name])  # also true where nothing is published yet
    value = seen["value"].where(~stale)
    if name == "RRPONTSYD":
        value = value.where(~stale | (index >= RRP_DAILY_SINCE), 0.0)
    return value


@register("net_liquidity", "Fed balance sheet - TGA - reverse repo (USD mn) as published per bar")
def net_liquidity(md: MarketData, *, symbol: str = "SPY") -> pd.DataFrame:
    """Net liquidity on the bars of ``symbol``, each component as last published by the close.

    Columns ``walcl``, ``tga``, ``rrp`` and ``net_liquidity``, all in millions of USD.
    """
    index, calendar = bars(md, symbol)
    walcl = _component(md, "WALCL", index, calendar)
    tga = _component(md, "WTREGEN", index, calendar)
    rrp = 1000.0 * _component(md, "RRPONTSYD", index, calendar)
    out = pd.DataFrame({"walcl": walcl, "tga": tga, "rrp": rrp}, index=index)
    out["net_liquidity"] = out["walcl"] - out["tga"] - out["rrp"]
    return out


@register("net_liquidity_weekly", "Net liquidity (USD mn) per H.4.1 Wednesday with its known_at")
def net_liquidity_weekly(md: MarketData) -> pd.DataFrame:
    """Net liquidity as of each H.4.1 Wednesday, one consistent snapshot per week.

    WALCL of the Wednesday and WTREGEN of the week ending that Wednesday (both from
    the H.4.1), RRPONTSYD of the Wednesday (or the latest
    operation in the week before it; 0 before daily operations began in 2013-09).
    ``known_at`` is the latest publication among the three (normally Thursday 16:30 ET).
    Units: millions of USD.
    """
    walcl, tga = md.macro["WALCL"], md.macro["WTREGEN"]
    weeks = walcl.index.intersection(tga.index)
    rrp = md.macro["RRPONTSYD"]
    pos = rrp.index.searchsorted(weeks, side="right") - 1
    take = pos.clip(0)
    fresh = (pos >= 0) & ((weeks - rrp.index[take]).days <= 7)
    rrp_value = np.where(fresh, rrp["value"].to_numpy()[take], np.nan)
    rrp_value = np.where(~fresh & (weeks < RRP_DAILY_SINCE), 0.0, rrp_value)
    rrp_known = pd.Series(rrp["known_at"].to_numpy()[take], index=weeks).where(fresh)
    out = pd.DataFrame(
        {
            "walcl": walcl.loc[weeks, "value"],
            "tga": tga.loc[weeks, "value"],
            "rrp": 1000.0 * rrp_value,
        },
        index=weeks,
    )
    out["net_liquidity"] = out["walcl"] - out["tga"] - out["rrp"]
    known = pd.concat(
        [walcl.loc[weeks, "known_at"], tga.loc[weeks, "known_at"], rrp_known], axis=1
    ).max(axis=1)
    out["known_at"] = known
    return out


@register("liquidity_drain", "4- and 13-week change of net liquidity (USD mn) and its z-scores")
def liquidity_drain(
    md: MarketData,
    *,
    symbol: str = "SPY",
    weeks: tuple[int, ...] = (4, 13),
    z_days: int = 3 * 365,
    z_min_periods: int = 250,
) -> pd.DataFrame:
    """Change of net liquidity over each of ``weeks`` and its trailing z-score.

    ``change_{w}w`` (millions of USD) compares the value seen at a bar with the value seen
    at the last bar ``7 * w`` calendar days earlier; ``z_{w}w`` standardises that change
    against the trailing ``z_days`` calendar days. Negative = liquidity draining.
    """
    nl = net_liquidity(md, symbol=symbol)["net_liquidity"]
    out = pd.DataFrame({"net_liquidity": nl})
    for w in weeks:
        change = nl - value_days_ago(nl, 7 * w)
        out[f"change_{w}w"] = change
        out[f"z_{w}w"] = rolling_zscore(change, z_days, z_min_periods)
    return out


def credit_relative_return(
    md: MarketData, index: pd.DatetimeIndex, calendar: str, days: int
) -> pd.Series:
    """Log total return of credit (HYG, LQD) minus Treasuries (IEF, TLT) over ``days`` days.

    Equal-weight baskets, closes as known at each bar; negative = credit lagging
    Treasuries (spreads widening).
    """
    logs = {
        sym: np.log(close_on(md, sym, index, calendar, field=total_return_field(md, sym)))
        for sym in ("HYG", "LQD", "IEF", "TLT")
    }
    credit = (logs["HYG"] + logs["LQD"]) / 2 - (logs["IEF"] + logs["TLT"]) / 2
    return credit - value_days_ago(credit, days)


@register("capital_scarcity", "z-score composite of liquidity drain, 10y yield trend, credit lag")
def capital_scarcity(
    md: MarketData,
    *,
    symbol: str = "SPY",
    drain_weeks: int = 13,
    trend_days: int = 91,
    z_days: int = 3 * 365,
    z_min_periods: int = 250,
) -> pd.DataFrame:
    """Capital-scarcity composite: mean of three trailing z-scores, positive = scarce.

    * ``drain_z``: minus the z-score of the ``drain_weeks`` net-liquidity change;
    * ``yield_z``: z-score of the ``trend_days`` change of the 10-year yield (DGS10,
      percentage points, known at the day's close);
    * ``credit_z``: minus the z-score of `credit_relative_return` over ``trend_days``.

    ``composite`` is NaN where any component is (HYG starts 2007-04).
    """
    index, calendar = bars(md, symbol)
    drain = liquidity_drain(
        md, symbol=symbol, weeks=(drain_weeks,), z_days=z_days, z_min_periods=z_min_periods
    )
    y10 = published_on(md, "DGS10", index, calendar)
    fresh = (index - pd.DatetimeIndex(y10["observed"])).days <= 7
    y10 = y10["value"].where(fresh)
    trend = y10 - value_days_ago(y10, trend_days)
    credit = credit_relative_return(md, index, calendar, trend_days)
    out = pd.DataFrame(
        {
            "drain_z": -drain[f"z_{drain_weeks}w"],
            "yield_z": rolling_zscore(trend, z_days, z_min_periods),
            "credit_z": -rolling_zscore(credit, z_days, z_min_periods),
        },
        index=index,
    )
    out["composite"] = out.mean(axis=1, skipna=False)
    return out
