"""Both simulators against an independent plain-Python reference on real SPY data.

Reference convention: SMA(10)/SMA(50) cross on close, signal at bar t, market
order at bar t+1's open, fee 0.1% of notional per side, all-in sizing
units = cash / (open * (1 + fee)), fractional units, initial cash 100,000.
"""

from __future__ import annotations

import pandas as pd
import pytest

from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.simulator import run_event
from engine.vector import run_vector
from strategies.registry import get_strategy

FEE = 0.001
CASH = 100_000.0


def reference_sma_cross(opens: list[float], closes: list[float], fast: int, slow: int):
    """Plain Python, no numpy: returns (equity at each close, fills [(bar, units, price, fee)])."""
    cash, units = CASH, 0.0
    pending: bool | None = None  # desired state decided at the previous close
    equity, fills = [], []
    for t in range(len(closes)):
        if pending is not None:
            if pending and units == 0.0:
                price = opens[t]
                units = cash / (price * (1 + FEE))
                fee = units * price * FEE
                fills.append((t, units, price, fee))
                cash = 0.0
            elif not pending and units > 0.0:
                price = opens[t]
                notional = units * price
                fee = notional * FEE
                fills.append((t, -units, price, fee))
                cash += notional - fee
                units = 0.0
        equity.append(cash + units * closes[t])
        if t + 1 >= slow:
            f = sum(closes[t + 1 - fast : t + 1]) / fast
            s = sum(closes[t + 1 - slow : t + 1]) / slow
            pending = f > s
        else:
            pending = False
    return equity, fills


@pytest.fixture(scope="module")
def spy_runs(spy: pd.DataFrame):
    bars = bars_from_frames({"SPY": spy})
    strat = get_strategy("sma_cross")({"fast": 10, "slow": 50})
    cfg = BacktestConfig(init_cash=CASH, costs=CostModel(fees=FEE))
    ref_eq, ref_fills = reference_sma_cross(spy["open"].tolist(), spy["close"].tolist(), 10, 50)
    return run_event(strat, bars, cfg), run_vector(strat, bars, cfg), ref_eq, ref_fills


@pytest.mark.parametrize("which", [0, 1], ids=["event", "vector"])
def test_equity_matches_reference(spy_runs, which):
    res, ref_eq = spy_runs[which], spy_runs[2]
    assert len(res.equity) == len(ref_eq)
    for got, want in zip(res.equity.tolist(), ref_eq, strict=True):
        assert got == pytest.approx(want, rel=1e-9)
    assert res.stats()["final_equity"] == pytest.approx(ref_eq[-1], rel=1e-9)


@pytest.mark.parametrize("which", [0, 1], ids=["event", "vector"])
def test_fills_match_reference(spy_runs, which):
    res, ref_fills = spy_runs[which], spy_runs[3]
    assert len(ref_fills) > 100  # a real, busy test: SMA(10/50) on 30+ years
    assert len(res.orders) == len(ref_fills)
    for row, (bar, units, price, fee) in zip(
        res.orders.itertuples(index=False), ref_fills, strict=True
    ):
        assert row.bar == bar
        assert row.size == pytest.approx(units, rel=1e-9)
        assert row.price == pytest.approx(price, rel=1e-12)
        assert row.fees == pytest.approx(fee, rel=1e-9)


def test_all_in_buy_spends_cash_exactly(spy_runs):
    res = spy_runs[0]
    first = res.orders.iloc[0]
    assert first["size"] * first["price"] + first["fees"] == pytest.approx(CASH, rel=1e-12)
    assert res.cash.iloc[int(first["bar"])] == pytest.approx(0.0, abs=1e-6)


def test_trades_agree_between_engines(spy_runs):
    ev, vec = spy_runs[0], spy_runs[1]
    pd.testing.assert_frame_equal(ev.trades, vec.trades, rtol=1e-9)
    assert ev.stats()["n_trades"] == len(spy_runs[3]) // 2 + len(spy_runs[3]) % 2
