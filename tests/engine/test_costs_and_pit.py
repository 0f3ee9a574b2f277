"""Cost model numbers, and point in time for the whole event engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import PROPERTY, random_bars
from hypothesis import given
from hypothesis import strategies as st

from engine.bars import Bars
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.simulator import run_event
from strategies.registry import get_strategy


def test_vol_slippage_uses_volatility_known_at_previous_close():
    close = np.array([[100.0], [101.0], [99.0], [102.0], [103.0], [101.0]])
    cm = CostModel(slippage=0.001, vol_slippage=0.5, vol_window=3)
    s = cm.slippage_matrix(close)
    r = close[1:, 0] / close[:-1, 0] - 1
    sigma_at_3 = np.std(r[0:3], ddof=1)  # returns of bars 1..3, known at bar 3's close
    assert s[4, 0] == pytest.approx(0.001 + 0.5 * sigma_at_3)
    assert s[3, 0] == pytest.approx(0.001)  # only two returns known at bar 2's close
    assert CostModel.from_bps(10, 5).fees == pytest.approx(0.001)
    with pytest.raises(ValueError):
        CostModel(fees=-0.1)


def truncate(bars: Bars, t: int) -> Bars:
    return Bars(
        index=bars.index[: t + 1],
        symbols=bars.symbols,
        open=bars.open[: t + 1],
        high=bars.high[: t + 1],
        low=bars.low[: t + 1],
        close=bars.close[: t + 1],
        tradable=bars.tradable[: t + 1],
    )


@PROPERTY
@given(
    seed=st.integers(0, 5000), t=st.integers(20, 150), fill=st.sampled_from(["next_open", "close"])
)
def test_event_engine_is_point_in_time(seed, t, fill):
    bars = random_bars(seed, 160, 2, closed_frac=0.2)
    strat = get_strategy("sma_cross")({"fast": 3, "slow": 10})
    cfg = BacktestConfig(costs=CostModel(fees=0.001), fill=fill)
    full = run_event(strat, bars, cfg)
    part = run_event(strat, truncate(bars, t), cfg)
    pd.testing.assert_series_equal(part.equity, full.equity.iloc[: t + 1])
    keep = full.orders[full.orders["bar"] <= t].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.orders, keep)
