"""Performance statistics of an equity curve: one set of formulas for runs and sweeps.

Annualisation: ``periods_per_year`` is 252 for exchange sessions and 365 for
24/7 markets (daily bars; ``data.calendars.periods_per_year``). Returns are simple
per-bar returns of equity, the first one against the initial cash; the Sharpe ratio
assumes a zero risk-free rate and uses the sample stdev (ddof=1); the Sortino ratio
divides by the root mean square of the negative returns. Drawdowns are negative
fractions (-0.25 = 25% below the running peak) measured from the initial cash, as
quantstats does (it prepends a baseline). CAGR counts ``n / periods_per_year`` years.

A single run (`performance`) and the compiled sweeps (``flowbt.optimize``) use the
same compiled steps: ``add_return`` and ``track_drawdown`` per bar, then
``summarize``. The sweeps stream them so they never keep an equity curve.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

PERF_FIELDS = (
    "final_equity",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
)


@njit(cache=True)
def add_return(s1: float, s2: float, s_down: float, r: float) -> tuple[float, float, float]:
    """Running sums of returns, squared returns and squared negative returns."""
    rr = r * r
    return s1 + r, s2 + rr, s_down + (rr if r < 0.0 else 0.0)


@njit(cache=True)
def track_drawdown(peak: float, mdd: float, equity: float) -> tuple[float, float]:
    """Running peak and maximum drawdown (negative fraction) after one more value."""
    if equity > peak:
        return equity, mdd
    if equity < peak * (1.0 + mdd):
        return peak, equity / peak - 1.0
    return peak, mdd


@njit(cache=True)
def summarize(
    n: int,
    s1: float,
    s2: float,
    s_down: float,
    final: float,
    init_cash: float,
    mdd: float,
    ppy: float,
) -> tuple[float, float, float, float, float, float, float, float]:
    """The statistics of ``PERF_FIELDS`` from ``n`` returns' running sums (see module)."""
    nan = np.nan
    total = final / init_cash - 1.0
    years = n / ppy
    cagr = (final / init_cash) ** (1.0 / years) - 1.0 if years > 0 and final > 0 else nan
    mean = s1 / n if n > 0 else nan
    var = (s2 - n * mean * mean) / (n - 1) if n > 1 else nan
    sd = math.sqrt(var) if var > 0.0 else (0.0 if var == 0.0 else nan)
    ann = math.sqrt(ppy)
    sharpe = mean / sd * ann if sd > 0.0 else nan
    downside = math.sqrt(s_down / n) if n > 0 else nan
    sortino = mean / downside * ann if downside > 0.0 else nan
    calmar = cagr / -mdd if mdd < 0.0 else nan
    return final, total, cagr, sd * ann, sharpe, sortino, mdd, calmar


@njit(cache=True)
def performance_nb(
    equity: np.ndarray, init_cash: float, ppy: float
) -> tuple[float, float, float, float, float, float, float, float]:
    """`summarize` of an equity curve, streamed bar by bar as the sweeps do."""
    s1 = s2 = s_down = 0.0
    peak = init_cash
    mdd = 0.0
    prev = init_cash
    for i in range(equity.shape[0]):
        eq = equity[i]
        s1, s2, s_down = add_return(s1, s2, s_down, eq / prev - 1.0)
        peak, mdd = track_drawdown(peak, mdd, eq)
        prev = eq
    return summarize(equity.shape[0], s1, s2, s_down, prev, init_cash, mdd, ppy)


def performance(equity: np.ndarray, init_cash: float, periods_per_year: int) -> dict[str, float]:
    """total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar, final_equity."""
    eq = np.ascontiguousarray(equity, dtype=np.float64)
    values = performance_nb(eq, float(init_cash), float(periods_per_year))
    return {name: float(v) for name, v in zip(PERF_FIELDS, values, strict=True)}


def bar_returns(equity: np.ndarray, init_cash: float) -> np.ndarray:
    """Simple return of each bar, the first against ``init_cash``."""
    prev = np.concatenate([[init_cash], equity[:-1]])
    return equity / prev - 1.0


def max_drawdown(equity: np.ndarray, init_cash: float | None = None) -> float:
    """Largest fall below the running peak (negative fraction), from ``init_cash`` if given."""
    eq = np.asarray(equity, dtype=np.float64)
    if len(eq) == 0:
        return 0.0
    if init_cash is not None:
        eq = np.concatenate([[init_cash], eq])
    peak = np.maximum.accumulate(eq)
    return float(np.min(eq / peak - 1.0))
