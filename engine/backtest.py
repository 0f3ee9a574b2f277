"""One call for notebooks: ``backtest("sma_cross", prices, fast=10, slow=50, fees=0.001)``.

Accepts a strategy name or instance, OHLC frames (one DataFrame or a mapping
symbol -> DataFrame) and runs the event engine (default) or the vectorbt path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from engine.bars import Bars, bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.result import Result
from engine.simulator import run_event
from engine.vector import run_vector
from strategies.base import Strategy, get_strategy


def backtest(
    strategy: str | Strategy,
    prices: pd.DataFrame | Mapping[str, pd.DataFrame] | Bars,
    *,
    mode: Literal["event", "vector"] = "event",
    fees: float = 0.0,
    config: BacktestConfig | None = None,
    tradable: pd.DataFrame | None = None,
    **params: Any,
) -> Result:
    """Run ``strategy`` on ``prices``; extra keyword arguments are strategy parameters.

    ``fees`` is a fraction of notional (0.001 = 10 bps) and is ignored when a full
    ``config`` is given.
    """
    if isinstance(strategy, str):
        strategy = get_strategy(strategy)(params)
    elif params:
        raise ValueError("pass parameters either to the strategy instance or as keywords")
    bars = prices if isinstance(prices, Bars) else bars_from_frames(prices, tradable=tradable)
    config = config or BacktestConfig(costs=CostModel(fees=fees))
    if mode == "event":
        return run_event(strategy, bars, config)
    if mode == "vector":
        return run_vector(strategy, bars, config)
    raise ValueError(f"mode must be 'event' or 'vector', got {mode!r}")
