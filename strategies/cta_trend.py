"""CTA trend follower: hold what the estimated CTA community holds.

Thesis (the articles): trend followers and vol-target funds flip at mechanical
levels, so their estimated position is itself a flow signal. Signal:
``signals.cta.cta_position`` on the traded symbol (equal-weighted trend scores over
20/60/120/250 sessions, scaled to ``target_vol`` / realised 60-day vol, capped at
``max_leverage``, clipped to [-1, 1]). The weight is that position, floored at 0
when ``long_only``; with several symbols (``--universe``) each asset's own position
divided by the number of assets that have one at that bar (an equal risk budget each;
a member listed later joins once its position is defined).

Point in time: the position at a bar uses closes up to that bar; it is filled at
the next session's open.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from pydantic import Field

from data.calendars import calendar_for
from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams


class CtaTrendParams(StrategyParams):
    target_vol: float = Field(0.10, gt=0.0, le=1.0, description="annual vol target, fraction")
    max_leverage: float = Field(1.0, gt=0.0, le=2.0, description="cap on target/realised vol")
    long_only: bool = Field(True, description="floor the weight at 0 (no shorts)")


class CtaTrend(Strategy):
    name = "cta_trend"
    Params = CtaTrendParams
    params: CtaTrendParams  # the validated instance Strategy.__init__ stores
    default_symbols = ("SPY",)
    default_universe = "equities"
    benchmark = "SPY"

    universes = ("equities", "memory", "crypto")

    def _symbols(self) -> list[str]:
        return list(self.symbols or self.default_symbols)

    def _key(self, symbol: str) -> str:
        return "cta" if len(self._symbols()) == 1 else f"cta:{symbol}"

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        params = {"target_vol": self.params.target_vol, "max_leverage": self.params.max_leverage}
        return {
            self._key(s): SignalRequest("cta_position", {"symbol": s, **params}, calendar_for(s))
            for s in self._symbols()
        }

    def required_symbols(self) -> list[str]:
        """A basket starts with its first (longest-traded) member; the others join as
        their positions become defined."""
        return self._symbols()[:1]

    def required_signals(self) -> list[str]:
        return [self._key(s) for s in self.required_symbols()]

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        positions = {}
        for symbol in self._symbols():
            position = view.signals[self._key(symbol)]["position"]
            if self.params.long_only:
                position = position.clip(lower=0.0)
            positions[symbol] = position
        frame = pd.DataFrame(positions, index=view.close.index)
        live = frame.notna().sum(axis=1).clip(lower=1)  # members with a position by now
        return frame.div(live, axis=0).fillna(0.0)
