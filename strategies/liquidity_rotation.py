"""Liquidity rotation ("reverse QE"): BTC while liquidity is ample, memory chips while it drains.

Thesis (the articles): AI capex drains dollar liquidity like reverse QE; crypto,
the most liquidity-sensitive asset, suffers while memory-chip makers, paid by that
capex, win. Signal: the 13-week change of Fed net liquidity (WALCL - TGA - RRP,
USD mn, as published; ``signals.liquidity.liquidity_drain``) standardised over
three years. When its z-score is at or below ``drain_z`` the portfolio holds the
memory-chip basket (equal weights over the basket members already trading),
otherwise BTC. Before the z-score exists (needs ~1 year of history) it holds cash.

Point in time: the z-score a bar sees is the one published by that bar's close
(H.4.1 on Thursday 16:30 ET: the Fed's balance sheet as of Wednesday and the week
average of the TGA ending Wednesday; RRP the next morning); the engine fills at the
next open of each asset's own market. BTC trades 24/7, the chip stocks on NYSE
sessions; every price is in USD.

Switching legs: both legs' targets change at the same decision. The engine sells
first and, across calendars, the purchase waits for the sale that funds it (a
switch decided at Friday's New York close buys BTC at the first crypto open after
Monday's NYSE sale), so no wait is needed in the strategy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams

CRYPTO = "BTC-USD"


class LiquidityRotationParams(StrategyParams):
    drain_z: float = Field(-0.5, ge=-3.0, le=3.0, description="z-score at or below = drain")
    weeks: Literal[4, 13] = Field(13, description="horizon of the net-liquidity change, weeks")


class LiquidityRotation(Strategy):
    name = "liquidity_rotation"
    Params = LiquidityRotationParams
    params: LiquidityRotationParams  # the validated instance Strategy.__init__ stores
    default_symbols = (CRYPTO, "MU", "WDC", "STX")  # SNDK (listed 2025-02): pass --symbols
    default_universe = "memory"  # the chip leg; BTC-USD is always the crypto leg
    benchmark = "SPY"

    universes = ("memory",)

    def symbols_for_universe(self, name: str, members: Sequence[str]) -> list[str]:
        """In ``memory``: BTC-USD against all of the universe's chip makers."""
        return [CRYPTO, *super().symbols_for_universe(name, members)]

    def required_symbols(self) -> list[str]:
        """BTC and the first chip maker; later listings (SNDK) join once they trade."""
        chips = [s for s in (self.symbols or self.default_symbols) if s != CRYPTO]
        return [CRYPTO, *chips[:1]]

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        return {"drain": SignalRequest("liquidity_drain")}

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        weights = self.target_weights_batch(view, [self.params])
        assert weights is not None
        return pd.DataFrame(weights[0], index=view.close.index, columns=view.symbols)

    def target_weights_batch(
        self, view: MarketView, params: Sequence[StrategyParams]
    ) -> np.ndarray | None:
        """Every set's weights (sets, bars, assets): the chip basket is computed once."""
        sets = [LiquidityRotationParams.model_validate(p.model_dump()) for p in params]
        close = view.close
        cols = [str(c) for c in close.columns]
        if CRYPTO not in cols:
            raise ValueError(f"liquidity_rotation trades {CRYPTO}; it is not in the data")
        chips = [c for c in cols if c != CRYPTO]
        if not chips:
            raise ValueError("liquidity_rotation needs at least one memory-chip stock")
        started = close[chips].ffill().notna().to_numpy()  # listed by this bar
        n_live = started.sum(axis=1, keepdims=True)
        chip_w = np.divide(started, n_live, out=np.zeros(started.shape), where=n_live > 0)
        at = [cols.index(c) for c in chips]
        out = np.zeros((len(sets), len(close.index), len(cols)))
        for k, p in enumerate(sets):
            z = view.signals["drain"][f"z_{p.weeks}w"].to_numpy(dtype=float)
            known = ~np.isnan(z)
            drain = known & (z <= p.drain_z)
            out[k][:, at] = np.where(drain[:, None], chip_w, 0.0)
            out[k, :, cols.index(CRYPTO)] = np.where(known & ~drain, 1.0, 0.0)
        return out
