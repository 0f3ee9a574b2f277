"""Fed pivot: risk on while cuts are priced or Fed-speak turns dovish, off after hawkish swings.

Thesis (the articles): Fed communication, not new data, swings the market's rate-cut
odds (80% -> 30% -> 80%) and is the main volatility trigger; cuts priced in lift risk
assets, a hawkish swing takes them down.

Signals: ``rate_cut_odds`` (``expected_change_bp``: expected change of the policy rate at
the next FOMC meeting, bp, more negative = more cuts; FedWatch, else the bill proxy),
``fed_tone`` twice (the decayed mean hawkish(+)/dovish(-) score of Fed communications
with a ``tone_halflife_days`` and a ``slow_halflife_days`` half-life) and
``odds_swing_events`` (cut odds moving ``swing_points`` or more within ``swing_days``
sessions, detected in real time; ``change`` < 0 = toward fewer cuts = hawkish).

Rule, at each NYSE session close, in this order:

* risk off: a hawkish swing was detected within the last ``hold_sessions`` sessions
  (the detection session counts as the first): ``off_weight`` in ``off_asset``
  (TLT or IEF; ``cash`` holds nothing);
* risk on: the market prices a cut (``expected_change_bp <= cut_bp``) or Fed-speak
  turned dovish (fast tone <= slow tone - ``tone_gap``: recent communications are more
  dovish than the Fed's own recent norm; the lexicon's level drifts with the cycle, so
  the tone is read against itself): ``equity_weight`` in ``equity`` (SPY or QQQ) and
  ``btc_weight`` in BTC-USD;
* neutral otherwise: ``neutral_scale`` times the risk-on weights, the rest in cash.

Cash before any of the signals is known; no BTC weight before BTC's first bar. A swing
detected before the first bar of the run is not acted on (its detection session is not
in view). Long-only, gross <= 1.

Point in time: every signal row is known at its NYSE session's close (futures
settlements and EFFR from earlier days, communications by their release instant, swings
at their detection close); the engine gives each bar the latest row known by its close
and fills at the next open of each asset's market (BTC at the next UTC day's open).
Hold periods count NYSE sessions of the equity leg, not bars, so a run mixing NYSE and
24/7 bars holds as long as an NYSE-only one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams

CRYPTO = "BTC-USD"


class FedPivotParams(StrategyParams):
    equity: Literal["SPY", "QQQ"] = Field("SPY", description="equity leg of risk on")
    off_asset: Literal["TLT", "IEF", "cash"] = Field(
        "TLT", description="what risk off holds: long or intermediate Treasuries, or cash"
    )
    equity_weight: float = Field(0.8, ge=0.0, le=1.0, description="risk-on weight of equity")
    btc_weight: float = Field(0.2, ge=0.0, le=1.0, description="risk-on weight of BTC-USD")
    neutral_scale: float = Field(
        0.5, ge=0.0, le=1.0, description="neutral = this fraction of the risk-on weights"
    )
    off_weight: float = Field(1.0, ge=0.0, le=1.0, description="risk-off weight of off_asset")
    cut_bp: float = Field(
        -5.0, ge=-100.0, le=0.0, description="cuts priced: expected change <= this, bp"
    )
    tone_halflife_days: float = Field(
        30.0, ge=1.0, le=365.0, description="half-life of the fast Fed-speak tone, days"
    )
    slow_halflife_days: float = Field(
        182.0, ge=2.0, le=1460.0, description="half-life of the slow tone (the norm), days"
    )
    tone_gap: float = Field(
        0.05, ge=0.0, le=2.0, description="dovish turn: fast tone <= slow tone - this"
    )
    swing_points: float = Field(
        30.0, ge=5.0, le=100.0, description="odds swing size, percentage points of P(cut)"
    )
    swing_days: int = Field(10, ge=1, le=60, description="odds swing window, sessions")
    hold_sessions: int = Field(
        10, ge=1, le=126, description="risk-off sessions from a hawkish swing's detection"
    )

    @model_validator(mode="after")
    def _consistent(self) -> FedPivotParams:
        if self.equity_weight + self.btc_weight > 1.0 + 1e-12:
            raise ValueError(
                f"equity_weight + btc_weight must be <= 1, got "
                f"{self.equity_weight} + {self.btc_weight}"
            )
        if self.tone_halflife_days >= self.slow_halflife_days:
            raise ValueError(
                f"tone_halflife_days ({self.tone_halflife_days}) must be < "
                f"slow_halflife_days ({self.slow_halflife_days})"
            )
        return self


RISK_OFF, NEUTRAL, RISK_ON = -1, 0, 1


class FedPivot(Strategy):
    name = "fed_pivot"
    Params = FedPivotParams
    params: FedPivotParams  # the validated instance Strategy.__init__ stores
    default_symbols = ("SPY", CRYPTO, "TLT")  # follows equity / off_asset when not given
    default_universe = "equities"  # plus BTC-USD, the crypto leg
    benchmark = "SPY"
    universes = ("equities",)

    def __init__(
        self,
        params: StrategyParams | Mapping[str, Any] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> None:
        super().__init__(params, symbols)
        if symbols is None:
            self.symbols = self.legs()

    def legs(self) -> list[str]:
        """What it trades: the equity leg, BTC-USD and the risk-off asset (unless cash)."""
        p = self.params
        return [p.equity, CRYPTO] + ([p.off_asset] if p.off_asset != "cash" else [])

    def symbols_for_universe(self, name: str, members: Sequence[str]) -> list[str]:
        """In ``equities``: its own legs (BTC-USD included), whatever else the universe holds."""
        super().symbols_for_universe(name, members)
        return self.legs()

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        p = self.params
        return {
            "odds": SignalRequest("rate_cut_odds"),
            "tone": SignalRequest("fed_tone", {"halflife_days": p.tone_halflife_days}),
            "tone_slow": SignalRequest("fed_tone", {"halflife_days": p.slow_halflife_days}),
            "swings": SignalRequest(
                "odds_swing_events", {"points": p.swing_points, "days": p.swing_days}
            ),
        }

    def regime(self, view: MarketView) -> pd.Series:
        """Per bar: 1 risk on, 0 neutral, -1 risk off, NaN while no signal is known."""
        p = self.params
        close = view.close
        if p.equity not in close.columns:
            raise ValueError(f"fed_pivot trades {p.equity} (equity); it is not in the data")
        session = close[p.equity].notna().to_numpy()  # NYSE sessions of the equity leg
        sessions_so_far = np.cumsum(session)

        swings = view.signals["swings"]
        start = pd.Series(pd.DatetimeIndex(swings["start"]))
        new = (start.ne(start.shift(1)) & start.notna()).to_numpy(copy=True)
        new[:1] = False  # a swing already known at the first bar was detected before the run
        hawkish = new & (swings["change"].to_numpy(dtype=float) < 0)
        last = pd.Series(np.where(hawkish, sessions_so_far, np.nan)).ffill().to_numpy()
        off = (sessions_so_far - last) < p.hold_sessions  # NaN (no swing yet) -> False

        change = view.signals["odds"]["expected_change_bp"].to_numpy(dtype=float)
        fast = view.signals["tone"]["tone"].to_numpy(dtype=float)
        slow = view.signals["tone_slow"]["tone"].to_numpy(dtype=float)
        cuts_priced = change <= p.cut_bp
        dovish_turn = fast <= slow - p.tone_gap
        known = ~np.isnan(change) | ~(np.isnan(fast) | np.isnan(slow)) | off

        state = np.where(off, RISK_OFF, np.where(cuts_priced | dovish_turn, RISK_ON, NEUTRAL))
        return pd.Series(np.where(known, state, np.nan), index=close.index, name="regime")

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        p = self.params
        close = view.close
        cols = [str(c) for c in close.columns]
        missing = [s for s in self.legs() if s not in cols]
        if missing:
            raise ValueError(f"fed_pivot trades {', '.join(missing)}; not in the data")
        state = self.regime(view).to_numpy()
        scale = np.select([state == RISK_ON, state == NEUTRAL], [1.0, p.neutral_scale], 0.0)
        btc_live = close[CRYPTO].ffill().notna().to_numpy()  # listed by this bar
        weights = pd.DataFrame(0.0, index=close.index, columns=cols)
        weights[p.equity] = p.equity_weight * scale
        weights[CRYPTO] = np.where(btc_live, p.btc_weight * scale, 0.0)
        if p.off_asset != "cash":
            weights[p.off_asset] = np.where(state == RISK_OFF, p.off_weight, 0.0)
        return weights
