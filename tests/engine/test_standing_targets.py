"""Standing targets: a weights strategy's target stands until the strategy changes it.

A target that could not be reached (market closed, no cash yet) is pursued at the
asset's next tradable bars; across calendars the purchase waits for the sale that funds
it; cut and rejected orders are recorded; both simulators agree. Real calendars: NYSE
(SPY, with its holidays), the Korea Exchange (SK Hynix, Lunar New Year) and 24/7 crypto.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from bt_helpers import PROPERTY
from hypothesis import given
from hypothesis import strategies as st
from test_parity import assert_same

import flowbt
from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import bars_from_market
from engine.simulator import run_event
from engine.vector import run_vector

THREE = ["SPY", "000660.KS", "BTC-USD"]


@pytest.fixture(scope="module")
def three_calendars(bundle):
    """Real sessions of three calendars around Christmas, New Year and Lunar New Year
    2019/20; each asset's prices scaled to start near 100 (one currency for the test)."""
    bars, _ = bars_from_market(bundle, THREE, start="2019-12-16", end="2020-02-14")
    first = np.array(
        [bars.close[np.flatnonzero(~np.isnan(bars.close[:, k]))[0], k] for k in range(3)]
    )
    scale = 100.0 / first
    return replace(
        bars,
        open=bars.open * scale,
        high=bars.high * scale,
        low=bars.low * scale,
        close=bars.close * scale,
    )


def longest_closure_days(bars) -> int:
    """Longest run of calendar days between consecutive sessions of any asset."""
    longest = 0
    for k in range(bars.n_assets):
        stamps = bars.index[bars.tradable[:, k]]
        gaps = np.diff(stamps.normalize().asi8) // (86_400 * 10**9)
        longest = max(longest, int(gaps.max()))
    return longest


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    fees=st.sampled_from([0.0, 0.001, 0.003]),
    fractional=st.booleans(),
    hold=st.integers(18, 30),
)
def test_targets_are_reached_across_three_calendars(three_calendars, seed, fees, fractional, hold):
    bars = three_calendars
    rng = np.random.default_rng(seed)
    n = bars.n_bars
    w = np.zeros((n, 3))
    row = 0
    while row < n:  # a new long-only book every ``hold`` rows (about 6-10 days), fully
        # or partly invested: each decision stands long enough to be reached
        raw = rng.choice([0.0, 0.0, 0.3, 1.0], size=3) * rng.random(3)
        gross = raw.sum()
        w[row:] = raw / gross * rng.choice([0.6, 1.0]) if gross > 0 else 0.0
        row += hold
    cfg = BacktestConfig(costs=CostModel(fees=fees), fractional=fractional, init_cash=1e6)
    ev = run_event(None, bars, cfg, weights=w)
    vec = run_vector(None, bars, cfg, weights=w)
    assert_same(ev, vec)
    for res in (ev, vec):
        fills = res.fills
        cols = [bars.symbols.index(s) for s in fills["symbol"]]
        assert bars.tradable[fills["bar"].to_numpy(), cols].all()  # never a closed market
        _, longest = res.off_target_days()
        assert longest <= longest_closure_days(bars) + 2


def test_a_switch_decided_on_friday_buys_btc_after_mondays_sale(bundle):
    """All in SPY, then all in BTC from Friday 2024-03-08's close: the BTC buy at
    Saturday's crypto open finds no cash (rejected, reason cash), SPY sells at Monday's
    NYSE open, and the BTC buy fills at the next crypto open (Tuesday 00:00 UTC) with
    exactly the sale's proceeds (no fees): the target stood until it was reached."""
    bars, _ = bars_from_market(bundle, ["SPY", "BTC-USD"], start="2024-03-04", end="2024-03-15")
    friday = bars.index.get_loc(pd.Timestamp("2024-03-08 21:00", tz="UTC"))  # EST close
    w = np.zeros((bars.n_bars, 2))
    w[:friday, 0] = 1.0
    w[friday:, 1] = 1.0
    spy = bundle.price("SPY")
    factor = spy["adj_close"] / spy["close"]  # the run trades total-return prices
    btc = bundle.price("BTC-USD")
    for run in (run_event, run_vector):
        res = run(None, bars, BacktestConfig(), weights=w)
        orders = res.orders
        rejected = orders[orders["status"] == "rejected"]
        assert rejected["symbol"].tolist() == ["BTC-USD"]
        assert rejected["reason"].tolist() == ["cash"]
        assert str(rejected["date"].iloc[0]) == "2024-03-10 00:00:00+00:00"  # Sat's bar
        sale = orders[(orders["symbol"] == "SPY") & (orders["side"] == "sell")].iloc[0]
        assert str(sale["date"]) == "2024-03-11 20:00:00+00:00"  # Monday's NYSE bar (EDT)
        monday_open = spy.loc["2024-03-11", "open"] * factor.loc["2024-03-11"]
        assert sale["price"] == pytest.approx(monday_open, rel=1e-12)
        buy = orders[(orders["symbol"] == "BTC-USD") & (orders["status"] == "filled")].iloc[0]
        assert str(buy["date"]) == "2024-03-13 00:00:00+00:00"  # BTC day of Tuesday 03-12
        tuesday_open = btc.loc["2024-03-12", "open"]
        assert buy["price"] == pytest.approx(tuesday_open, rel=1e-12)
        proceeds = -sale["size"] * sale["price"]
        assert buy["size"] == pytest.approx(proceeds / tuesday_open, rel=1e-12)
        assert res.weights["BTC-USD"].iloc[-1] == pytest.approx(1.0)


