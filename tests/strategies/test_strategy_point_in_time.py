"""Point in time, for every registered strategy: weights up to bar t never change when
the data after t is truncated or scrambled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategies.base import MarketView, get_strategy, known_strategies


def view(n: int, seed: int, symbols=("A", "B")) -> MarketView:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-01", periods=n, freq="B", tz="UTC")
    close = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, len(symbols))), axis=0)),
        index=idx,
        columns=list(symbols),
    )
    close.iloc[rng.random(close.shape) < 0.05] = np.nan  # closed sessions
    return MarketView(open=close, high=close * 1.01, low=close * 0.99, close=close)


def cut(v: MarketView, t: int) -> MarketView:
    return MarketView(*(getattr(v, f).iloc[: t + 1] for f in ("open", "high", "low", "close")))


def scramble_after(v: MarketView, t: int, seed: int) -> MarketView:
    rng = np.random.default_rng(seed)
    out = []
    for f in ("open", "high", "low", "close"):
        frame = getattr(v, f).copy()
        tail = frame.iloc[t + 1 :].to_numpy()
        frame.iloc[t + 1 :] = tail[rng.permutation(len(tail))] * 1.7
        out.append(frame)
    return MarketView(*out)


def assert_point_in_time(strategy, v: MarketView, cuts=(60, 150, 299)) -> None:
    """Reusable helper: truncation and scrambling after t leave rows <= t unchanged."""
    full = strategy.target_weights(v)
    assert full.index.equals(v.close.index)
    for t in cuts:
        part = strategy.target_weights(cut(v, t))
        pd.testing.assert_frame_equal(part, full.iloc[: t + 1])
        mixed = strategy.target_weights(scramble_after(v, t, seed=t))
        pd.testing.assert_frame_equal(mixed.iloc[: t + 1], full.iloc[: t + 1])


@pytest.mark.parametrize("name", known_strategies())
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_strategy_is_point_in_time(name, seed):
    cls = get_strategy(name)
    assert_point_in_time(cls(), view(300, seed))
