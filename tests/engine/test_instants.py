"""Next-open fills across calendars happen at the next open *in time* (engine/instants.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.instants import instant_grid
from engine.market import bars_from_market
from engine.simulator import run_event
from engine.vector import run_vector

SYMBOLS = ["SPY", "BTC-USD"]


def spy_timed_weights(bars) -> np.ndarray:
    """45% in BTC when SPY's last known close is above its 5-session mean, else 45% in
    SPY (causal; under half each, so a buy never waits for the other leg's sale)."""
    spy = pd.Series(bars.close[:, 0])
    sessions = spy.dropna()
    above = (sessions > sessions.rolling(5).mean()).reindex(spy.index).ffill()
    btc = above.fillna(False).to_numpy(dtype=float)
    return 0.45 * np.column_stack([1.0 - btc, btc])


def test_grid_orders_closes_and_opens_in_time(bundle):
    bars, _ = bars_from_market(bundle, SYMBOLS, start="2024-03-07", end="2024-03-11")
    grid = instant_grid(bars)
    idx = grid.bars.index
    assert idx.is_monotonic_increasing
    # every bar row's close is a grid row at the same instant, in the same order
    assert idx[grid.close_rows].equals(bars.index)
    # SPY opens 14:30 UTC on Friday 2024-03-08 (EST) and 13:30 on Monday 03-11 (EDT)
    spy_opens = idx[grid.bars.tradable[:, 0]]
    assert [str(t) for t in spy_opens] == [
        "2024-03-07 14:30:00+00:00",
        "2024-03-08 14:30:00+00:00",
        "2024-03-11 13:30:00+00:00",
    ]
    # at 00:00 UTC the crypto day that ends comes before the one that begins
    midnight = np.flatnonzero(idx == pd.Timestamp("2024-03-09", tz="UTC"))
    assert len(midnight) == 2
    assert not grid.bars.tradable[midnight[0], 1] and grid.bars.tradable[midnight[1], 1]
    assert grid.bars.close[midnight[0], 1] == bars.close[bars.index.get_loc(idx[midnight[0]]), 1]


def test_an_order_decided_at_the_new_york_close_fills_at_the_next_crypto_open(bundle):
    bars, _ = bars_from_market(bundle, SYMBOLS, start="2024-03-04", end="2024-03-15")
    w = np.zeros((bars.n_bars, 2))
    spy_rows = np.flatnonzero(bars.tradable[:, 0])
    decided = spy_rows[3]  # a SPY session close: go into BTC from here on
    w[decided:, 1] = 1.0
    for run in (run_event, run_vector):
        res = run(None, bars, BacktestConfig(costs=CostModel(fees=0.001)), weights=w)
        fill = res.orders.iloc[0]
        decided_at = bars.index[decided]
        btc = bundle.price("BTC-USD")
        next_day = decided_at.normalize() + pd.Timedelta(days=1)
        assert fill["symbol"] == "BTC-USD"
        # the BTC day that opened at 00:00 of the decision date (20 h before the
        # decision) must not fill it; the next one, opening at the next midnight, does
        assert fill["price"] == pytest.approx(btc.loc[next_day, "open"], rel=1e-12)
        assert fill["date"] == next_day + pd.Timedelta(days=1)  # the bar row: its close


@pytest.mark.parametrize("run", [run_event, run_vector])
def test_fills_before_an_instant_do_not_depend_on_later_data(bundle, run):
    """Point in time: rewrite SPY from one session on; every fill at an open before that
    session's close is unchanged (with close-instant rows this failed for BTC fills)."""
    bars, _ = bars_from_market(bundle, SYMBOLS, start="2023-01-01", end="2023-06-30")
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    spy_rows = np.flatnonzero(bars.tradable[:, 0])
    w = spy_timed_weights(bars)
    # a session in the second half whose decision repeats the previous one; the rewrite
    # flips it, so the rewritten run sends an order right after this close
    half = spy_rows[len(spy_rows) // 2 :]
    k = next(k for k in range(1, len(half)) if w[half[k], 1] == w[half[k - 1], 1])
    cut = half[k]
    base = run(None, bars, cfg, weights=w)
    changed = {f: getattr(bars, f).copy() for f in ("open", "high", "low", "close")}
    later = spy_rows[spy_rows >= cut]
    for f in changed:
        changed[f][later, 0] *= 0.7 if w[cut, 1] > 0.0 else 1.3
    other = replace(bars, **changed)
    moved_w = spy_timed_weights(other)
    assert moved_w[cut, 1] != w[cut, 1]  # the rewrite flips the decision at the cut
    moved = run(None, other, cfg, weights=moved_w)
    decided_at = bars.index[cut].as_unit("ns").value

    def filled_before(res):
        cols = res.orders["symbol"].map(SYMBOLS.index).to_numpy()
        opens = bars.opens[res.orders["bar"].to_numpy(), cols]
        return res.orders[opens < decided_at].reset_index(drop=True)

    before = filled_before(base)
    assert len(before) > 5 and len(moved.orders) > len(before)
    assert set(before["symbol"]) == set(SYMBOLS)  # both legs trade
    pd.testing.assert_frame_equal(filled_before(moved), before)
