"""Parity: the event engine and the vectorbt path give the same fills and equity (1e-9).

Random valid OHLC paths, random piecewise-constant weights (long-only and
long/short), fees, fixed fees, slippage, fill timing, rebalancing mode, whole or
fractional units, several assets with gaps (closed markets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from bt_helpers import PROPERTY, random_bars
from hypothesis import given
from hypothesis import strategies as st

from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.result import Result
from engine.simulator import run_event
from engine.vector import run_vector
from strategies.registry import get_strategy


def random_weights(seed: int, n: int, m: int, allow_short: bool, p_change: float) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    levels = (
        np.array([-1.0, -0.5, -0.2, 0.0, 0.25, 0.5, 1.0])
        if allow_short
        else np.array([0.0, 0.2, 0.5, 0.8, 1.0])
    )
    w = np.zeros((n, m))
    cur = np.zeros(m)
    for i in range(n):
        change = rng.random(m) < p_change
        cur = np.where(change, rng.choice(levels, size=m), cur)
        w[i] = cur
    if not allow_short:
        gross = w.sum(axis=1, keepdims=True)
        w = np.where(gross > 1.0, w / np.where(gross > 0, gross, 1.0), w)
    return w


def assert_same(a: Result, b: Result) -> None:
    np.testing.assert_allclose(a.equity.to_numpy(), b.equity.to_numpy(), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(a.cash.to_numpy(), b.cash.to_numpy(), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(a.positions.to_numpy(), b.positions.to_numpy(), rtol=1e-9, atol=1e-9)
    oa, ob = a.orders, b.orders
    assert len(oa) == len(ob)
    key = ["bar", "symbol"]
    oa = oa.sort_values(key, kind="stable").reset_index(drop=True)
    ob = ob.sort_values(key, kind="stable").reset_index(drop=True)
    assert (oa["bar"].to_numpy() == ob["bar"].to_numpy()).all()
    assert (oa["symbol"].to_numpy() == ob["symbol"].to_numpy()).all()
    for col in ("size", "price", "fees", "requested"):
        np.testing.assert_allclose(
            oa[col].to_numpy(float), ob[col].to_numpy(float), rtol=1e-9, atol=1e-9
        )
    assert oa["status"].tolist() == ob["status"].tolist()
    assert oa["reason"].tolist() == ob["reason"].tolist()


configs = st.builds(
    BacktestConfig,
    init_cash=st.sampled_from([1_000.0, 100_000.0]),
    costs=st.builds(
        CostModel,
        fees=st.sampled_from([0.0, 0.0005, 0.001, 0.01]),
        fixed_fees=st.sampled_from([0.0, 1.0]),
        slippage=st.sampled_from([0.0, 0.001]),
    ),
    fill=st.sampled_from(["next_open", "close"]),
    rebalance=st.sampled_from(["on_change", "every_bar"]),
    max_leverage=st.sampled_from([1.0, 2.0]),
)


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 120),
    m=st.integers(1, 3),
    allow_short=st.booleans(),
    closed_frac=st.sampled_from([0.0, 0.25]),
    p_change=st.sampled_from([0.05, 0.3]),
    config=configs,
)
def test_random_weights_parity(seed, n, m, allow_short, closed_frac, p_change, config):
    bars = random_bars(seed, n, m, closed_frac=closed_frac)
    w = random_weights(seed, bars.n_bars, m, allow_short, p_change)
    ev = run_event(None, bars, config, weights=w)
    vec = run_vector(None, bars, config, weights=w)
    assert_same(ev, vec)


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(10, 150), fees=st.sampled_from([0.0, 0.002]))
def test_whole_units_parity(seed, n, fees):
    bars = random_bars(seed, n, 2)
    w = random_weights(seed, n, 2, allow_short=True, p_change=0.2)
    cfg = BacktestConfig(init_cash=10_000.0, costs=CostModel(fees=fees), fractional=False)
    ev = run_event(None, bars, cfg, weights=w)
    vec = run_vector(None, bars, cfg, weights=w)
    assert_same(ev, vec)
    sizes = ev.orders["size"].to_numpy(float)
    assert np.allclose(sizes, np.round(sizes))  # whole units really are whole


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    fast=st.integers(2, 10),
    gap=st.integers(1, 20),
    fees=st.sampled_from([0.0, 0.001, 0.003]),
)
def test_sma_cross_parity(seed, fast, gap, fees):
    bars = random_bars(seed, 250, 1)
    strat = get_strategy("sma_cross")({"fast": fast, "slow": fast + gap})
    cfg = BacktestConfig(costs=CostModel(fees=fees))
    ev = run_event(strat, bars, cfg)
    vec = run_vector(strat, bars, cfg)
    assert_same(ev, vec)
    pd.testing.assert_frame_equal(ev.trades, vec.trades, rtol=1e-9)


def test_spread_vol_slippage_parity():
    bars = random_bars(7, 200, 2)
    w = random_weights(7, 200, 2, allow_short=False, p_change=0.2)
    cfg = BacktestConfig(costs=CostModel(fees=0.001, slippage=0.0005, vol_slippage=0.5))
    ev = run_event(None, bars, cfg, weights=w)
    vec = run_vector(None, bars, cfg, weights=w)
    assert len(ev.orders) > 5
    assert_same(ev, vec)


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    closed_frac=st.sampled_from([0.0, 0.3]),
    fees=st.sampled_from([0.0, 0.001]),
    price_scale=st.sampled_from([1e-3, 1.0, 1e4]),
)
def test_multi_asset_sma_cross_with_gaps_parity(seed, closed_frac, fees, price_scale):
    raw = random_bars(seed, 150, 3, closed_frac=closed_frac)
    frames = {
        s: pd.DataFrame(
            {f: getattr(raw, f)[:, k] * price_scale for f in ("open", "high", "low", "close")},
            index=raw.index,
        ).dropna()
        for k, s in enumerate(raw.symbols)
    }
    bars = bars_from_frames(frames)
    strat = get_strategy("sma_cross")({"fast": 3, "slow": 12})
    # three assets each all in -> gross 3, capped to 1 (a third each)
    cfg = BacktestConfig(costs=CostModel(fees=fees))
    ev = run_event(strat, bars, cfg)
    vec = run_vector(strat, bars, cfg)
    assert_same(ev, vec)
    # the leverage cap keeps the long-only book within equity (cash never negative)
    held = (ev.positions * bars.frame("close").ffill()).abs().div(ev.equity, axis=0)
    assert (held.fillna(0.0).sum(axis=1).to_numpy() <= 1 + 1e-9).all()
    assert (ev.cash.to_numpy() >= -1e-9).all()
