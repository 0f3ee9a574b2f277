"""Backtest configuration shared by the event simulator and the vectorbt path."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from data.calendars import calendar_kind, infer_calendar, periods_per_year
from engine.bars import Bars
from engine.costs import CostModel


class BacktestConfig(BaseModel):
    """How orders are filled and paid for.

    ``fill``: "next_open" (a weight decided at t's close trades at t+1's open) or
    "close" (at t's own close). ``borrow_rate`` is an annual fraction of short
    notional, charged per bar as rate / periods_per_year. ``drift_threshold``
    skips rebalancing an asset whose weight is within that distance of its target
    (event mode only). ``max_leverage`` caps gross exposure sum(|w|).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    init_cash: float = Field(100_000.0, gt=0)
    costs: CostModel = Field(default_factory=CostModel)
    fill: Literal["next_open", "close"] = "next_open"
    rebalance: Literal["on_change", "every_bar"] = "on_change"
    fractional: bool = True
    max_leverage: float = Field(1.0, gt=0, le=100)
    borrow_rate: float = Field(0.0, ge=0, le=1)
    drift_threshold: float = Field(0.0, ge=0, le=1)
    # the kind of calendar that sets periods per year (data.calendars.calendar_kind)
    calendar: Literal["sessions", "24/7"] | None = None


def resolve_calendar(config: BacktestConfig, bars: Bars | pd.DatetimeIndex) -> tuple[str, int]:
    """The run's calendar (given, or inferred from the bars) and its periods per year."""
    if config.calendar:
        cal: str = config.calendar
    elif isinstance(bars, pd.DatetimeIndex):
        cal = calendar_kind(infer_calendar(bars))
    else:
        cal = bars.inferred_calendar  # cached on the (immutable) bars
    return cal, periods_per_year(cal)
