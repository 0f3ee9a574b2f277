"""Discount-rate trend: the 10-year Treasury yield and its change, as published per bar.

Thesis (the articles): AI capex drains liquidity like reverse QE and capital gets
scarce; a rising long yield (the discount rate of long-duration assets) is the price
of that scarcity. Units: the yield in percent, its change in basis points. Point in
time: the yield enters a bar once published by that bar's close (`data.publication`:
Treasury yields on the day, 16:00 ET); a value older than ``max_age_days`` counts as
missing. Source: FRED DGS10 (or another yield series by name).
"""

from __future__ import annotations

import pandas as pd

from data.market import MarketData
from signals._align import bars, published_on, value_days_ago
from signals.registry import register


@register("yield_trend", "10-year Treasury yield (percent) and its change over N days (bp)")
def yield_trend(
    md: MarketData,
    *,
    series: str = "DGS10",
    days: int = 91,
    max_age_days: int = 7,
    symbol: str = "SPY",
) -> pd.DataFrame:
    """Yield ``series`` on the bars of ``symbol`` and its change over ``days`` calendar days.

    Columns: ``yield`` (percent, the latest value published by the bar's close, NaN once
    older than ``max_age_days``) and ``change_bp`` (``yield`` minus the value seen at the
    last bar ``days`` calendar days earlier, in basis points; positive = yields rising).
    The same trend as ``capital_scarcity``'s ``yield_z`` before its z-scoring.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of calendar days >= 1, got {days!r}")
    if isinstance(max_age_days, bool) or not isinstance(max_age_days, int) or max_age_days < 0:
        raise ValueError(f"max_age_days must be a whole number >= 0, got {max_age_days!r}")
    if series not in md.macro:
        raise ValueError(f"unknown yield series {series!r}; bundled yields: DGS1MO..DGS30")
    index, calendar = bars(md, symbol)
    seen = published_on(md, series, index, calendar)
    fresh = (index - pd.DatetimeIndex(seen["observed"])).days <= max_age_days
    level = seen["value"].where(fresh)
    change = (level - value_days_ago(level, days)) * 100.0
    return pd.DataFrame({"yield": level, "change_bp": change}, index=index)
