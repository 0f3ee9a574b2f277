"""The batched simulator (engine/batch.py, engine/nb/batch.py) gives what the event
engine gives for the same weights: final equity, Sharpe, drawdown, order counts and
the statistics of any window of periods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bt_helpers import PROPERTY, random_bars
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps

from engine.api import run
from engine.batch import (
    WINDOW_FIELDS,
    batch_market,
    combine_windows,
    run_batch,
    window_performance,
)
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import bars_from_market
from engine.stats import PERF_FIELDS, performance

CONFIGS = {
    "fees_slippage": BacktestConfig(costs=CostModel(fees=0.001, slippage=0.0005, fixed_fees=1.0)),
    "leverage_borrow": BacktestConfig(
        costs=CostModel(fees=0.0005, slippage=0.0002), max_leverage=1.5, borrow_rate=0.05
    ),
    "every_bar_drift": BacktestConfig(
        costs=CostModel(fees=0.001), rebalance="every_bar", drift_threshold=0.02
    ),
    "close_fill": BacktestConfig(costs=CostModel(fees=0.001, slippage=0.001), fill="close"),
    "whole_units_vol_slippage": BacktestConfig(
        costs=CostModel(fees=0.001, vol_slippage=0.5, vol_window=5), fractional=False
    ),
}


def weight_sets(seed: int, n: int, m: int) -> np.ndarray:
    """Five weight sets (5, n, m): long-only decisions held between changes (NaN = no
    decision), long/short with gaps, leveraged beyond any cap, constant, never decided."""
    rng = np.random.default_rng(seed)
    out = np.full((5, n, m), np.nan)
    change = rng.random((n, m)) < 0.15
    out[0][change] = rng.uniform(0.0, 1.0 / m, change.sum())
    long_short = rng.uniform(-1.0, 1.0, (n, m))
    long_short[rng.random((n, m)) < 0.3] = np.nan
    out[1] = long_short
    out[2] = rng.uniform(-2.0, 2.0, (n, m)) * (rng.random((n, 1)) < 0.2)
    out[2][rng.random((n, m)) < 0.5] = np.nan
    out[3] = 1.0 / m
    return out


@pytest.fixture(scope="module")
def merged_bars(bundle):
    """SPY (NYSE sessions) and BTC-USD (24/7) merged on close instants, with opens."""
    bars, _ = bars_from_market(bundle, ["SPY", "BTC-USD"], start="2023-01-01", end="2023-09-30")
    assert bars.opens is not None
    return bars


@pytest.fixture(scope="module", params=["single", "closed_market", "merged"])
def bars(request):
    if request.param == "single":
        return random_bars(11, 260, 1)
    if request.param == "closed_market":
        b = random_bars(12, 260, 3, closed_frac=0.25)
        assert not b.tradable.all()
        return b
    return request.getfixturevalue("merged_bars")


def _same(a: float, b: float, rel: float = 1e-12) -> None:
    if math.isnan(b):
        assert math.isnan(a)
    else:
        assert a == pytest.approx(b, rel=rel, abs=1e-300)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_batch_equals_event_engine_per_weight_set(bars, name):
    cfg = CONFIGS[name]
    w = weight_sets(list(CONFIGS).index(name), bars.n_bars, bars.n_assets)
    bm = batch_market(bars, cfg)
    assert bm.on_grid == (bars.opens is not None and cfg.fill == "next_open")
    stats = run_batch(bm, w, keep_returns=True)
    perf = window_performance(stats.windows[:, 0], bm.periods_per_year)
    traded = off = 0
    for k in range(len(w)):
        res = run(None, bars, cfg, weights=w[k])
        s = res.stats()
        assert bm.periods_per_year == s["periods_per_year"]
        _same(perf["final_equity"][k], s["final_equity"])
        _same(perf["sharpe"][k], s["sharpe"])
        _same(perf["max_drawdown"][k], s["max_drawdown"])
        _same(perf["total_return"][k], s["total_return"])
        fills = res.fills
        assert stats.counts[k, 0] == len(fills) == s["n_orders"]
        assert stats.counts[k, 1] == s["n_orders_cut"]
        assert stats.counts[k, 2] == s["n_orders_rejected"]
        # what the portfolio held against what it was asked for, as the event run counts it
        assert (stats.counts[k, 3], stats.counts[k, 4]) == res.off_target_days(), k
        off += int(stats.counts[k, 3] > 0)
        traded += len(fills)
        # per-period returns and their moments, against the event run's period equity
        eq = res.period_equity().to_numpy()
        assert stats.windows[k, 0, 0] == len(eq) == bm.n_periods
        r = eq / np.concatenate([[cfg.init_cash], eq[:-1]]) - 1.0
        np.testing.assert_allclose(stats.returns[k], r, rtol=0, atol=1e-15)
        if np.std(r) > 0:
            assert stats.moments[k, 0] == pytest.approx(sps.skew(r), rel=1e-8)
            assert stats.moments[k, 1] == pytest.approx(sps.kurtosis(r, fisher=False), rel=1e-8)
    # the last set never decides: flat, no order
    assert stats.counts[4, 0] == 0 and perf["final_equity"][4] == cfg.init_cash
    assert traded > 0


def test_grid_bars_merge_periods_per_utc_day(merged_bars):
    """Merged calendars: one period per UTC day (the day's last bar), as Result does."""
    bm = batch_market(merged_bars, CONFIGS["fees_slippage"])
    assert bm.on_grid
    days = merged_bars.index.tz_convert("UTC").normalize()
    assert bm.n_periods == days.nunique() < merged_bars.n_bars
    assert bm.periods_per_year == 365


@pytest.mark.parametrize("name", ["fees_slippage", "leverage_borrow", "close_fill"])
def test_window_statistics_equal_performance_of_the_event_equity_slice(bars, name):
    cfg = CONFIGS[name]
    w = weight_sets(7, bars.n_bars, bars.n_assets)[:4]
    bm = batch_market(bars, cfg)
    n = bm.n_periods
    a, b = n // 4, (2 * n) // 3
    windows = np.array([[0, n], [0, a], [a, b], [b, n], [a, n], [1, 2], [n - 1, n]])
    stats = run_batch(bm, w, windows)
    ppy = bm.periods_per_year
    for k in range(len(w)):
        eq = run(None, bars, cfg, weights=w[k]).period_equity().to_numpy()
        for j, (lo, hi) in enumerate(windows):
            base = eq[lo - 1] if lo > 0 else cfg.init_cash
            want = performance(eq[lo:hi], base, ppy)
            got = window_performance(stats.windows[k, j], ppy)
            for f in PERF_FIELDS:
                _same(float(got[f]), want[f])
            sums = dict(zip(WINDOW_FIELDS, stats.windows[k, j], strict=True))
            assert sums["n"] == hi - lo
            assert sums["base"] == base and sums["final"] == eq[hi - 1]


def test_combined_adjacent_windows_give_the_sharpe_of_the_window_covering_both(bars):
    cfg = CONFIGS["leverage_borrow"]
    w = weight_sets(8, bars.n_bars, bars.n_assets)[:4]
    bm = batch_market(bars, cfg)
    n = bm.n_periods
    a, m, b = 3, n // 2, n - 2
    stats = run_batch(bm, w, np.array([[a, m], [m, b], [a, b]]), keep_returns=True)
    ppy = bm.periods_per_year
    pooled = window_performance(combine_windows(stats.windows[:, :2], axis=1), ppy)
    whole = window_performance(stats.windows[:, 2], ppy)
    for k in range(len(w)):
        for f in ("sharpe", "sortino", "volatility", "total_return"):
            _same(float(pooled[f][k]), float(whole[f][k]), rel=1e-12)
        # and by hand, from the returns of [a, b)
        r = stats.returns[k, a:b]
        if r.std() > 0:
            want = r.mean() / r.std(ddof=1) * math.sqrt(ppy)
            assert pooled["sharpe"][k] == pytest.approx(want, rel=1e-9)
    # the pooled drawdown is a bound (each part from its own base): never deeper than the
    # whole window's, which may fall from a peak in one part to a trough in the other
    assert (pooled["max_drawdown"] >= whole["max_drawdown"] - 1e-15).all()


_WEIGHT = st.one_of(st.floats(-1.0, 1.0, allow_nan=False), st.just(float("nan")))


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 60),
    m=st.integers(1, 3),
    k=st.integers(1, 3),
    closed=st.sampled_from([0.0, 0.3]),
    cfg_name=st.sampled_from(list(CONFIGS)),
    data=st.data(),
)
def test_property_batch_final_equity_equals_event(seed, n, m, k, closed, cfg_name, data):
    bars = random_bars(seed, n, m, closed_frac=closed)
    w = data.draw(arrays(np.float64, (k, bars.n_bars, m), elements=_WEIGHT))
    cfg = CONFIGS[cfg_name]
    stats = run_batch(batch_market(bars, cfg), w)
    final = window_performance(stats.windows[:, 0], 365)["final_equity"]
    for q in range(k):
        res = run(None, bars, cfg, weights=w[q])
        assert final[q] == pytest.approx(float(res.equity.iloc[-1]), rel=1e-12)
        assert stats.counts[q, 0] == len(res.fills)


