"""VIX hedge flow: hold more SPY while the VIX curve is inverted and for a while after.

Thesis (the articles): an inverted VIX curve (VIX above VIX3M) is hedging flow, demand
for near-dated protection, not panic, so returns afterwards are not worse. The thesis
check on the bundled data agrees (the only significant study: SPY +200 bp over the next
20 sessions while the curve is inverted, t = 2.4). Signal: ``vix_term_structure``
(``ratio`` = VIX close / VIX3M close, > 1 = inverted).

Rule: ``base_weight`` in the traded symbol (SPY), raised to ``inverted_weight`` while
the known ratio is above ``threshold`` and for ``hold_sessions`` sessions after the
last such session; the rest in cash. Cash before the first known ratio (VIX3M starts
2009-09-18; at a run's first bar the previous session is not in view). A session with
a missing ratio counts as not inverted. Long-only, gross <= 1.

Point in time: Cboe finalises the VIX and VIX3M closes at 16:15 ET, a quarter hour
after the NYSE close. ``vix_term_structure`` has no ``known_at`` column, so the engine
stamps each row at its session's XNYS close (16:00 ET), the very instant of the SPY
bar's close: the bar would see a ratio 15 minutes before it is final. The strategy
therefore lags the ratio by one session of the traded symbol: the decision at
session t's close uses the ratio of session t - 1 (final at t - 1, 16:15 ET) and is
filled at t + 1's open. (The thesis study starts its returns at the close of the
session after the inversion, the same information.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import Field

from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams

KNOWN_AFTER_SESSIONS = 1  # VIX closes are final after the NYSE close: use the last session's


class VixHedgeParams(StrategyParams):
    base_weight: float = Field(0.5, ge=0.0, le=1.0, description="weight outside inversions")
    inverted_weight: float = Field(
        1.0, ge=0.0, le=1.0, description="weight while inverted and during the hold"
    )
    threshold: float = Field(
        1.0, ge=0.8, le=1.5, description="inverted: VIX / VIX3M ratio above this"
    )
    hold_sessions: int = Field(
        20, ge=0, le=126, description="sessions the raised weight stays after an inversion"
    )


class VixHedge(Strategy):
    name = "vix_hedge"
    Params = VixHedgeParams
    params: VixHedgeParams  # the validated instance Strategy.__init__ stores
    default_symbols = ("SPY",)
    default_universe = "equities"
    benchmark = "SPY"
    universes = ("equities",)

    def symbols_for_universe(self, name: str, members: Sequence[str]) -> list[str]:
        """In ``equities``: its one traded symbol (SPY by default)."""
        super().symbols_for_universe(name, members)
        return [(self.symbols or list(self.default_symbols))[0]]

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        return {"vix": SignalRequest("vix_term_structure")}

    def known_ratio(self, view: MarketView) -> pd.Series:
        """The VIX / VIX3M ratio final by each bar's close: the one of the traded
        symbol's previous session (NaN before it)."""
        symbol = (self.symbols or list(self.default_symbols))[0]
        if symbol not in view.close.columns:
            raise ValueError(f"vix_hedge trades {symbol}; it is not in the data")
        session = view.close[symbol].notna().to_numpy()
        ratio = view.signals["vix"]["ratio"].to_numpy(dtype=float)[session]
        lagged = np.r_[np.full(KNOWN_AFTER_SESSIONS, np.nan), ratio][: len(ratio)]
        pos = np.cumsum(session) - 1  # the last session at or before each bar
        seen = lagged[pos.clip(0)] if len(lagged) else np.full(len(pos), np.nan)
        return pd.Series(np.where(pos >= 0, seen, np.nan), index=view.close.index, name="ratio")

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        p = self.params
        symbol = (self.symbols or list(self.default_symbols))[0]
        ratio = self.known_ratio(view).to_numpy()
        session = view.close[symbol].notna().to_numpy()
        sessions_so_far = np.cumsum(session)
        inverted = ratio > p.threshold  # NaN -> False
        last = pd.Series(np.where(inverted, sessions_so_far, np.nan)).ffill().to_numpy()
        raised = (sessions_so_far - last) <= p.hold_sessions  # NaN (none yet) -> False
        started = np.maximum.accumulate(~np.isnan(ratio)) if len(ratio) else ratio.astype(bool)
        w = np.where(raised, p.inverted_weight, p.base_weight)
        weights = pd.DataFrame(0.0, index=view.close.index, columns=view.close.columns)
        weights[symbol] = np.where(started, w, 0.0)
        return weights
