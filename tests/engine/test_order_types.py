"""Explicit orders in the event engine: market, limit, stop, stop-limit, trailing stop,
gaps through the trigger, closed markets, whole units. Expected fills are worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.orders import Order
from engine.simulator import run_event


def bars_of(rows: list[tuple[float, float, float, float]], start: str = "2024-01-01"):
    idx = pd.date_range(start, periods=len(rows), freq="D", tz="UTC", name="date")
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=idx)
    return bars_from_frames({"X": df})


FLAT = (100.0, 101.0, 99.0, 100.0)
CFG = BacktestConfig(init_cash=10_000.0, costs=CostModel(fees=0.001))


def run(rows, orders, cfg=CFG):
    return run_event(None, bars_of(rows), cfg, orders=orders)


def only_fill(res):
    assert len(res.orders) == 1, res.orders
    return res.orders.iloc[0]


def test_market_order_fills_at_open_of_active_bar():
    res = run([FLAT, (102.0, 103.0, 101.0, 102.5), FLAT], [(1, Order.market("X", 10))])
    f = only_fill(res)
    assert (f["bar"], f["price"], f["size"]) == (1, 102.0, 10.0)
    assert f["fees"] == pytest.approx(1.02)
    assert res.cash.iloc[1] == pytest.approx(10_000 - 1020 - 1.02)
    assert res.equity.iloc[1] == pytest.approx(10_000 - 1020 - 1.02 + 10 * 102.5)


def test_limit_buy_waits_then_fills_at_limit():
    rows = [FLAT, (100.0, 101.0, 96.0, 97.0), (98.0, 99.0, 94.0, 95.0), FLAT]
    f = only_fill(run(rows, [(1, Order.limit_order("X", 10, 95.0))]))
    assert (f["bar"], f["price"]) == (2, 95.0)


def test_limit_buy_gap_below_fills_at_open():
    rows = [FLAT, (93.0, 94.0, 92.0, 93.5), FLAT]
    f = only_fill(run(rows, [(1, Order.limit_order("X", 10, 95.0))]))
    assert (f["bar"], f["price"]) == (1, 93.0)


def test_limit_sell_fills_at_limit_when_high_reaches_it():
    rows = [FLAT, FLAT, (100.0, 106.0, 99.0, 104.0)]
    res = run(rows, [(1, Order.market("X", 5)), (1, Order.limit_order("X", -5, 105.0))])
    sells = res.orders[res.orders["size"] < 0]
    assert sells["bar"].tolist() == [2] and sells["price"].tolist() == [105.0]
    assert res.positions["X"].iloc[-1] == 0.0


def test_stop_loss_intrabar_and_with_slippage():
    cfg = BacktestConfig(init_cash=10_000.0, costs=CostModel(fees=0.0, slippage=0.01))
    rows = [FLAT, FLAT, (92.0, 93.0, 89.0, 90.5)]
    res = run(rows, [(1, Order.market("X", 10)), (1, Order.stop_order("X", None, 90.0))], cfg)
    sell = res.orders[res.orders["size"] < 0].iloc[0]
    assert sell["bar"] == 2
    assert sell["price"] == pytest.approx(90.0 * 0.99)
    assert sell["size"] == pytest.approx(-10.0)


def test_stop_loss_gap_fills_at_open_not_at_stop():
    rows = [FLAT, FLAT, (85.0, 86.0, 84.0, 85.5)]
    res = run(rows, [(1, Order.market("X", 10)), (1, Order.stop_order("X", -10, 90.0))])
    sell = res.orders[res.orders["size"] < 0].iloc[0]
    assert (sell["bar"], sell["price"]) == (2, 85.0)


def test_stop_buy_triggers_on_high():
    rows = [FLAT, (100.0, 106.0, 99.0, 105.0)]
    f = only_fill(run(rows, [(1, Order.stop_order("X", 3, 105.0))]))
    assert (f["bar"], f["price"], f["size"]) == (1, 105.0, 3.0)


def test_stop_limit_fills_at_stop_when_limit_above():
    rows = [FLAT, (103.0, 107.0, 102.0, 106.0)]
    f = only_fill(run(rows, [(1, Order.stop_limit("X", 2, stop=105.0, limit=106.0))]))
    assert (f["bar"], f["price"]) == (1, 105.0)


def test_stop_limit_rests_as_limit_after_trigger():
    # triggered on bar 1 (high 107 >= 105) but limit 104 not reachable from the trigger;
    # bar 2's low 103.5 reaches the resting limit
    rows = [FLAT, (103.0, 107.0, 102.5, 106.0), (105.0, 106.0, 103.5, 104.0)]
    f = only_fill(run(rows, [(1, Order.stop_limit("X", 2, stop=105.0, limit=104.0))]))
    assert (f["bar"], f["price"]) == (2, 104.0)


def test_stop_limit_untriggered_never_fills():
    rows = [FLAT, (100.0, 104.0, 99.0, 103.0), (102.0, 104.5, 95.0, 96.0)]
    res = run(rows, [(1, Order.stop_limit("X", 2, stop=105.0, limit=106.0))])
    assert len(res.orders) == 0


def test_trailing_stop_follows_the_high():
    # active from bar 1: ref = open 100, then highs 110, 120 -> stop 108 (10% trail);
    # bar 3 low 107 crosses 108 -> fill at 108
    rows = [
        FLAT,
        (100.0, 110.0, 99.0, 109.0),
        (109.0, 120.0, 109.0, 118.0),
        (117.0, 118.0, 107.0, 108.5),
    ]
    res = run(rows, [(1, Order.market("X", 10)), (1, Order.trailing_stop("X", None, 0.10))])
    sell = res.orders[res.orders["size"] < 0].iloc[0]
    assert sell["bar"] == 3
    assert sell["price"] == pytest.approx(108.0)


def test_close_position_order_with_no_position_does_nothing():
    res = run([FLAT, FLAT], [(1, Order.market("X", None))])
    assert len(res.orders) == 0


def test_whole_units_round_down():
    cfg = BacktestConfig(init_cash=10_000.0, fractional=False)
    f = only_fill(run([FLAT, FLAT], [(1, Order.market("X", 2.7))], cfg))
    assert f["size"] == 2.0


def test_buy_is_capped_by_cash():
    cfg = BacktestConfig(init_cash=1_000.0, costs=CostModel(fees=0.01))
    f = only_fill(run([FLAT, FLAT], [(1, Order.market("X", 50))], cfg))
    assert f["size"] == pytest.approx(1_000.0 / (100.0 * 1.01))
    assert f["size"] * 100.0 + f["fees"] == pytest.approx(1_000.0)


def test_order_on_closed_market_waits_for_next_session():
    idx = pd.date_range("2024-01-05", periods=4, freq="D", tz="UTC")  # Fri..Mon
    btc = pd.DataFrame({"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.0}, index=idx)
    spy = btc.iloc[[0, 3]] * 50  # Friday and Monday only
    bars = bars_from_frames({"SPY": spy, "BTC": btc})
    res = run_event(None, bars, BacktestConfig(), orders=[(1, Order.market("SPY", 1))])
    f = only_fill(res)
    assert f["date"] == idx[3]  # Monday, not Saturday


def test_order_validation():
    with pytest.raises(ValueError, match="needs limit"):
        Order(symbol="X", units=1, type=1)
    with pytest.raises(ValueError, match="non-zero"):
        Order.market("X", 0)
    with pytest.raises(ValueError, match="unknown symbol"):
        run([FLAT, FLAT], [(1, Order.market("Y", 1))])


def test_event_hook_places_orders_after_the_event_close():
    from strategies.base import Strategy

    seen = {}

    class BuyOnBar2(Strategy):
        name = "test_buy_on_bar2"

        def target_weights(self, view):
            return pd.DataFrame(np.nan, index=view.close.index, columns=view.close.columns)

        def event_bars(self, view):
            return np.array([2])

        def on_event(self, ctx):
            seen.update(bar=ctx.bar, cash=ctx.cash, price=ctx.prices["X"])
            ctx.market("X", 4)
            ctx.trailing_stop("X", None, 0.5)

    rows = [FLAT, FLAT, (100.0, 101.0, 99.0, 100.5), (103.0, 104.0, 102.0, 103.0)]
    res = run_event(BuyOnBar2(), bars_of(rows), CFG)
    assert seen == {"bar": 2, "cash": 10_000.0, "price": 100.5}
    f = only_fill(res)
    assert (f["bar"], f["price"], f["size"]) == (3, 103.0, 4.0)


def test_protective_stop_waits_for_the_position_it_closes():
    # the stop (units=None: close) is placed before the weight-driven entry exists;
    # it must not be consumed while flat, and fires once the position is there
    rows = [FLAT, FLAT, FLAT, (95.0, 96.0, 85.0, 88.0)]
    w = np.array([[1.0], [1.0], [1.0], [1.0]])
    bars = bars_of(rows)
    res = run_event(None, bars, CFG, weights=w, orders=[(1, Order.stop_order("X", None, 90.0))])
    sells = res.orders[res.orders["size"] < 0]
    assert sells["bar"].tolist() == [3] and sells["price"].tolist() == [90.0]
    assert sells["order_id"].tolist() == [0]
