"""The compiled sweep gives exactly what the event engine gives for each combination."""

from __future__ import annotations

import numpy as np
import pytest
from bt_helpers import random_bars

from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.simulator import run_event
from flowbt.optimize.sweep import sweep_sma_cross
from strategies.registry import get_strategy


def test_sweep_matches_event_engine_per_combo():
    bars = random_bars(21, 400, 1)
    table = sweep_sma_cross(
        bars.open[:, 0], bars.close[:, 0], [3, 5, 10], [8, 10, 30], fees=0.001, periods_per_year=365
    )
    assert len(table) == 3 * 3 - 2  # (10, 8) and (10, 10) are dropped
    for row in table.itertuples():
        strat = get_strategy("sma_cross")({"fast": row.fast, "slow": row.slow})
        res = run_event(strat, bars, BacktestConfig(costs=CostModel(fees=0.001)))
        s = res.stats()
        assert row.final_equity == pytest.approx(s["final_equity"], rel=1e-12)
        assert row.sharpe == pytest.approx(s["sharpe"], rel=1e-9)
        assert row.max_drawdown == pytest.approx(s["max_drawdown"], rel=1e-9)
        assert row.n_orders == s["n_orders"]


def test_sweep_rejects_empty_grid():
    with pytest.raises(ValueError, match="fast < slow"):
        sweep_sma_cross(np.ones(10), np.ones(10), [20], [10])


def test_vectorbt_path_matches_compiled_sweep():
    from engine.vector import run_vector

    bars = random_bars(22, 500, 1)
    compiled = sweep_sma_cross(
        bars.open[:, 0], bars.close[:, 0], [3, 8], [10, 40], fees=0.002, periods_per_year=365
    )
    cfg = BacktestConfig(costs=CostModel(fees=0.002))
    for row in compiled.itertuples():
        strat = get_strategy("sma_cross")({"fast": row.fast, "slow": row.slow})
        s = run_vector(strat, bars, cfg).stats()
        assert row.final_equity == pytest.approx(s["final_equity"], rel=1e-9)
        assert row.sharpe == pytest.approx(s["sharpe"], rel=1e-9)
        assert row.max_drawdown == pytest.approx(s["max_drawdown"], rel=1e-9)
        assert row.n_orders == s["n_orders"]
    assert compiled["n_orders"].min() > 0
