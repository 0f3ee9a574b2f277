"""SMA cross: long when the fast simple moving average of close is above the slow one.

Trend-following reference strategy (and the benchmark workload). Long-only, all in:
weight 1.0 when SMA(fast) > SMA(slow) at bar t's close, else 0.0 (also before the
slow window is full). Uses closes up to t only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from signals.indicators import cross_weights
from strategies.base import MarketView, Strategy, StrategyParams


class SmaCrossParams(StrategyParams):
    fast: int = Field(10, ge=1, le=1000, description="fast SMA window, bars")
    slow: int = Field(50, ge=2, le=5000, description="slow SMA window, bars")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be < slow ({self.slow})")
        return self


class SmaCross(Strategy):
    name = "sma_cross"
    Params = SmaCrossParams
    universes = ("equities", "memory", "crypto")

    def required_symbols(self) -> list[str]:
        """The first symbol; a basket's later listings trade once their windows fill."""
        return list(self.symbols or [])[:1]

    params: SmaCrossParams  # the validated instance Strategy.__init__ stores

    def warmup_bars(self) -> int:
        """SMA(slow) is first defined on bar ``slow`` (the first decision), filled a bar later."""
        return int(self.params.slow)

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        close = view.close if self.symbols is None else view.close[self.symbols]
        fast, slow = self.params.fast, self.params.slow
        # column-major: each asset's weights are contiguous for the kernel, and
        # pandas keeps this layout as its block without a copy
        weights = np.empty((close.shape[1], close.shape[0])).T
        for k, col in enumerate(close.columns):
            raw = np.ascontiguousarray(close[col].to_numpy(dtype=np.float64))
            if np.isfinite(cross_weights(raw, fast, slow, weights[:, k])):
                continue
            # a closed-market NaN is not a price: each asset on its own sessions,
            # holding its last decision while its market is closed
            has = ~np.isnan(raw)
            on = np.empty(int(has.sum()))
            cross_weights(np.ascontiguousarray(raw[has]), fast, slow, on)
            w = pd.Series(on, index=close.index[has]).reindex(close.index).ffill()
            weights[:, k] = w.fillna(0.0).to_numpy()
        return pd.DataFrame(weights, index=close.index, columns=close.columns, copy=False)
