"""Trading costs: proportional and fixed fees, slippage (flat or spread/volatility model).

Units: ``fees`` and ``slippage`` are fractions of notional / price (0.001 = 10 bps);
``fixed_fees`` is in quote currency per fill. Slippage moves the fill price against
the trader: buys pay ``price * (1 + s)``, sells receive ``price * (1 - s)``.
Point in time: the spread/vol model uses volatility known at the previous close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class CostModel(BaseModel):
    """Costs of one fill; ``vol_slippage`` adds ``k * sigma`` (sigma = rolling stdev of
    close-to-close returns over ``vol_window`` bars, lagged one bar) to the flat slippage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fees: float = Field(0.0, ge=0.0, le=0.1, description="fraction of notional per fill")
    fixed_fees: float = Field(0.0, ge=0.0, description="quote currency per fill")
    slippage: float = Field(0.0, ge=0.0, le=0.1, description="fraction of price (half spread)")
    vol_slippage: float = Field(0.0, ge=0.0, le=10.0, description="multiple of bar volatility")
    vol_window: int = Field(20, ge=2, le=1000)

    @classmethod
    def from_bps(cls, fees_bps: float = 0.0, slippage_bps: float = 0.0, **kw: float) -> CostModel:
        return cls(fees=fees_bps / 1e4, slippage=slippage_bps / 1e4, **kw)

    @property
    def is_flat(self) -> bool:
        """True when slippage is one constant (expressible in vectorbt as a scalar)."""
        return self.vol_slippage == 0.0

    def slippage_matrix(self, close: np.ndarray) -> np.ndarray:
        """Slippage fraction per bar and asset, shape of ``close`` (n, m)."""
        out = np.full(close.shape, self.slippage, dtype=np.float64)
        if self.vol_slippage > 0.0:
            frame = pd.DataFrame(close).ffill()
            sigma = frame.pct_change(fill_method=None).rolling(self.vol_window).std().shift(1)
            out += self.vol_slippage * sigma.fillna(0.0).to_numpy()
        return np.minimum(out, 0.5)
