"""The vectorbt path: the quirks it works around, and what it refuses to run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import vectorbt as vbt
from bt_helpers import random_bars

from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.plan import build_plan
from engine.simulator import run_event
from engine.vector import run_vector, vbt_portfolio
from strategies.base import Strategy
from strategies.registry import get_strategy


def weekend_gap_bars():
    idx = pd.date_range("2024-01-04", periods=6, freq="D", tz="UTC")  # Thu..Tue
    btc_c = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    btc = pd.DataFrame(
        {"open": btc_c - 0.5, "high": btc_c + 1, "low": btc_c - 1, "close": btc_c}, index=idx
    )
    wk = idx[idx.dayofweek < 5]
    spy_c = np.array([100.0, 90.0, 120.0, 121.0])
    spy = pd.DataFrame(
        {"open": spy_c + 3, "high": spy_c + 5, "low": spy_c - 5, "close": spy_c}, index=wk
    )
    return bars_from_frames({"SPY": spy, "BTC": btc})


def test_quirk_val_price_default_values_closed_market_at_last_fill_price():
    bars = weekend_gap_bars()
    w = np.zeros((6, 2))
    w[0:, 0] = 0.5  # SPY bought Friday open (93)
    w[2:, 1] = 0.4  # BTC bought Sunday open, sized on a value that includes SPY
    cfg = BacktestConfig()
    plan = build_plan(w, bars, cfg)
    ours = run_vector(None, bars, cfg, weights=w)
    event = run_event(None, bars, cfg, weights=w)
    np.testing.assert_allclose(ours.equity, event.equity, rtol=1e-12)
    # vectorbt's default val_price (order price, forward-filled) values SPY on Sunday at
    # its Friday *open* fill (93) instead of the last known close (90): a different size
    naive = vbt.Portfolio.from_orders(
        close=pd.DataFrame(plan.close_val).bfill(),
        size=plan.target,
        size_type="targetpercent",
        price=plan.fill_price,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        init_cash=cfg.init_cash,
        freq="1D",
    )
    btc_naive = naive.orders.values[naive.orders.values["col"] == 1]["size"][0]
    btc_ours = ours.orders[ours.orders["symbol"] == "BTC"]["size"].iloc[0]
    assert btc_naive != pytest.approx(btc_ours, rel=1e-6)
    spy_units = event.positions["SPY"].iloc[1]
    value_sunday_open = event.cash.iloc[2] + spy_units * 90.0
    assert btc_ours == pytest.approx(0.4 * value_sunday_open / 12.5, rel=1e-12)


def test_quirk_whole_units_zero_size_fill_is_a_rejection():
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    df = pd.DataFrame({"open": 600.0, "high": 610.0, "low": 590.0, "close": 600.0}, index=idx)
    bars = bars_from_frames({"X": df})
    w = np.full((4, 1), 1.5)
    cfg = BacktestConfig(
        init_cash=1_000.0, fractional=False, rebalance="every_bar", max_leverage=2.0
    )
    # target 2.5 units: cash buys 1 at 600 (cut from 2), leaving 400; every later bar
    # asks for 1 more unit (floor of 1.5), cash shrinks it to 0.67 -> floor 0: vectorbt
    # "fills" size 0, which both engines record as a rejected order
    pf, _ = vbt_portfolio(build_plan(w, bars, cfg), bars, cfg)
    assert (pf.orders.values["size"] == 0).any()
    vec = run_vector(None, bars, cfg, weights=w)
    ev = run_event(None, bars, cfg, weights=w)
    assert len(vec.fills) == len(ev.fills) == 1
    for res in (vec, ev):
        assert res.orders["status"].tolist() == ["cut", "rejected", "rejected"]
        assert (res.orders["reason"] == "cash").all()
    np.testing.assert_allclose(vec.equity, ev.equity, rtol=1e-12)
    with pytest.raises(ValueError, match="whole units with fixed fees"):
        run_vector(
            None, bars, cfg.model_copy(update={"costs": CostModel(fixed_fees=1.0)}), weights=w
        )


@pytest.mark.parametrize(
    ("update", "match"),
    [({"borrow_rate": 0.05}, "borrow")],
)
def test_event_only_features_are_refused(update, match):
    bars = random_bars(1, 20, 1)
    with pytest.raises(ValueError, match=match):
        run_vector(None, bars, BacktestConfig(**update), weights=np.zeros((20, 1)))


def test_event_hook_strategies_are_refused():
    class Hooked(Strategy):
        name = "test_hooked"

        def target_weights(self, view):
            return view.close * 0.0

        def event_bars(self, view):
            return np.array([3])

    with pytest.raises(ValueError, match="event hooks; run it in event mode"):
        run_vector(Hooked(), random_bars(1, 20, 1), BacktestConfig())


def test_dates_reattached_and_trade_count_matches_vectorbt_positions():
    bars = random_bars(5, 300, 1)
    strat = get_strategy("sma_cross")({"fast": 5, "slow": 20})
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    res = run_vector(strat, bars, cfg)
    assert res.equity.index.equals(bars.index)
    pf, _ = vbt_portfolio(build_plan(res.positions.to_numpy() * 0 + 0, bars, cfg), bars, cfg)
    assert len(pf.orders.values) == 0  # flat weights: nothing traded
    from engine.plan import strategy_weights

    pf, _ = vbt_portfolio(build_plan(strategy_weights(strat, bars), bars, cfg), bars, cfg)
    assert int(pf.positions.count()) == res.stats()["n_trades"] > 3
    closed = pf.positions.closed.values
    ours = res.trades[res.trades["status"] == "closed"]
    np.testing.assert_allclose(np.sort(closed["pnl"]), np.sort(ours["pnl"]), rtol=1e-9)


def test_quirk_default_min_size_would_reject_tiny_fills():
    # all in on an asset priced 1e13: 1e5 cash buys 1e-8 units, below vectorbt's
    # default min_size (1e-8); we pass min_size=0 so both engines fill it
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    px = np.array([2e13, 2e13, 2.1e13, 2.2e13])
    df = pd.DataFrame({"open": px, "high": px, "low": px, "close": px}, index=idx)
    bars = bars_from_frames({"X": df})
    w = np.ones((4, 1))
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    vec, ev = run_vector(None, bars, cfg, weights=w), run_event(None, bars, cfg, weights=w)
    assert len(vec.orders) == len(ev.orders) == 1
    assert ev.orders["size"].iloc[0] < 1e-8
    np.testing.assert_allclose(vec.equity, ev.equity, rtol=1e-12)
    naive = vbt.Portfolio.from_orders(
        close=df["close"],
        size=1.0,
        size_type="targetpercent",
        fees=0.001,
        init_cash=cfg.init_cash,
        freq="1D",
    )
    assert len(naive.orders.values) == 0
