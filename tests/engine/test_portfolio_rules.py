"""Portfolio rules of the event engine: calendars, valuation at the last known price,
shared cash, borrow cost, drift threshold, leverage cap, fill timing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import random_bars

from data.calendars import calendar_kind, infer_calendar
from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.simulator import run_event
from engine.targets import cap_leverage, order_targets, target_list
from engine.vector import run_vector


def two_calendars():
    idx = pd.date_range("2024-01-04", periods=6, freq="D", tz="UTC")  # Thu..Tue
    btc_close = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    btc = pd.DataFrame(
        {"open": btc_close - 0.5, "high": btc_close + 1, "low": btc_close - 1, "close": btc_close},
        index=idx,
    )
    weekday = idx[idx.dayofweek < 5]  # Thu, Fri, Mon, Tue
    spy_close = np.array([100.0, 101.0, 104.0, 105.0])
    spy = pd.DataFrame(
        {"open": spy_close - 1, "high": spy_close + 1, "low": spy_close - 2, "close": spy_close},
        index=weekday,
    )
    return bars_from_frames({"SPY": spy, "BTC": btc}), idx


def test_no_fill_on_closed_market_and_weekend_valued_at_friday_close():
    bars, idx = two_calendars()
    w = np.zeros((6, 2))
    w[1:, 0] = 0.5  # decided Friday close -> SPY trades Monday open, not Saturday
    w[1:, 1] = 0.3  # BTC trades Saturday open
    res = run_event(None, bars, BacktestConfig(init_cash=1_000.0), weights=w)
    fills = res.orders.set_index("symbol")
    assert fills.loc["BTC", "date"] == idx[2]  # Saturday
    assert fills.loc["SPY", "date"] == idx[4]  # Monday
    btc_units = fills.loc["BTC", "size"]
    assert btc_units == pytest.approx(0.3 * 1_000.0 / 11.5)  # Saturday open 11.5, value 1000
    # Sunday: SPY flat, BTC marked at Sunday close
    cash_sun = 1_000.0 - btc_units * 11.5
    assert res.equity.iloc[3] == pytest.approx(cash_sun + btc_units * 13.0)
    # Monday open: SPY buys 50% of value where BTC is valued at its Monday open (13.5)
    value_mon_open = cash_sun + btc_units * 13.5
    assert fills.loc["SPY", "size"] == pytest.approx(0.5 * value_mon_open / 103.0)


def test_positions_valued_at_last_known_close_when_market_closed():
    bars, idx = two_calendars()
    w = np.zeros((6, 2))
    w[0:, 0] = 1.0  # all in SPY from Friday open
    res = run_event(None, bars, BacktestConfig(init_cash=1_000.0), weights=w)
    units = res.positions["SPY"].iloc[1]
    # Saturday and Sunday: SPY closed, valued at Friday's close (101)
    assert res.equity.iloc[2] == pytest.approx(res.cash.iloc[2] + units * 101.0)
    assert res.equity.iloc[3] == pytest.approx(res.cash.iloc[3] + units * 101.0)


def test_calendar_inference_and_annualisation():
    bars, idx = two_calendars()
    assert calendar_kind(infer_calendar(idx)) == "24/7"
    assert calendar_kind(infer_calendar(idx[idx.dayofweek < 5])) == "sessions"
    res = run_event(None, bars, BacktestConfig(), weights=np.zeros((6, 2)))
    assert res.periods_per_year == 365 and res.stats()["calendar"] == "24/7"
    forced = run_event(None, bars, BacktestConfig(calendar="sessions"), weights=np.zeros((6, 2)))
    assert forced.periods_per_year == 252


def test_fill_on_close_uses_same_bar_close():
    bars = random_bars(1, 20, 1)
    w = np.zeros((20, 1))
    w[5:] = 1.0
    res = run_event(None, bars, BacktestConfig(fill="close"), weights=w)
    f = res.orders.iloc[0]
    assert f["bar"] == 5 and f["price"] == bars.close[5, 0]
    nxt = run_event(None, bars, BacktestConfig(), weights=w).orders.iloc[0]
    assert nxt["bar"] == 6 and nxt["price"] == bars.open[6, 0]


def test_borrow_cost_charged_on_short_notional_each_bar():
    bars = random_bars(2, 30, 1)
    w = np.full((30, 1), -0.5)
    base = run_event(None, bars, BacktestConfig(), weights=w)
    rate = 0.10
    cost = run_event(None, bars, BacktestConfig(borrow_rate=rate), weights=w)
    units = base.positions["A0"].to_numpy()
    assert (units[1:] < 0).all()
    ppy = base.periods_per_year  # daily random bars include weekends: 24/7, 365
    assert ppy == 365
    expected = np.cumsum(-units * bars.close[:, 0] * rate / ppy)
    np.testing.assert_allclose(base.equity - cost.equity, expected, rtol=1e-9)


def test_drift_threshold_skips_small_rebalances():
    bars = random_bars(3, 200, 1)
    w = np.full((200, 1), 0.5)
    every = run_event(None, bars, BacktestConfig(rebalance="every_bar"), weights=w)
    lazy = run_event(
        None, bars, BacktestConfig(rebalance="every_bar", drift_threshold=0.05), weights=w
    )
    assert len(lazy.orders) < len(every.orders) / 5
    # every skipped bar had its weight within 5% of target at the open (independent check)
    units = lazy.positions["A0"].to_numpy()
    cash = lazy.cash.to_numpy()
    traded = set(lazy.orders["bar"])
    for i in range(2, 200):
        if i in traded:
            continue
        value = cash[i - 1] + units[i - 1] * bars.open[i, 0]
        assert abs(units[i - 1] * bars.open[i, 0] / value - 0.5) <= 0.05 + 1e-12


def test_leverage_cap_scales_gross_exposure():
    w = np.array([[1.5, -1.5], [0.2, 0.3]])
    capped = cap_leverage(w, 1.0)
    np.testing.assert_allclose(capped, [[0.5, -0.5], [0.2, 0.3]])
    bars = random_bars(4, 10, 2)
    res = run_event(
        None, bars, BacktestConfig(init_cash=1_000.0), weights=np.tile([1.5, -1.5], (10, 1))
    )
    first = res.orders[res.orders["bar"] == 1].set_index("symbol")
    assert first.loc["A0", "size"] == pytest.approx(0.5 * 1_000.0 / bars.open[1, 0])
    assert first.loc["A1", "size"] == pytest.approx(-0.5 * 1_000.0 / bars.open[1, 1])


def test_shared_cash_sells_before_buys():
    # rotate from A0 to A1 in one bar with no spare cash: only works if the sell goes first
    bars = random_bars(5, 6, 2)
    w = np.zeros((6, 2))
    w[0:3, 0] = 1.0
    w[3:, 1] = 1.0
    res = run_event(None, bars, BacktestConfig(costs=CostModel(fees=0.001)), weights=w)
    at4 = res.orders[res.orders["bar"] == 4]
    assert at4["symbol"].tolist() == ["A0", "A1"]
    proceeds = -at4.iloc[0]["size"] * at4.iloc[0]["price"] * (1 - 0.001)
    assert at4.iloc[1]["size"] == pytest.approx(proceeds / (at4.iloc[1]["price"] * 1.001))


def test_order_targets_timing_rules():
    w = np.array([[0.0], [1.0], [1.0], [0.5], [0.5]])
    tradable = np.array([[True], [True], [False], [False], [True]])
    t = order_targets(w, tradable)
    # decisions take effect at the next bar whether or not the market is open there
    # (1.0 from bar 2, 0.5 from bar 4); the engine pursues the standing one when the
    # asset trades (see test_a_target_decided_while_closed_trades_the_latest_decision)
    assert np.isnan(t[[0, 1, 3], 0]).all() and t[2, 0] == 1.0 and t[4, 0] == 0.5
    t_close = order_targets(w, tradable, fill="close")
    assert t_close[1, 0] == 1.0 and t_close[3, 0] == 0.5 and np.isnan(t_close[0, 0])
    flat = order_targets(np.zeros((3, 1)), np.ones((3, 1), bool))
    assert np.isnan(flat).all()  # never leaving flat sends nothing
    every = order_targets(np.full((3, 1), 0.2), np.ones((3, 1), bool), rebalance="every_bar")
    assert np.isnan(every[0, 0]) and (every[1:, 0] == 0.2).all()
    with pytest.raises(ValueError, match="fill must be"):
        order_targets(w, tradable, fill="tomorrow")


def test_a_target_decided_while_closed_trades_the_latest_decision():
    idx = pd.date_range("2024-01-01", periods=6, tz="UTC")
    frame = pd.DataFrame({"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0}, index=idx)
    tradable = pd.DataFrame({"X": [True, True, False, False, True, True]}, index=idx)
    bars = bars_from_frames({"X": frame}, tradable=tradable)
    w = np.array([[0.0], [1.0], [1.0], [0.5], [0.5], [0.5]])
    for run in (run_event, run_vector):
        res = run(None, bars, BacktestConfig(), weights=w)
        fills = res.fills
        assert fills["bar"].tolist() == [4]  # bars 2-3 closed: one order, at bar 4
        assert fills["size"].iloc[0] == pytest.approx(0.5 * 100_000 / 100.0)


def test_target_list_is_the_capped_dense_targets_in_bar_order():
    """Capping inside the targets is ``cap_leverage`` then targets; the sparse list the
    event engine reads holds exactly the non-NaN cells of the dense matrix vectorbt
    reads, in bar then column order."""
    rng = np.random.default_rng(7)
    w = np.round(rng.normal(0.0, 0.8, (400, 3)), 1)  # rounded: repeats, so on_change skips
    w[rng.random(w.shape) < 0.1] = np.nan
    tradable = rng.random(w.shape) > 0.2
    for fill in ("next_open", "close"):
        for rebalance in ("on_change", "every_bar"):
            listed = target_list(w, tradable, fill, rebalance, 1.0)
            dense = order_targets(cap_leverage(w, 1.0), tradable, fill, rebalance)
            rows, cols = np.nonzero(~np.isnan(dense))  # row-major: bar, then column
            np.testing.assert_array_equal(listed.bar, rows)
            np.testing.assert_array_equal(listed.col, cols)
            np.testing.assert_array_equal(listed.weight, dense[rows, cols])
            np.testing.assert_array_equal(listed.dense(), dense)
    gross = np.nansum(np.abs(w), axis=1)
    assert (gross > 1.0).any()  # the cap binds somewhere


@pytest.mark.parametrize("row", [0, 5, 9])
def test_infinite_weight_is_refused_wherever_it_is(row):
    w = np.zeros((10, 2))
    w[row, 1] = -np.inf
    with pytest.raises(ValueError, match="weights must be finite"):
        order_targets(w, np.ones((10, 2), bool))
    with pytest.raises(ValueError, match="weights must be finite"):
        run_event(None, random_bars(1, 10, 2), weights=w)


def test_nan_weight_means_no_decision_not_flat():
    from strategies.base import Strategy

    class Undecided(Strategy):
        name = "test_undecided"

        def target_weights(self, view):
            w = view.close * 0.0 + 1.0
            w.iloc[5:] = np.nan  # stops deciding after bar 4: keep what is held
            return w

    bars = random_bars(8, 20, 1)
    res = run_event(Undecided(), bars, BacktestConfig())
    assert len(res.orders) == 1
    assert (res.positions["A0"].iloc[1:] > 0).all()
