"""The arrays both simulators execute: targets, fill and valuation prices, slippage.

Built once from a strategy's weights so the event engine and the vectorbt path
see identical inputs. Valuation at fill time uses the fill price of a tradable
asset and the last known close of a closed one (never a future price).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig
from engine.instants import Grid, instant_grid, needs_grid
from engine.nb.prepare import plan_prices
from engine.targets import Targets, target_list
from strategies.base import MarketView, Strategy


@dataclass(frozen=True)
class ExecutionPlan:
    targets: Targets  # the target weights sent, as (bar, column, weight) in bar order
    fill_price: np.ndarray  # (n, m) NaN where the asset cannot trade
    val_price: np.ndarray  # (n, m) valuation price at fill time
    close_val: np.ndarray  # (n, m) last known close
    slippage: np.ndarray  # (n, m) fraction (a broadcast view when constant)

    @cached_property
    def target(self) -> np.ndarray:
        """(n, m) target weight to trade to at each fill bar, NaN = no order."""
        return self.targets.dense()


def market_view(bars: Bars) -> MarketView:
    return MarketView(
        open=bars.frame("open"),
        high=bars.frame("high"),
        low=bars.frame("low"),
        close=bars.frame("close"),
        signals=bars.signals,
    )


def strategy_weights(strategy: Strategy, bars: Bars) -> np.ndarray:
    """Run ``strategy.target_weights`` and align it to the bars (absent symbol = 0 weight)."""
    frame = strategy.target_weights(market_view(bars))
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{type(strategy).__name__}.target_weights must return a DataFrame")
    if not frame.index.equals(bars.index):
        raise ValueError("target_weights must be indexed like the input bars")
    unknown = set(map(str, frame.columns)) - set(bars.symbols)
    if unknown:
        raise ValueError(f"target_weights has unknown symbols {sorted(unknown)}")
    # symbols the strategy does not mention are flat (0); NaN inside stays "no decision"
    if [str(c) for c in frame.columns] != list(bars.symbols):
        frame = frame.reindex(columns=list(bars.symbols), fill_value=0.0)
    return frame.to_numpy(dtype=np.float64)


def _weights_for(weights: np.ndarray, bars: Bars) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (bars.n_bars, bars.n_assets):
        raise ValueError(f"weights shape {w.shape} != bars shape {(bars.n_bars, bars.n_assets)}")
    return w


def market_prices(
    bars: Bars, config: BacktestConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fill price, valuation price at fill time, last known close and slippage of
    ``bars``: the part of a plan that does not depend on the weights."""
    if bars.tradable.all():
        # every asset trades every bar: the prices are the bars themselves (no copies)
        fill_price = val_price = bars.open if config.fill == "next_open" else bars.close
        close_val = bars.close
    else:
        fill_price, val_price, close_val = plan_prices(
            np.ascontiguousarray(bars.open),
            np.ascontiguousarray(bars.close),
            np.ascontiguousarray(bars.tradable),
            config.fill == "next_open",
        )
    if config.costs.is_flat:
        # one number for every bar: a read-only broadcast view, not an (n, m) array
        slippage = np.broadcast_to(np.float64(config.costs.slippage), bars.close.shape)
    else:
        slippage = config.costs.slippage_matrix(bars.close)
    return fill_price, val_price, close_val, slippage


def build_plan(weights: np.ndarray, bars: Bars, config: BacktestConfig) -> ExecutionPlan:
    w = _weights_for(weights, bars)
    targets = target_list(w, bars.tradable, config.fill, config.rebalance, config.max_leverage)
    fill_price, val_price, close_val, slippage = market_prices(bars, config)
    return ExecutionPlan(
        targets=targets,
        fill_price=fill_price,
        val_price=val_price,
        close_val=close_val,
        slippage=slippage,
    )


def plan_run(
    weights: np.ndarray, bars: Bars, config: BacktestConfig
) -> tuple[ExecutionPlan, Grid | None]:
    """The plan both simulators execute, and the instant grid it is laid on (if any).

    Bars merged from several calendars with next-open fills run on their instant grid
    (``engine.instants``) so an order never fills at an open earlier than its decision.
    """
    w = _weights_for(weights, bars)
    if not needs_grid(bars, config):
        return build_plan(w, bars, config), None
    grid = instant_grid(bars)
    return build_plan(grid.weights(w), grid.bars, config), grid
