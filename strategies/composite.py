"""Composite book: several thesis strategies (sleeves) blended in one account.

Thesis: no single flow explains the market; a book that holds each thesis in
proportion diversifies across them. Each sleeve is a registered strategy with its
own parameters and symbols; the book's target weight of an asset is the sum over
sleeves of ``sleeve weight x the sleeve's target weight`` of that asset, across the
union of the sleeves' symbols, with one shared cash account (the engine's standing
targets settle the sleeves' trades against each other: a sleeve selling an asset
another one buys is a smaller order, not two).

Signals: the union of the sleeves' signal requests, each under ``sleeve:key``.
Rule: sleeve weights are fractions of the book (they sum to at most 1; the rest is
cash). A sleeve's "no decision" (NaN) keeps its previous weights; before a sleeve's
first decision it is flat. The book is rebalanced back to its blend on every bar where
an asset has drifted more than 5% of the book from its target (``rebalance =
"every_bar"``, ``drift_threshold = 0.05``), so one sleeve's winner does not crowd out
the others.

Point in time: every sleeve is point in time (their own contract), and a sum of
point-in-time weights is point in time: the book's row ``t`` uses data up to ``t``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from strategies.base import MarketView, SignalRequest, Strategy, StrategyParams


class SleeveSpec(BaseModel):
    """One sleeve of the book: a registered strategy, its share, parameters, symbols."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = Field(description="registered strategy name, e.g. cta_trend")
    weight: float = Field(gt=0.0, le=1.0, description="fraction of the book")
    params: dict[str, Any] = Field(default_factory=dict, description="the sleeve's parameters")
    symbols: tuple[str, ...] | None = Field(None, description="default: the sleeve's own")


# every thesis, one sleeve each (the default book of ``flowbt book`` / ``make run``)
DEFAULT_SLEEVES: tuple[SleeveSpec, ...] = (
    SleeveSpec(strategy="fed_pivot", weight=0.15),
    SleeveSpec(strategy="cta_trend", weight=0.20),
    SleeveSpec(strategy="buyback_blackout", weight=0.15),
    SleeveSpec(strategy="liquidity_rotation", weight=0.20),
    SleeveSpec(strategy="memory_cycle", weight=0.15),
    SleeveSpec(strategy="vix_hedge", weight=0.15),
)


class CompositeParams(StrategyParams):
    sleeves: tuple[SleeveSpec, ...] = Field(
        DEFAULT_SLEEVES, min_length=1, description="the strategies blended and their shares"
    )

    @model_validator(mode="after")
    def _shares(self) -> CompositeParams:
        total = sum(s.weight for s in self.sleeves)
        if total > 1.0 + 1e-9:
            raise ValueError(f"sleeve weights sum to {total:g}; they must sum to at most 1")
        if any(s.strategy == "composite" for s in self.sleeves):
            raise ValueError("a composite cannot hold another composite")
        return self


class Composite(Strategy):
    """Blend of sleeves; ``resolve`` maps a strategy name to its class (the registry
    sets it, so this module needs no list of strategies)."""

    name = "composite"
    Params = CompositeParams
    params: CompositeParams
    default_universe = None
    benchmark = "SPY"
    # a book is kept at its blend: every bar, trading assets more than 5% off target
    rebalance = "every_bar"
    drift_threshold = 0.05
    resolve: ClassVar[Callable[[str], type[Strategy]] | None] = None

    def __init__(
        self,
        params: StrategyParams | Mapping[str, Any] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> None:
        super().__init__(params, None)
        if type(self).resolve is None:
            raise RuntimeError("Composite.resolve is unset; import strategies.registry first")
        resolve = type(self).resolve
        assert resolve is not None
        self.sleeves: list[tuple[float, Strategy]] = []
        for spec in self.params.sleeves:
            cls = resolve(spec.strategy)
            sleeve = cls(cls.Params.model_validate(spec.params), spec.symbols)
            self.sleeves.append((spec.weight, sleeve))
        union: list[str] = []
        for _, sleeve in self.sleeves:
            for s in sleeve.symbols or []:
                if s not in union:
                    union.append(s)
        self.symbols = list(symbols) if symbols is not None else union

    def required_symbols(self) -> list[str]:
        """What the sleeves require (a sleeve that takes up later listings by itself
        does not hold the book back)."""
        out: list[str] = []
        for _, sleeve in self.sleeves:
            out += [s for s in sleeve.required_symbols() if s not in out]
        return out

    def required_signals(self) -> list[str]:
        return [
            f"{k}:{key}" for k, (_, s) in enumerate(self.sleeves) for key in s.required_signals()
        ]

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        return {
            f"{k}:{key}": request
            for k, (_, sleeve) in enumerate(self.sleeves)
            for key, request in sleeve.signal_requests().items()
        }

    def sleeve_view(self, view: MarketView, k: int) -> MarketView:
        """What sleeve ``k`` sees: its symbols' prices and its own signals."""
        sleeve = self.sleeves[k][1]
        cols = [c for c in (sleeve.symbols or view.symbols) if c in view.close.columns]
        prefix = f"{k}:"
        return MarketView(
            open=view.open[cols],
            high=view.high[cols],
            low=view.low[cols],
            close=view.close[cols],
            signals={
                key.removeprefix(prefix): frame
                for key, frame in view.signals.items()
                if key.startswith(prefix)
            },
        )

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        book = pd.DataFrame(0.0, index=view.close.index, columns=view.symbols)
        for k, (share, sleeve) in enumerate(self.sleeves):
            if len(sleeve.event_bars(self.sleeve_view(view, k))):
                raise ValueError(f"sleeve {sleeve.name!r} uses event hooks; a book cannot")
            w = sleeve.target_weights(self.sleeve_view(view, k))
            w = w.ffill().fillna(0.0)  # a sleeve's decision stands until it changes
            book[w.columns] += share * w.to_numpy(dtype=np.float64)
        return book

    def describe(self) -> dict[str, Any]:
        return {
            "strategy": self.name,
            "params": self.params.model_dump(),
            "sleeves": [s.describe() for _, s in self.sleeves],
        }
