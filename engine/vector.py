"""The vectorbt path: the same execution plan through ``vbt.Portfolio.from_orders``.

Conventions match the event engine exactly: ``size_type="targetpercent"`` of the
group value, ``cash_sharing=True`` with one group, ``call_seq="auto"`` (sells
before buys), fill ``price`` = next open (or close), ``val_price`` = fill price
of tradable assets and last close of closed ones, same fees/slippage, partial
buys shrink to spend the cash exactly.

vectorbt quirks handled here (each pinned by a test in tests/engine/test_vector.py):
- ``val_price`` defaults to the order price and is forward-filled only when NaN;
  a closed market would then be valued at its last *fill* price, not its last
  close, so we pass ``val_price`` explicitly.
- targets of one row are all sized from the group value before the row's first
  fill (``update_value=False``); the event engine does the same.
- with whole units (``size_granularity=1``) a buy that cannot afford one unit is
  recorded as a *filled order of size 0*; we drop such records (the event engine
  never creates them). With ``fixed_fees > 0`` such a phantom fill would still
  charge the fee, so whole units + fixed fees is rejected here as not expressible.
- vectorbt's settings default ``min_size=1e-8`` silently rejects fills below 1e-8
  units (``MinSizeNotReached``), e.g. all-in on a very high-priced asset; the event
  engine has no minimum, so we pass ``min_size=0``.
- a tz-aware DatetimeIndex makes every ``wrap`` convert it to Python Timestamps
  (seconds per call on 1M bars); we hand vectorbt a RangeIndex and re-attach dates.
- not expressible in from_orders: explicit limit/stop orders, event hooks,
  borrow cost, drift thresholds; those raise ``ValueError`` (use mode="event").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig
from engine.enums import TARGET_ORDER_ID, fill_dt
from engine.plan import ExecutionPlan, market_view, plan_run, strategy_weights
from engine.result import Result, assemble_result
from strategies.base import Strategy


def check_expressible(config: BacktestConfig, strategy: Strategy | None, bars: Bars) -> None:
    """Raise ``ValueError`` naming the feature that only the event engine supports."""
    if config.borrow_rate > 0:
        raise ValueError("borrow cost is event-mode only (vectorbt has no borrow fee)")
    if config.drift_threshold > 0:
        raise ValueError("drift-threshold rebalancing is event-mode only")
    if not config.fractional and config.costs.fixed_fees > 0:
        raise ValueError("whole units with fixed fees are event-mode only (vectorbt quirk)")
    if strategy is not None and len(strategy.event_bars(market_view(bars))) > 0:
        raise ValueError(f"strategy {strategy.name!r} uses event hooks; run it in event mode")


def vbt_portfolio(plan: ExecutionPlan, bars: Bars, config: BacktestConfig) -> Any:
    """The ``vbt.Portfolio`` for a plan (exposed for tests and comparisons)."""
    import vectorbt as vbt

    cols = list(bars.symbols)
    # positions are zero before an asset's first bar, so back-filling only fills
    # values that multiply zero units. A RangeIndex, because vectorbt converts a
    # tz-aware DatetimeIndex to an object array of Timestamps on every wrap (slow).
    close = pd.DataFrame(plan.close_val, columns=cols).bfill()
    return vbt.Portfolio.from_orders(
        close=close,
        size=plan.target,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        **order_conventions(plan, config),
    )


def order_conventions(plan: ExecutionPlan, config: BacktestConfig) -> dict[str, Any]:
    """`from_orders` arguments that reproduce the event engine's conventions.

    Shared by the single run and the sweep so the parity-critical settings live in
    one place: ``min_size=0`` (vectorbt's default 1e-8 silently drops tiny fills) and
    an explicit ``val_price`` (its default values a closed market at the last fill).
    """
    return {
        "size_type": "targetpercent",
        "direction": "both",
        "price": plan.fill_price,
        "val_price": plan.val_price,
        "fees": config.costs.fees,
        "fixed_fees": config.costs.fixed_fees,
        "slippage": config.costs.slippage if config.costs.is_flat else plan.slippage,
        "min_size": 0.0,
        "size_granularity": np.nan if config.fractional else 1.0,
        "init_cash": config.init_cash,
        "ffill_val_price": True,
        "update_value": False,
        "freq": "1D",
    }


def run_vector(
    strategy: Strategy | None,
    bars: Bars,
    config: BacktestConfig | None = None,
    *,
    weights: np.ndarray | None = None,
    params_for_manifest: Mapping[str, Any] | None = None,
) -> Result:
    """Backtest ``strategy`` (or raw ``weights``) through vectorbt; same Result as event mode."""
    config = config or BacktestConfig()
    check_expressible(config, strategy, bars)
    if weights is None:
        if strategy is None:
            raise ValueError("give a strategy or weights")
        weights = strategy_weights(strategy, bars)
    plan, grid = plan_run(weights, bars, config)
    pf = vbt_portfolio(plan, bars if grid is None else grid.bars, config)
    rec = pf.orders.values
    rec = rec[rec["size"] != 0.0]  # quirk: zero-size "fills" with whole units
    records = np.empty(len(rec), dtype=fill_dt)
    records["bar"] = rec["idx"]
    records["col"] = rec["col"]
    records["size"] = np.where(rec["side"] == 0, 1.0, -1.0) * rec["size"]
    records["price"] = rec["price"]
    records["fees"] = rec["fees"]
    records["order_id"] = TARGET_ORDER_ID
    equity = np.asarray(pf.value(), dtype=np.float64).reshape(-1)
    cash = np.asarray(pf.cash(), dtype=np.float64).reshape(-1)
    pos = np.asarray(pf.assets(), dtype=np.float64).reshape(-1, bars.n_assets)
    if grid is not None:  # read back at the bar rows' closes (see engine.instants)
        equity, cash, pos, records = grid.read_back(equity, cash, pos, records)
    outputs = (equity, cash, pos, records)
    return assemble_result(
        bars, config, outputs, mode="vector", strategy=strategy, params=params_for_manifest
    )
