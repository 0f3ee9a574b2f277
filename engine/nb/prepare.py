"""Compiled preparation passes: the target list, the leverage check and the plan's prices.

Arrays in, arrays out (``engine.targets`` and ``engine.plan`` wrap them). Point in
time: row ``r`` of the weights takes effect at bar ``r + lag`` (lag 1 = next open); the
valuation price at a fill is never a later close.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def order_targets_nb(
    weights: np.ndarray, tradable: np.ndarray, lag: int, every_bar: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decisions in bar order as (bar, column, weight); row ``r`` takes effect at bar
    ``r + lag``: when it changes the asset's weight, or (``every_bar``) at every bar the
    asset trades, so drift is rebalanced."""
    n, m = weights.shape
    # room for every cell; pages never written are never touched, so this costs
    # nothing beyond the targets actually sent
    bars = np.empty(n * m, dtype=np.int64)
    cols = np.empty(n * m, dtype=np.int64)
    values = np.empty(n * m)
    sent = np.zeros(m)  # flat before the first bar
    k = 0
    for i in range(lag, n):
        for j in range(m):
            w = weights[i - lag, j]
            if np.isnan(w):
                continue
            if w != sent[j] or (every_bar and tradable[i, j]):
                bars[k] = i
                cols[k] = j
                values[k] = w
                sent[j] = w
                k += 1
    return bars[:k].copy(), cols[:k].copy(), values[:k].copy()


@njit(cache=True)
def max_gross(w: np.ndarray) -> float:
    """Largest row gross exposure sum(|w|), NaN ignored (inf when a weight is infinite)."""
    n, m = w.shape
    worst = 0.0
    if m == 1:  # branch-free max: vectorised
        for i in range(n):
            a = abs(w[i, 0])
            if a > worst:  # False for NaN
                worst = a
        return worst
    for i in range(n):
        gross = 0.0
        for j in range(m):
            if not np.isnan(w[i, j]):
                gross += abs(w[i, j])
        if gross > worst:
            worst = gross
    return worst


@njit(cache=True)
def cap_rows(w: np.ndarray, cap: float) -> np.ndarray:
    out = w.copy()
    for i in range(w.shape[0]):
        gross = 0.0
        for j in range(w.shape[1]):
            if not np.isnan(w[i, j]):
                gross += abs(w[i, j])
        if gross > cap:
            scale = cap / gross
            for j in range(w.shape[1]):
                out[i, j] = w[i, j] * scale
    return out


@njit(cache=True)
def plan_prices(
    open_: np.ndarray, close: np.ndarray, tradable: np.ndarray, next_open: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass: fill price, valuation price at fill time, last known close."""
    n, m = close.shape
    fill = np.empty((n, m))
    val = np.empty((n, m))
    last = np.empty((n, m))
    for j in range(m):
        known = np.nan
        for i in range(n):
            before = known  # last close strictly before bar i's open
            if not np.isnan(close[i, j]):
                known = close[i, j]
            last[i, j] = known
            if tradable[i, j]:
                px = open_[i, j] if next_open else close[i, j]
                fill[i, j] = px
                val[i, j] = px
            else:
                fill[i, j] = np.nan
                val[i, j] = before if next_open else known
    return fill, val, last
