"""Price indicators shared by strategies and sweeps: simple moving averages and the
SMA-cross decision kernel.

Point in time: every value at bar ``t`` uses closes up to ``t`` only (trailing
windows). Inputs are closes in quote currency; windows are counted in bars.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _sma_1d(c: np.ndarray, window: int) -> np.ndarray:
    # difference of a running sum: O(n), same arithmetic as a numpy cumsum
    n = c.shape[0]
    out = np.full(n, np.nan)
    csum = np.empty(n + 1)
    csum[0] = 0.0
    for i in range(n):
        csum[i + 1] = csum[i] + c[i]
    for i in range(window - 1, n):
        out[i] = (csum[i + 1] - csum[i + 1 - window]) / window
    return out


# bars per block of the cross kernel: the block's running sums stay in L1 cache
CROSS_BLOCK = 4096


@njit(cache=True)
def cross_weights(c: np.ndarray, fast: int, slow: int, out: np.ndarray) -> float:
    """Write 1.0 to ``out[i]`` where SMA(fast) > SMA(slow) at bar ``i``, else 0.0.

    Same arithmetic as ``sma`` (differences of one running sum, divided by the
    window), so the decision is bit-identical to ``sma(c, fast) > sma(c, slow)``.
    Block by block: a serial pass extends the running sum into a small buffer
    that keeps the previous ``slow`` sums, then a branch-free pass compares the
    two averages (vectorised by LLVM). Returns the final running sum: NaN or inf
    means the input held a non-finite price and ``out`` is not meaningful.
    """
    n = c.shape[0]
    buf = np.zeros(slow + CROSS_BLOCK)  # buf[slow + k] = sum(c[: start + k + 1])
    ff = np.float64(fast)
    sf = np.float64(slow)
    total = 0.0
    start = 0
    while start < n:
        size = min(CROSS_BLOCK, n - start)
        for k in range(size):
            total += c[start + k]
            buf[slow + k] = total
        for k in range(size):
            p = slow + k
            f = (buf[p] - buf[p - fast]) / ff
            s = (buf[p] - buf[p - slow]) / sf
            out[start + k] = np.float64(f > s)
        for k in range(slow):  # keep the last ``slow`` sums for the next block
            buf[k] = buf[size + k]
        start += size
    for i in range(min(slow - 1, n)):  # the slow window is not full yet: flat
        out[i] = 0.0
    return total


def sma(close: np.ndarray, window: int) -> np.ndarray:
    """Trailing simple moving average along axis 0; NaN until ``window`` values are seen.

    The input must have no NaN (drop closed-market bars first): a running sum would
    carry a NaN into every later value, so it is refused.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    c = np.asarray(close, dtype=np.float64)
    if np.isnan(c).any():
        raise ValueError("sma input contains NaN; drop closed-market bars first")
    if c.ndim == 1:
        return _sma_1d(np.ascontiguousarray(c), window)
    return np.column_stack(
        [_sma_1d(np.ascontiguousarray(c[:, k]), window) for k in range(c.shape[1])]
    ).reshape(c.shape)
