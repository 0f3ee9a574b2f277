"""Memory cycle: the memory-chip basket while capital is scarce, the Nasdaq otherwise.

Thesis (the articles, DESIGN.md): AI capex acts as "reverse QE": liquidity drains,
capital gets scarce and long-duration assets suffer, while the memory makers, paid in
near-term cash flow by that capex, win. So the basket (Micron, Western Digital,
Seagate, SanDisk once listed, Samsung Electronics, SK Hynix) is held while capital is
scarce and the long-duration Nasdaq (QQQ) while it is ample.

Signals (all on NYSE sessions, as known at the close): ``liquidity_drain``
(``z_{drain_weeks}w``: z-score of the net-liquidity change, negative = draining),
``yield_trend`` (``change_bp``: the 10-year yield DGS10 minus its value ``trend_days``
earlier, bp) and ``capital_scarcity`` (``composite``: mean z-score of the drain, the
10-year yield trend and credit lagging Treasuries, positive = scarce).

Rule: each NYSE session casts three readings, scarce when liquidity drains
(``z <= drain_z``), when the discount rate rises (``change_bp >= rise_bp``) and when
the composite says so (``composite >= scarcity_z``). The share of scarce readings over
the last ``smooth_sessions`` sessions (three per session; the smoothing keeps the
regime from flickering with daily noise) decides: at or above ``min_share`` the chip
basket, equal weights over the members that have traded by the bar, otherwise QQQ at
1.0. Cash until ``smooth_sessions`` sessions with all three readings are in view.

Point in time: each signal row is known at its NYSE session's close (net liquidity as
published, DGS10 at 16:00 ET, ETF closes); the engine gives each bar the latest row
known by its close, so a Seoul bar acts on the previous New York session's regime. The
decision is made at the NYSE close and the Korean legs trade at the next Seoul open.
Prices: the Korean stocks are quoted in KRW; weights are fractions of the portfolio,
so the strategy needs no FX (conversion is the engine's). A run's warm-up waits for QQQ
only (``required_symbols``): each chip maker joins the basket at its first bar. SNDK
(listed 2025-02) is not in ``default_symbols`` because a window ending before its
listing has no SNDK bars at all (an error); pass it in ``symbols`` for later windows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams

NASDAQ = "QQQ"
GAUGES = 3  # readings per session: drain, yield trend, composite


class MemoryCycleParams(StrategyParams):
    drain_z: float = Field(
        0.0, ge=-3.0, le=3.0, description="liquidity drains: net-liquidity change z <= this"
    )
    drain_weeks: Literal[4, 13] = Field(13, description="net-liquidity change horizon, weeks")
    rise_bp: float = Field(
        0.0, ge=-200.0, le=200.0, description="yields rise: 10y change over trend_days >= bp"
    )
    trend_days: int = Field(91, ge=7, le=365, description="yield/credit trend, calendar days")
    scarcity_z: float = Field(
        0.0, ge=-3.0, le=3.0, description="capital scarce: capital_scarcity composite >= this"
    )
    smooth_sessions: int = Field(10, ge=1, le=63, description="sessions whose readings are pooled")
    min_share: float = Field(
        0.5, gt=0.0, le=1.0, description="hold chips when this share of readings is scarce"
    )


class MemoryCycle(Strategy):
    name = "memory_cycle"
    Params = MemoryCycleParams
    params: MemoryCycleParams  # the validated instance Strategy.__init__ stores
    # SNDK (listed 2025-02) only when passed in symbols: earlier windows have no SNDK bars
    default_symbols = ("MU", "WDC", "STX", "005930.KS", "000660.KS", NASDAQ)
    default_universe = "memory"  # plus QQQ, the Nasdaq leg
    benchmark = NASDAQ
    universes = ("memory",)

    def symbols_for_universe(self, name: str, members: Sequence[str]) -> list[str]:
        """In ``memory``: every chip maker of the universe against QQQ."""
        return [*super().symbols_for_universe(name, members), NASDAQ]

    def required_symbols(self) -> list[str]:
        """Only QQQ: the basket takes up each chip maker at its first bar, so a run's
        warm-up need not wait for a late listing (SNDK) or a late start of the bundled
        history (the Korean stocks, 2016-08)."""
        return [NASDAQ]

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        p = self.params
        return {
            "drain": SignalRequest("liquidity_drain", {"weeks": (p.drain_weeks,)}),
            "yields": SignalRequest("yield_trend", {"days": p.trend_days}),
            "scarcity": SignalRequest(
                "capital_scarcity", {"drain_weeks": p.drain_weeks, "trend_days": p.trend_days}
            ),
        }

    def scarce_share(self, view: MarketView) -> pd.Series:
        """Per bar: the share of scarce readings over the last ``smooth_sessions`` NYSE
        sessions (NaN until that many sessions with every reading are in view)."""
        p = self.params
        close = view.close
        if NASDAQ not in close.columns:
            raise ValueError(f"memory_cycle trades {NASDAQ}; it is not in the data")
        session = close[NASDAQ].notna().to_numpy()  # NYSE sessions
        z = view.signals["drain"][f"z_{p.drain_weeks}w"].to_numpy(dtype=float)
        rise = view.signals["yields"]["change_bp"].to_numpy(dtype=float)
        composite = view.signals["scarcity"]["composite"].to_numpy(dtype=float)
        votes = (z <= p.drain_z).astype(float)
        votes += rise >= p.rise_bp
        votes += composite >= p.scarcity_z
        votes[np.isnan(z) | np.isnan(rise) | np.isnan(composite)] = np.nan
        pooled = pd.Series(votes[session]).rolling(p.smooth_sessions).mean() / GAUGES
        pos = np.cumsum(session) - 1  # the last session at or before each bar
        share = pooled.to_numpy()[pos.clip(0)] if session.any() else np.full(len(pos), np.nan)
        return pd.Series(np.where(pos >= 0, share, np.nan), index=close.index, name="share")

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        close = view.close
        cols = [str(c) for c in close.columns]
        chips = [c for c in cols if c != NASDAQ]
        if not chips:
            raise ValueError("memory_cycle needs at least one memory-chip stock besides QQQ")
        share = self.scarce_share(view).to_numpy()
        known = ~np.isnan(share)
        scarce = known & (share >= self.params.min_share)
        started = close[chips].ffill().notna().to_numpy()  # listed by this bar
        n_live = started.sum(axis=1, keepdims=True)
        chip_w = np.divide(started, n_live, out=np.zeros(started.shape), where=n_live > 0)
        weights = pd.DataFrame(0.0, index=close.index, columns=cols)
        weights[chips] = np.where(scarce[:, None], chip_w, 0.0)
        weights[NASDAQ] = np.where(known & ~scarce, 1.0, 0.0)
        return weights
