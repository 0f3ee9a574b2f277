"""SMA cross: long when the fast simple moving average of close is above the slow one.

Trend-following reference strategy (and the benchmark workload). Long-only, all in:
weight 1.0 when SMA(fast) > SMA(slow) at bar t's close, else 0.0 (also before the
slow window is full). Uses closes up to t only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit
from pydantic import Field, model_validator

from strategies.base import MarketView, Strategy, StrategyParams, register


class SmaCrossParams(StrategyParams):
    fast: int = Field(10, ge=1, le=1000, description="fast SMA window, bars")
    slow: int = Field(50, ge=2, le=5000, description="slow SMA window, bars")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be < slow ({self.slow})")
        return self


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
def _cross_weights(c: np.ndarray, fast: int, slow: int, out: np.ndarray) -> float:
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


@register
class SmaCross(Strategy):
    name = "sma_cross"
    Params = SmaCrossParams

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        close = view.close if self.symbols is None else view.close[self.symbols]
        fast, slow = self.params.fast, self.params.slow
        # column-major: each asset's weights are contiguous for the kernel, and
        # pandas keeps this layout as its block without a copy
        weights = np.empty((close.shape[1], close.shape[0])).T
        for k, col in enumerate(close.columns):
            raw = np.ascontiguousarray(close[col].to_numpy(dtype=np.float64))
            if np.isfinite(_cross_weights(raw, fast, slow, weights[:, k])):
                continue
            # a closed-market NaN is not a price: each asset on its own sessions,
            # holding its last decision while its market is closed
            has = ~np.isnan(raw)
            on = np.empty(int(has.sum()))
            _cross_weights(np.ascontiguousarray(raw[has]), fast, slow, on)
            w = pd.Series(on, index=close.index[has]).reindex(close.index).ffill()
            weights[:, k] = w.fillna(0.0).to_numpy()
        return pd.DataFrame(weights, index=close.index, columns=close.columns, copy=False)
