"""engine.stats (the one performance function of runs and sweeps) against quantstats.

quantstats is the independent calculation: the same returns and the same periods per
year must give the same Sharpe, Sortino, volatility, CAGR, max drawdown and Calmar.
Real curves: SPY total return (NYSE sessions, 252/yr) and BTC (24/7, 365/yr), and a
curve whose first bar is a loss (drawdown counts from the initial cash in both).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from data.calendars import periods_per_year
from engine.stats import PERF_FIELDS, performance, performance_nb

INIT = 100_000.0


def _curves(bundle) -> list[tuple[str, pd.Series, int]]:
    spy = bundle.price("SPY")["adj_close"].loc["2015-01-02":"2024-12-31"]
    btc = bundle.price("BTC-USD")["close"].loc["2018-01-01":"2024-12-31"]
    out = []
    for name, close, cal in (("SPY", spy, "XNYS"), ("BTC-USD", btc, "24/7")):
        equity = INIT * close / close.iloc[0] * 0.99  # a 1% cost on the first bar
        out.append((name, equity.tz_localize(None), periods_per_year(cal)))
    return out


def _returns(equity: pd.Series) -> pd.Series:
    prev = equity.shift(1)
    prev.iloc[0] = INIT
    return equity / prev - 1.0


@pytest.mark.parametrize("which", [0, 1])
def test_performance_matches_quantstats_on_real_curves(bundle, which):
    name, equity, ppy = _curves(bundle)[which]
    ours = performance(equity.to_numpy(), INIT, ppy)
    r = _returns(equity)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = {
            "sharpe": qs.stats.sharpe(r, periods=ppy),
            "sortino": qs.stats.sortino(r, periods=ppy),
            "volatility": qs.stats.volatility(r, periods=ppy),
            "cagr": qs.stats.cagr(r, periods=ppy),
            "max_drawdown": qs.stats.max_drawdown(r),
            "calmar": qs.stats.calmar(r, periods=ppy),
        }
    for key, want in theirs.items():
        assert ours[key] == pytest.approx(float(want), rel=1e-9), (name, key)
    assert ours["final_equity"] == equity.iloc[-1]
    assert ours["total_return"] == pytest.approx(equity.iloc[-1] / INIT - 1.0, rel=1e-12)


def test_first_bar_loss_is_a_drawdown_from_the_initial_cash():
    equity = np.array([90_000.0, 95_000.0, 99_000.0])  # never back to 100k
    ours = performance(equity, INIT, 252)
    r = _returns(pd.Series(equity, index=pd.bdate_range("2024-01-02", periods=3)))
    assert ours["max_drawdown"] == pytest.approx(-0.10)
    assert ours["max_drawdown"] == pytest.approx(float(qs.stats.max_drawdown(r)))


def test_streamed_and_python_entry_points_are_one_function():
    rng = np.random.default_rng(3)
    equity = INIT * np.cumprod(1.0 + rng.normal(0.0004, 0.01, 2000))
    values = performance_nb(equity, INIT, 365.0)
    assert dict(zip(PERF_FIELDS, values, strict=True)) == performance(equity, INIT, 365)
