"""Parameter sweeps through vectorbt: one column per parameter set, in chunks.

For a single-asset strategy, each parameter set becomes one independent
vectorbt column (own cash, no sharing between columns), run with the same
execution plan conventions as ``engine.vector`` (targets from
``engine.targets``, next-open fill and valuation prices, fees, slippage,
``min_size=0``). Prices are passed once as (n, 1) arrays and broadcast, so memory
is O(bars x chunk), not O(bars x combos).
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig, resolve_calendar
from engine.plan import build_plan, strategy_weights
from engine.stats import performance
from engine.targets import order_targets
from engine.vector import check_expressible, order_conventions
from strategies.registry import get_strategy


def sweep_vector(
    strategy: str,
    bars: Bars,
    grid: Sequence[Mapping[str, Any]],
    config: BacktestConfig | None = None,
    *,
    chunk: int = 256,
) -> pd.DataFrame:
    """One row per parameter set: the parameters, final_equity, total_return, sharpe,
    max_drawdown, n_orders. Invalid parameter sets raise (pydantic) before any run."""
    import vectorbt as vbt

    config = config or BacktestConfig()
    if bars.n_assets != 1:
        raise ValueError("sweep_vector runs single-asset strategies; got several symbols")
    if not grid:
        raise ValueError("empty parameter grid")
    cls = get_strategy(strategy)
    strategies = [cls(cls.Params.model_validate(dict(p))) for p in grid]
    check_expressible(config, strategies[0], bars)
    _, ppy = resolve_calendar(config, bars)
    base = build_plan(np.zeros((bars.n_bars, 1)), bars, config)  # prices are shared
    rows: list[dict[str, Any]] = []
    for start in range(0, len(strategies), chunk):
        part = strategies[start : start + chunk]
        w = np.column_stack([strategy_weights(s, bars)[:, 0] for s in part])
        w = np.clip(w, -config.max_leverage, config.max_leverage)  # one asset: gross = |w|
        tradable = np.repeat(bars.tradable, w.shape[1], axis=1)
        target = order_targets(w, tradable, config.fill, config.rebalance)
        pf = vbt.Portfolio.from_orders(
            close=pd.DataFrame(base.close_val).bfill().to_numpy(),
            size=target,
            cash_sharing=False,
            max_orders=int(np.count_nonzero(~np.isnan(target))) + 1,  # default is n x k
            **order_conventions(base, config),
        )
        value = np.asarray(pf.value(), dtype=np.float64).reshape(bars.n_bars, len(part))
        rec = pf.orders.values
        rec = rec[rec["size"] != 0.0]
        counts = np.bincount(rec["col"], minlength=len(part))
        for k, strat in enumerate(part):
            perf = performance(value[:, k], config.init_cash, ppy)
            rows.append(
                {
                    **strat.params.model_dump(),
                    "final_equity": perf["final_equity"],
                    "total_return": perf["total_return"],
                    "sharpe": perf["sharpe"],
                    "max_drawdown": perf["max_drawdown"],
                    "n_orders": int(counts[k]),
                }
            )
        del pf, value, rec  # vectorbt objects hold cycles: free each chunk now
        gc.collect()
    return pd.DataFrame(rows)