def test_a_buy_shrunk_only_by_its_fees_is_filled():
    """One asset, all in with 1% fees: the buy shrinks to the cash (the fee comes out of
    the target's value); that is a full fill, the target is reached, nothing is retried."""
    idx = pd.date_range("2024-01-01", periods=6, tz="UTC")
    frame = pd.DataFrame({"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0}, index=idx)
    w = np.ones((6, 1))
    bars = bars_from_frames({"X": frame})
    for run in (run_event, run_vector):
        res = run(None, bars, BacktestConfig(costs=CostModel(fees=0.01)), weights=w)
        assert res.orders["status"].tolist() == ["filled"]
        assert res.orders["reason"].tolist() == [""]
        assert res.orders["size"].iloc[0] == pytest.approx(100_000 / (100.0 * 1.01))
        assert res.off_target_days() == (0, 0)


def test_liquidity_rotation_holds_what_it_asks_for(bundle):
    """The flagship on the bundled data: wherever its target has stood for five days
    (the longest wait: a holiday weekend such as Good Friday 2015 before the chips can
    be sold), the invested share held is the one asked for. The stretch 2020-09-21..
    2021-07-05, where the rule says BTC throughout, is held in BTC (the bug this
    contract fixes: it used to sit in cash)."""
    bt = flowbt.backtest("liquidity_rotation", bundle, fees=0.001)
    target = bt.target_weights
    held = bt.weights
    changed = (target.diff().abs().sum(axis=1) > 0).to_numpy()
    stamps = target.index
    last_change = pd.Series(np.where(changed, stamps.asi8, np.nan), index=stamps).ffill()
    settled = (stamps.asi8 - last_change.to_numpy()) >= 5 * 86_400 * 10**9
    assert settled.sum() > 0.8 * len(stamps)
    assert bt.off_target.to_numpy()[settled].max() < 0.01
    stretch = held.loc["2020-09-22":"2021-07-04", "BTC-USD"]
    asked = target.loc["2020-09-22":"2021-07-04", "BTC-USD"]
    assert (asked == 1.0).mean() > 0.95
    assert (stretch[asked == 1.0] > 0.95).mean() > 0.95
    s = bt.stats()
    assert s["longest_off_target_days"] <= 6 and s["n_orders_rejected"] > 0


def test_a_buy_short_of_cash_is_cut_and_retried_after_the_sale(bundle):
    """Half in SPY, then 80% BTC and 20% SPY from Friday 2024-03-08's close: Saturday's
    BTC buy has the 50% cash only, so it is cut (reason cash) and stays pending while the
    SPY sale is to come; after Monday's sale it is bought up to 80% at the next crypto open."""
    bars, _ = bars_from_market(bundle, ["SPY", "BTC-USD"], start="2024-03-04", end="2024-03-15")
    friday = bars.index.get_loc(pd.Timestamp("2024-03-08 21:00", tz="UTC"))
    w = np.zeros((bars.n_bars, 2))
    w[:friday, 0] = 0.5
    w[friday:] = [0.2, 0.8]
    for run in (run_event, run_vector):
        res = run(None, bars, BacktestConfig(), weights=w)
        btc = res.orders[res.orders["symbol"] == "BTC-USD"]
        assert btc["status"].tolist() == ["cut", "filled"]
        assert btc["reason"].tolist() == ["cash", ""]
        first, second = btc.iloc[0], btc.iloc[1]
        assert first["size"] * first["price"] == pytest.approx(res.cash.iloc[friday], rel=1e-9)
        assert str(second["date"]) == "2024-03-13 00:00:00+00:00"  # after Monday's sale
        assert res.weights["BTC-USD"].iloc[-1] == pytest.approx(0.8, abs=0.03)
        assert res.off_target_days()[1] <= 4
