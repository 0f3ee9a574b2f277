"""Performance statistics of an equity curve.

Annualisation: ``periods_per_year`` is 252 for exchange sessions and 365 for
24/7 markets (daily bars). Returns are simple per-bar returns of equity; the
Sharpe ratio assumes a zero risk-free rate and uses the sample stdev (ddof=1).
Drawdowns are negative fractions (-0.25 = 25% below the running peak).
"""

from __future__ import annotations

import math

import numpy as np

PERIODS = {"sessions": 252, "24/7": 365}


def periods_for_calendar(calendar: str) -> int:
    """252 for exchange sessions, 365 for 24/7 (crypto) daily bars."""
    key = calendar.lower()
    if key in ("24/7", "247", "crypto", "always_open"):
        return 365
    if key in ("sessions", "nyse", "xnys", "exchange", "xkrx", "krx"):
        return 252
    raise ValueError(f"unknown calendar {calendar!r}; use 'sessions' (252/yr) or '24/7' (365/yr)")


def bar_returns(equity: np.ndarray, init_cash: float) -> np.ndarray:
    prev = np.concatenate([[init_cash], equity[:-1]])
    return equity / prev - 1.0


def max_drawdown(equity: np.ndarray) -> float:
    if len(equity) == 0:
        return 0.0
    peak = np.maximum.accumulate(equity)
    return float(np.min(equity / peak - 1.0))


def performance(equity: np.ndarray, init_cash: float, periods_per_year: int) -> dict[str, float]:
    """total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar, final_equity."""
    eq = np.asarray(equity, dtype=np.float64)
    n = len(eq)
    final = float(eq[-1]) if n else float(init_cash)
    rets = bar_returns(eq, init_cash) if n else np.empty(0)
    total = final / init_cash - 1.0
    years = n / periods_per_year
    cagr = (final / init_cash) ** (1.0 / years) - 1.0 if years > 0 and final > 0 else float("nan")
    sd = float(np.std(rets, ddof=1)) if n > 1 else float("nan")
    mean = float(np.mean(rets)) if n else float("nan")
    ann = math.sqrt(periods_per_year)
    sharpe = mean / sd * ann if sd and sd > 0 else float("nan")
    downside = float(np.sqrt(np.mean(np.minimum(rets, 0.0) ** 2))) if n else float("nan")
    sortino = mean / downside * ann if downside and downside > 0 else float("nan")
    mdd = max_drawdown(eq)
    calmar = cagr / -mdd if mdd < 0 else float("nan")
    return {
        "final_equity": final,
        "total_return": total,
        "cagr": cagr,
        "volatility": sd * ann if sd == sd else float("nan"),
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": mdd,
        "calmar": calmar,
    }
