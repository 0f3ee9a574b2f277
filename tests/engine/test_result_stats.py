"""Result object and statistics against independent calculations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from bt_helpers import random_bars

from data.calendars import periods_per_year as periods_for_calendar
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.result import round_trips
from engine.simulator import run_event
from engine.stats import max_drawdown, performance
from flowbt.report.plots import plot_equity


def test_performance_on_a_known_curve():
    eq = np.array([110.0, 99.0, 121.0])
    p = performance(eq, 100.0, 252)
    r = [0.10, -0.10, 121 / 99 - 1]
    mean = sum(r) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    assert p["total_return"] == pytest.approx(0.21)
    assert p["sharpe"] == pytest.approx(mean / sd * math.sqrt(252))
    assert p["sortino"] == pytest.approx(mean / math.sqrt(0.01 / 3) * math.sqrt(252))
    assert p["max_drawdown"] == pytest.approx(99 / 110 - 1)
    assert p["cagr"] == pytest.approx(1.21 ** (252 / 3) - 1)
    assert max_drawdown(np.array([1.0, 2.0, 1.0, 3.0, 0.5])) == pytest.approx(-5 / 6)


def test_periods_per_year():
    assert periods_for_calendar("24/7") == 365
    assert periods_for_calendar("crypto") == 365
    assert periods_for_calendar("NYSE") == 252
    with pytest.raises(ValueError):
        periods_for_calendar("lunar")


def test_round_trips_with_flip_and_open_trade():
    idx = pd.date_range("2024-01-01", periods=4, tz="UTC")
    close = pd.DataFrame({"X": [10.0, 11.0, 12.0, 9.0]}, index=idx)
    orders = pd.DataFrame(
        {
            "date": idx[:3],
            "bar": [0, 1, 2],
            "symbol": "X",
            "size": [2.0, -3.0, 1.0],
            "price": [10.0, 11.0, 12.0],
            "fees": [0.2, 0.3, 0.1],
            "side": ["buy", "sell", "buy"],
            "order_id": -1,
        }
    )
    t = round_trips(orders, close)
    assert t["direction"].tolist() == ["long", "short"]
    assert t["status"].tolist() == ["closed", "closed"]
    assert t.iloc[0]["pnl"] == pytest.approx(2 * (11 - 10) - 0.2 - 0.2)  # 2/3 of 0.3 fee
    assert t.iloc[1]["pnl"] == pytest.approx(-(12 - 11) * 1 - 0.1 - 0.1)
    o = round_trips(orders.iloc[:1], close)
    assert o.iloc[0]["status"] == "open"
    assert o.iloc[0]["pnl"] == pytest.approx(2 * (9 - 10) - 0.2)


def test_result_accessors_plot_and_manifest(tmp_path):
    bars = random_bars(11, 60, 2)
    w = np.zeros((60, 2))
    w[10:40, 0] = 0.6
    w[20:, 1] = -0.3
    res = run_event(None, bars, BacktestConfig(costs=CostModel(fees=0.001)), weights=w)
    ret = res.returns
    assert ret.iloc[0] == pytest.approx(res.equity.iloc[0] / 100_000 - 1)
    exp = res.exposure
    i = 30
    gross = abs(res.positions.iloc[i] * bars.close[i]).sum() / res.equity.iloc[i]
    assert exp.iloc[i] == pytest.approx(gross)
    assert exp.iloc[5] == 0.0
    s = res.stats()
    assert s["n_orders"] == len(res.orders) == 3
    assert s["n_trades"] == 2 and s["n_closed_trades"] == 1
    assert s["total_fees"] == pytest.approx(res.orders["fees"].sum())
    fig = plot_equity(res, tmp_path / "eq.png")
    assert (tmp_path / "eq.png").stat().st_size > 1000 and fig is not None
    m = res.manifest
    assert m["data"]["sha256"] == bars.checksum() and m["versions"]["numba"]
    assert m["config"]["costs"]["fees"] == 0.001
    # the checksum identifies the input: any change to a price changes it
    bumped = random_bars(11, 60, 2)
    bumped.close[5, 1] += 1e-9
    assert bumped.checksum() != bars.checksum()
