"""Buyback blackout: step back from the index while corporate buyers are away.

Thesis (the articles): corporate buybacks are the largest buyer of US equities and
stop during blackout windows around earnings. Signal:
``signals.buyback.blackout_share`` (``share_projected``: share of S&P 500 members in
blackout, 0-1, with release dates projected from each company's usual lag once the
real ones run out). Weight: 1.0 while the share is below ``threshold``,
``blackout_weight`` while it is at or above. Survivorship caveat: the earnings data
covers today's members only.

Point in time: the share at a bar uses releases known by that bar's close (8-K
filing time); filled at the next session's open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import Field

from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams


class BuybackBlackoutParams(StrategyParams):
    threshold: float = Field(0.5, gt=0.0, le=1.0, description="blackout share that counts")
    blackout_weight: float = Field(0.5, ge=0.0, le=1.0, description="weight during blackout")


class BuybackBlackout(Strategy):
    name = "buyback_blackout"
    Params = BuybackBlackoutParams
    params: BuybackBlackoutParams  # the validated instance Strategy.__init__ stores
    default_symbols = ("SPY",)
    default_universe = "equities"
    benchmark = "SPY"

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        return {"blackout": SignalRequest("blackout_share")}

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        symbol = (self.symbols or list(self.default_symbols))[0]
        share = view.signals["blackout"]["share_projected"].to_numpy(dtype=float)
        w = np.where(share >= self.params.threshold, self.params.blackout_weight, 1.0)
        w = np.where(np.isnan(share), 0.0, w)
        return pd.DataFrame({symbol: w}, index=view.close.index)

    def target_weights_batch(
        self, view: MarketView, params: Sequence[StrategyParams]
    ) -> np.ndarray | None:
        """Every set's weights in one broadcast (sets, bars, 1); other symbols flat."""
        symbol = (self.symbols or list(self.default_symbols))[0]
        sets = [
            p
            if isinstance(p, BuybackBlackoutParams)
            else BuybackBlackoutParams.model_validate(p.model_dump())
            for p in params
        ]  # a set must be this strategy's parameters
        share = view.signals["blackout"]["share_projected"].to_numpy(dtype=float)
        threshold = np.array([p.threshold for p in sets])[:, None]
        during = np.array([p.blackout_weight for p in sets])[:, None]
        w = np.where(share[None, :] >= threshold, during, 1.0)
        w[:, np.isnan(share)] = 0.0
        if len(view.symbols) == 1:
            return w[:, :, None]
        out = np.zeros((len(sets), len(view.close.index), len(view.symbols)))
        out[:, :, view.symbols.index(symbol)] = w
        return out
