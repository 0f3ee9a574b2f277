"""The vectorbt path: the same execution plan through ``vbt.Portfolio.from_order_func``.

vectorbt keeps the books; compiled callbacks (``engine.nb.vector``) decide from
vectorbt's own state which standing target to order at each bar, with the rules the
event loop uses (``engine.nb.standing``). Conventions match the event engine
exactly: ``TargetPercent`` of the group value, ``cash_sharing=True`` with one group,
sales before purchases (``sort_call_seq_nb``, as ``call_seq="auto"``), fill price =
next open (or close), valuation price = fill price of tradable assets and last close
of closed ones, same fees/slippage, partial buys shrink to spend the cash exactly,
all orders of a bar sized from the value before its first fill (``update_value=False``).

vectorbt quirks handled here (each pinned by a test in tests/engine/test_vector.py):
- its valuation price defaults to the order price; a closed market would then be
  valued at its last *fill* price, not its last close, so the callback sets it.
- with whole units a buy that cannot afford one unit is a *filled order of size 0*;
  it is recorded as rejected (the event engine rejects it). With ``fixed_fees > 0``
  such a phantom fill would still charge the fee, so whole units + fixed fees is
  refused here as not expressible. The phantom fill also makes vectorbt's
  open-position record divide 0 by 0, so it runs with ``fill_pos_record=False``.
- vectorbt's settings default ``min_size=1e-8`` silently rejects fills below 1e-8
  units (``MinSizeNotReached``), e.g. all-in on a very high-priced asset; the event
  engine has no minimum, so orders carry ``min_size=0``.
- a tz-aware DatetimeIndex makes every ``wrap`` convert it to Python Timestamps
  (seconds per call on 1M bars); we hand vectorbt a RangeIndex and re-attach dates.
- ``from_order_func`` compiles its simulator with our callbacks in every new process
  (numba cannot cache a function that takes functions): the first vector run of a
  process costs a few seconds.
- not expressible: explicit limit/stop orders, event hooks and borrow cost; those
  raise ``ValueError`` (use mode="event").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig
from engine.enums import order_dt
from engine.plan import ExecutionPlan, market_view, plan_run, strategy_weights
from engine.result import Result, assemble_result
from strategies.base import Strategy


def check_expressible(config: BacktestConfig, strategy: Strategy | None, bars: Bars) -> None:
    """Raise ``ValueError`` naming the feature that only the event engine supports."""
    if config.borrow_rate > 0:
        raise ValueError("borrow cost is event-mode only (vectorbt has no borrow fee)")
    if not config.fractional and config.costs.fixed_fees > 0:
        raise ValueError("whole units with fixed fees are event-mode only (vectorbt quirk)")
    if strategy is not None and len(strategy.event_bars(market_view(bars))) > 0:
        raise ValueError(f"strategy {strategy.name!r} uses event hooks; run it in event mode")


def vbt_portfolio(
    plan: ExecutionPlan, bars: Bars, config: BacktestConfig
) -> tuple[Any, np.ndarray]:
    """The ``vbt.Portfolio`` of a plan and its order records (``engine.enums.order_dt``)."""
    import vectorbt as vbt

    from engine.nb import vector as callbacks

    n, m = bars.n_bars, bars.n_assets
    # positions are zero before an asset's first bar, so back-filling only fills
    # values that multiply zero units. A RangeIndex, because vectorbt converts a
    # tz-aware DatetimeIndex to an object array of Timestamps on every wrap (slow).
    close = pd.DataFrame(plan.close_val, columns=list(bars.symbols)).bfill()
    granularity = np.nan if config.fractional else 1.0
    slippage = np.ascontiguousarray(np.broadcast_to(plan.slippage, (n, m)))
    costs = (config.costs.fees, config.costs.fixed_fees)
    capacity = len(plan.targets) + 2 * m
    while True:  # deterministic: a second run only when the first log ran out of room
        weight, pending = np.full(m, np.nan), np.zeros(m, dtype=np.bool_)
        fail_cash, size_out = np.full(m, -np.inf), np.full(m, np.nan)
        records = np.empty(capacity, dtype=order_dt)
        n_records = np.zeros(1, dtype=np.int64)
        pf = vbt.Portfolio.from_order_func(
            close,
            callbacks.order,
            plan.fill_price,
            slippage,
            pending,
            fail_cash,
            config.costs.fees,
            config.costs.fixed_fees,
            granularity,
            config.drift_threshold,
            pre_segment_func_nb=callbacks.pre_segment,
            pre_segment_args=(
                plan.target,
                plan.val_price,
                np.ascontiguousarray(bars.tradable),
                weight,
                pending,
                fail_cash,
                size_out,
                np.empty(m),
            ),
            post_order_func_nb=callbacks.post_order,
            post_order_args=(
                weight,
                pending,
                fail_cash,
                granularity,
                *costs,
                slippage,
                records,
                n_records,
            ),
            init_cash=config.init_cash,
            cash_sharing=True,
            group_by=True,
            update_value=False,
            ffill_val_price=True,
            # its open-position record divides by the position after a zero-size
            # "fill" (0/0: ZeroDivisionError under numba); flowbt builds its own trades
            fill_pos_record=False,
            freq="1D",
        )
        if n_records[0] <= capacity:
            return pf, records[: n_records[0]]
        capacity = int(n_records[0])


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
    pf, records = vbt_portfolio(plan, bars if grid is None else grid.bars, config)
    equity = np.asarray(pf.value(), dtype=np.float64).reshape(-1)
    cash = np.asarray(pf.cash(), dtype=np.float64).reshape(-1)
    pos = np.asarray(pf.assets(), dtype=np.float64).reshape(-1, bars.n_assets)
    if grid is not None:  # read back at the bar rows' closes (see engine.instants)
        equity, cash, pos, records = grid.read_back(equity, cash, pos, records)
    outputs = (equity, cash, pos, records)
    return assemble_result(
        bars,
        config,
        outputs,
        mode="vector",
        strategy=strategy,
        params=params_for_manifest,
        weights=weights,
    )
