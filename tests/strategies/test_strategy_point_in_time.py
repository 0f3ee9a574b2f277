"""Point in time, for every registered strategy: weights up to bar t never change when
the data (prices and signals) after t is truncated or scrambled. Strategies that read
signals run on real bundled bars with their signals aligned by `engine.market`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import market_view

from strategies.base import MarketView
from strategies.registry import get_strategy, known_strategies


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


def real_view(strategy, md, start: str, n: int) -> MarketView:
    return cut(market_view(strategy, md, start, None), n - 1)


def cut(v: MarketView, t: int) -> MarketView:
    frames = (getattr(v, f).iloc[: t + 1] for f in ("open", "high", "low", "close"))
    return MarketView(*frames, signals={k: s.iloc[: t + 1] for k, s in v.signals.items()})


def _scrambled(frame: pd.DataFrame, t: int, rng: np.random.Generator) -> pd.DataFrame:
    frame = frame.copy()
    order = rng.permutation(len(frame) - t - 1)
    for col in frame.columns:
        tail = frame[col].iloc[t + 1 :].to_numpy()[order]
        if tail.dtype.kind == "f":
            tail = tail * 1.7 - 0.3
        frame.iloc[t + 1 :, frame.columns.get_loc(col)] = tail
    return frame


def scramble_after(v: MarketView, t: int, seed: int) -> MarketView:
    rng = np.random.default_rng(seed)
    frames = [_scrambled(getattr(v, f), t, rng) for f in ("open", "high", "low", "close")]
    signals = {k: _scrambled(s, t, rng) for k, s in v.signals.items()}
    return MarketView(*frames, signals=signals)


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
def test_every_strategy_is_point_in_time(name, seed, bundle):
    strategy = get_strategy(name)()
    if strategy.signal_requests():
        start = ["2015-06-01", "2019-03-01", "2024-01-02"][seed]
        v = real_view(strategy, bundle, start, 300)
        weights = strategy.target_weights(v)
        assert weights.abs().sum().sum() > 0, "no position taken: the window tests nothing"
        assert weights.nunique().max() > 1, "weights never change: the window tests nothing"
    else:
        v = view(300, seed)
    assert_point_in_time(strategy, v)