def test_bad_inputs_are_value_errors():
    bars = random_bars(3, 40, 2)
    bm = batch_market(bars, BacktestConfig())
    good = np.zeros((1, 40, 2))
    run_batch(bm, good)  # the reference call works
    for shape in [(40, 2), (1, 39, 2), (1, 40, 3), (2, 40)]:
        with pytest.raises(ValueError, match="weights must be"):
            run_batch(bm, np.zeros(shape))
    for bad in (np.inf, -np.inf):
        w = good.copy()
        w[0, 5, 1] = bad
        with pytest.raises(ValueError, match="finite"):
            run_batch(bm, w)
    n = bm.n_periods
    for win in ([[0, n + 1]], [[-1, 5]], [[5, 5]], [[6, 5]], [[0, 1, 2]], [0, n]):
        with pytest.raises(ValueError, match="windows must be"):
            run_batch(bm, good, np.array(win))


def _longest_run_by_hand(flagged_days: list) -> int:
    """Longest run of consecutive calendar days among sorted dates (datetime.date)."""
    longest = run = 0
    prev = None
    for day in flagged_days:
        run = run + 1 if prev is not None and (day - prev).days == 1 else 1
        longest, prev = max(longest, run), day
    return longest


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_off_target_days_count_calendar_days_whatever_the_index_unit(unit):
    """``Result.off_target_days`` once read ``asi8`` as nanoseconds: on a second- or
    microsecond-resolution index (pandas 3 parses dates to those) every gap looked
    shorter than a day, so the longest off-target run spanned the whole sample."""
    import pandas as pd

    bars = random_bars(11, 260, 1)
    bars = type(bars)(**{**bars.__dict__, "index": pd.DatetimeIndex(bars.index).as_unit(unit)})
    cfg = CONFIGS["leverage_borrow"]
    res = run(None, bars, cfg, weights=weight_sets(list(CONFIGS).index("leverage_borrow"),
                                                   bars.n_bars, bars.n_assets)[2])  # fmt: skip
    gap = res.off_target
    days = pd.DatetimeIndex(gap.index).tz_convert("UTC").normalize()
    daily = gap.groupby(days).max() > 0.2
    flagged = [d.date() for d in daily.index[daily.to_numpy()]]
    assert len(flagged) > 3
    assert res.off_target_days() == (len(flagged), _longest_run_by_hand(flagged))
    bm = batch_market(bars, cfg)
    w = weight_sets(list(CONFIGS).index("leverage_borrow"), bars.n_bars, bars.n_assets)
    assert tuple(run_batch(bm, w[2:3]).counts[0, 3:]) == res.off_target_days()
