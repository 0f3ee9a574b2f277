"""The strategy contract: parameter bounds, search space, registry, point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from signals.indicators import sma
from strategies.base import MarketView, Strategy
from strategies.registry import get_strategy, known_strategies, register
from strategies.sma_cross import SmaCross


def view_of(close: pd.Series) -> MarketView:
    f = close.to_frame("X")
    return MarketView(open=f, high=f, low=f, close=f)


def walk(n: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2020-01-01", periods=n, freq="B", tz="UTC")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), index=idx)


def test_registry_and_unknown_name():
    assert get_strategy("sma_cross") is SmaCross
    assert "sma_cross" in known_strategies()
    with pytest.raises(ValueError, match="unknown strategy 'foo'; known strategies: .*sma_cross"):
        get_strategy("foo")


def test_register_rejects_duplicate_names():
    class Dup(Strategy):
        name = "sma_cross"

    with pytest.raises(ValueError, match="already registered"):
        register(Dup)


def test_params_defaults_bounds_and_validator():
    s = SmaCross()
    assert (s.params.fast, s.params.slow) == (10, 50)
    with pytest.raises(ValidationError, match="fast \\(50\\) must be < slow \\(50\\)"):
        SmaCross({"fast": 50, "slow": 50})
    with pytest.raises(ValidationError):
        SmaCross({"fast": 0})
    with pytest.raises(ValidationError):
        SmaCross({"fast": 5, "slow": 20, "oops": 1})
    assert SmaCross({"fast": "5", "slow": "20"}).params.fast == 5  # CLI strings coerce


def test_search_space_exposes_type_default_bounds():
    space = SmaCross.search_space()
    assert space["fast"] == {"type": "int", "default": 10, "ge": 1, "le": 1000}
    assert space["slow"]["default"] == 50 and space["slow"]["ge"] == 2


def test_sma_matches_rolling_mean():
    c = walk(300).to_numpy()
    np.testing.assert_allclose(
        sma(c, 20), pd.Series(c).rolling(20).mean().to_numpy(), rtol=1e-12, equal_nan=True
    )


def test_weights_are_one_when_fast_above_slow_else_zero():
    close = walk(400)
    w = SmaCross({"fast": 5, "slow": 30}).target_weights(view_of(close))["X"]
    fast, slow = close.rolling(5).mean(), close.rolling(30).mean()
    expected = (fast > slow).astype(float)
    assert set(w.unique()) <= {0.0, 1.0}
    assert (w.iloc[:29] == 0).all()
    pd.testing.assert_series_equal(w, expected, check_names=False)


@pytest.mark.parametrize(
    ("fast", "slow", "n"),
    [(1, 2, 3000), (5, 30, 3000), (10, 50, 10_000), (49, 50, 9000), (7, 5000, 12_000), (3, 80, 40)],
)
def test_weights_use_exactly_the_sma_arithmetic(fast, slow, n):
    """The blocked kernel must reproduce ``sma`` bit for bit (ties included), across
    block boundaries (4096 bars), with a slow window longer than a block, and on
    fewer bars than the slow window."""
    c = np.round(walk(n).to_numpy(), 2)  # rounded prices make exact ties likely
    w = SmaCross({"fast": fast, "slow": slow}).target_weights(view_of(pd.Series(c)))
    expected = np.nan_to_num(sma(c, fast) > sma(c, slow)).astype(float)
    np.testing.assert_array_equal(w.iloc[:, 0].to_numpy(), expected)


def test_each_asset_is_weighted_on_its_own_sessions():
    """Several columns, one with closed-market gaps: each matches its own single run."""
    a = np.round(walk(9000, seed=1).to_numpy(), 2)
    b = np.round(walk(9000, seed=2).to_numpy(), 2)
    b[::7] = np.nan  # closed every 7th bar
    close = pd.DataFrame({"A": a, "B": b}, index=pd.date_range("2020-01-01", periods=9000))
    strat = SmaCross({"fast": 4, "slow": 20})
    both = strat.target_weights(MarketView(close, close, close, close))
    np.testing.assert_array_equal(
        both["A"].to_numpy(), np.nan_to_num(sma(a, 4) > sma(a, 20)).astype(float)
    )
    has = ~np.isnan(b)
    own = np.nan_to_num(sma(b[has], 4) > sma(b[has], 20)).astype(float)
    expected_b = pd.Series(own, index=close.index[has]).reindex(close.index).ffill().fillna(0.0)
    np.testing.assert_array_equal(both["B"].to_numpy(), expected_b.to_numpy())


def test_point_in_time_truncation_gives_identical_history():
    close = walk(500, seed=3)
    strat = SmaCross({"fast": 7, "slow": 40})
    full = strat.target_weights(view_of(close))["X"]
    for t in (45, 200, 499):
        part = strat.target_weights(view_of(close.iloc[: t + 1]))["X"]
        pd.testing.assert_series_equal(part, full.iloc[: t + 1])
    # scrambling the future does not change the past either
    scrambled = close.copy()
    scrambled.iloc[300:] = scrambled.iloc[300:].to_numpy()[::-1]
    again = strat.target_weights(view_of(scrambled))["X"]
    pd.testing.assert_series_equal(again.iloc[:300], full.iloc[:300])


def test_closed_market_bars_are_not_prices():
    # a NaN (closed) bar carries the last decision forward and is skipped by the SMA
    close = walk(120)
    gappy = close.copy()
    gappy.iloc[60] = np.nan
    w = SmaCross({"fast": 3, "slow": 10}).target_weights(view_of(gappy))["X"]
    assert w.iloc[60] == w.iloc[59]
    assert not w.isna().any()
