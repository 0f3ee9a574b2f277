"""Parameter sweep of the SMA cross in one compiled, parallel pass.

Each moving-average window is computed once and shared by every combination
that uses it; the combinations then run the same single-asset, all-in,
next-open loop as the event engine (same fill arithmetic from
``engine.nb.fills``, same statistics from ``engine.stats``), in parallel over combinations (numba ``prange``).
Memory stays O(windows x bars), independent of the number of combinations.
Outputs per combination: final equity, total return, Sharpe, max drawdown
(negative fraction) and the number of fills.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit, prange

from engine.nb.fills import FILLED, is_close, trade_units
from engine.stats import add_return, summarize, track_drawdown
from signals.indicators import sma


@njit(cache=True)
def _run_combo(
    open_: np.ndarray,
    close: np.ndarray,
    fast: np.ndarray,
    slow: np.ndarray,
    fees: float,
    init_cash: float,
    ppy: float,
) -> tuple[float, float, float, int]:
    n = close.shape[0]
    cash = init_cash
    pos = 0.0
    held = False
    n_fills = 0
    prev_eq = init_cash
    peak = init_cash
    mdd = 0.0
    s1 = s2 = s_down = 0.0
    for i in range(n):
        if i > 0:
            want = fast[i - 1] > slow[i - 1]  # decided at the previous close
            if want != held:
                if is_close(cash, 0.0):
                    cash = 0.0
                # same arithmetic as the engine's target 1.0 / 0.0 of value at the open
                units = (cash + pos * open_[i]) / open_[i] - pos if want else -pos
                c1, p1, _f, _p, _fee, status = trade_units(
                    cash, pos, units, open_[i], fees, 0.0, 0.0, np.nan
                )
                if status == FILLED:
                    cash = c1
                    pos = p1
                    n_fills += 1
                held = want
        if pos == 0.0 and cash == prev_eq:
            continue  # flat and unchanged: return 0, no new peak or drawdown
        eq = cash + pos * close[i] if pos != 0.0 else cash
        s1, s2, s_down = add_return(s1, s2, s_down, eq / prev_eq - 1.0)
        peak, mdd = track_drawdown(peak, mdd, eq)
        prev_eq = eq
    sharpe = summarize(n, s1, s2, s_down, prev_eq, init_cash, mdd, ppy)[4]  # PERF_FIELDS
    return prev_eq, sharpe, mdd, n_fills


@njit(cache=True, parallel=True)
def sweep_sma_cross_nb(
    open_: np.ndarray,
    close: np.ndarray,
    sma_table: np.ndarray,
    fast_row: np.ndarray,
    slow_row: np.ndarray,
    fees: float,
    init_cash: float,
    ppy: float,
) -> np.ndarray:
    """Rows of ``sma_table`` are SMAs per window; returns (n_combos, 4) results."""
    k = fast_row.shape[0]
    out = np.empty((k, 4))
    for c in prange(k):
        eq, sharpe, mdd, fills = _run_combo(
            open_, close, sma_table[fast_row[c]], sma_table[slow_row[c]], fees, init_cash, ppy
        )
        out[c, 0] = eq
        out[c, 1] = sharpe
        out[c, 2] = mdd
        out[c, 3] = fills
    return out


def sweep_sma_cross(
    open_: np.ndarray,
    close: np.ndarray,
    fast: list[int] | np.ndarray,
    slow: list[int] | np.ndarray,
    *,
    fees: float = 0.0,
    init_cash: float = 100_000.0,
    periods_per_year: int = 252,
) -> pd.DataFrame:
    """All (fast, slow) pairs with fast < slow; one row per combination.

    Same conventions as ``sma_cross`` in the event engine: signal at t's close,
    all-in at t+1's open, fee as a fraction of notional, fractional units.
    """
    o = np.ascontiguousarray(open_, dtype=np.float64)
    c = np.ascontiguousarray(close, dtype=np.float64)
    if o.ndim != 1 or o.shape != c.shape:
        raise ValueError("open_ and close must be 1-d arrays of equal length")
    pairs = [(f, s) for f in fast for s in slow if f < s]
    if not pairs:
        raise ValueError("no (fast, slow) pair with fast < slow")
    windows = sorted({w for p in pairs for w in p})
    row = {w: k for k, w in enumerate(windows)}
    table = np.empty((len(windows), len(c)))
    for w, k in row.items():
        table[k] = sma(c, w)
    fr = np.array([row[f] for f, _ in pairs], dtype=np.int64)
    sr = np.array([row[s] for _, s in pairs], dtype=np.int64)
    res = sweep_sma_cross_nb(o, c, table, fr, sr, fees, init_cash, float(periods_per_year))
    return pd.DataFrame(
        {
            "fast": [f for f, _ in pairs],
            "slow": [s for _, s in pairs],
            "final_equity": res[:, 0],
            "total_return": res[:, 0] / init_cash - 1.0,
            "sharpe": res[:, 1],
            "max_drawdown": res[:, 2],
            "n_orders": res[:, 3].astype(np.int64),
        }
    )
