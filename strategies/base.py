"""The strategy contract: parameters with bounds, target weights, optional event hooks.

A strategy turns point-in-time prices/signals into target weights per asset
per bar: the row for bar ``t`` may use data up to ``t``'s close only (the engine
fills it at ``t + 1``'s open by default). Weights are fractions of portfolio
value (1.0 = all in, -0.5 = half short); NaN means "no decision, send nothing".
In event mode a strategy may also name event bars and place explicit orders
there through the context the engine hands to ``on_event``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict


class StrategyParams(BaseModel):
    """Base of every strategy's parameter model: unknown names are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class MarketView:
    """What a strategy sees: OHLC frames (index = bar timestamps, one column per symbol)
    aligned on the union of calendars (NaN where a market is closed) and any signals."""

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    signals: Mapping[str, pd.DataFrame | pd.Series] = field(default_factory=dict)

    @property
    def symbols(self) -> list[str]:
        return [str(c) for c in self.close.columns]


@dataclass(frozen=True)
class SignalRequest:
    """A registered signal a strategy reads: ``view.signals[key]`` = ``signal(md, **params)``.

    ``calendar`` is the calendar of the signal's own index (its rows are that
    calendar's sessions, known at their close); the engine re-stamps every row at
    that close and gives each bar the latest row known by the bar's close.
    """

    signal: str
    params: Mapping[str, Any] = field(default_factory=dict)
    calendar: str = "XNYS"


class EventContext(Protocol):
    """Handed to ``Strategy.on_event`` by the event simulator at an event bar.

    Orders placed here become active at the next bar (units signed, None = close).
    """

    bar: int
    timestamp: pd.Timestamp
    cash: float
    equity: float
    positions: Mapping[str, float]
    prices: Mapping[str, float]

    def market(self, symbol: str, units: float | None) -> None: ...
    def limit(self, symbol: str, units: float | None, limit: float) -> None: ...
    def stop(self, symbol: str, units: float | None, stop: float) -> None: ...
    def stop_limit(self, symbol: str, units: float | None, stop: float, limit: float) -> None: ...
    def trailing_stop(self, symbol: str, units: float | None, trail: float) -> None: ...
    def cancel(self, symbol: str) -> None: ...


class Strategy:
    """Subclass, set ``name`` and ``Params``, implement ``target_weights``.

    ``symbols``: the assets it trades (None = every symbol in the data).
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    default_symbols: ClassVar[tuple[str, ...]] = ()  # what it trades on bundled data
    # the named universe (data.universes) it trades by default, and its benchmark symbol
    default_universe: ClassVar[str | None] = None
    benchmark: ClassVar[str] = "SPY"
    # the named universes it can trade (``--universe``); empty: only its own symbols
    universes: ClassVar[tuple[str, ...]] = ()
    # its preferred rebalancing (engine.config.BacktestConfig), used unless a run says
    # otherwise: re-decide only on change, or every bar outside a drift band
    rebalance: ClassVar[str] = "on_change"
    drift_threshold: ClassVar[float] = 0.0

    def __init__(
        self,
        params: StrategyParams | Mapping[str, Any] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> None:
        if params is None:
            params = self.Params()
        elif not isinstance(params, self.Params):
            params = self.Params.model_validate(dict(params))
        self.params = params
        self.symbols = list(symbols) if symbols is not None else None
        if self.symbols is None and self.default_symbols:
            self.symbols = list(self.default_symbols)

    @classmethod
    def search_space(cls) -> dict[str, dict[str, Any]]:
        """Per parameter: type name, default and bounds (ge/le/gt/lt), read from ``Params``."""
        space: dict[str, dict[str, Any]] = {}
        for pname, info in cls.Params.model_fields.items():
            entry: dict[str, Any] = {
                "type": getattr(info.annotation, "__name__", str(info.annotation)),
                "default": info.default,
            }
            for meta in info.metadata:
                for bound in ("ge", "le", "gt", "lt"):
                    if hasattr(meta, bound):
                        entry[bound] = getattr(meta, bound)
            space[pname] = entry
        return space

    def symbols_for_universe(self, name: str, members: Sequence[str]) -> list[str]:
        """What it trades in universe ``name`` (with ``members``): all of them by default.

        ``ValueError`` when the strategy does not trade that universe."""
        if name not in self.universes:
            accepted = ", ".join(self.universes) or "none (it trades its own symbols)"
            raise ValueError(f"{self.name} does not trade universe {name!r}; it trades: {accepted}")
        return list(members)

    def required_symbols(self) -> list[str]:
        """Symbols that must have started trading before a run on bundled data begins
        (its warm-up); default: all of them. A strategy that takes up later listings by
        itself (a basket that adds SNDK once listed) returns fewer."""
        return list(self.symbols or [])

    def warmup_bars(self) -> int:
        """Bars of price history its rule needs before its first decision (0: none).

        A run with no more bars than this cannot trade; the application says so
        (a warning in the summary and metrics.json) instead of a silent "0 trades"."""
        return 0

    def required_signals(self) -> list[str]:
        """Keys of ``signal_requests()`` that must be defined before a run begins;
        default: all of them (see ``required_symbols``)."""
        return list(self.signal_requests())

    def signal_requests(self) -> Mapping[str, SignalRequest]:
        """Signals this strategy reads from ``view.signals`` (key -> request); default none.

        Runs fed from `data.MarketData` (``engine.market_run``) compute and align them;
        runs on bare price frames must pass them in (or the strategy raises KeyError).
        """
        return {}

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        """Weights per bar (rows = view.close.index) and symbol; row t uses data up to t."""
        raise NotImplementedError

    def target_weights_batch(
        self, view: MarketView, params: Sequence[StrategyParams]
    ) -> np.ndarray | None:
        """Weights of many parameter sets at once, (sets, bars, assets) with assets in
        ``view.symbols`` order, each set exactly what ``target_weights`` gives with those
        params; or None (the default: a sweep calls ``target_weights`` per set).

        A strategy whose rule vectorises over its parameters overrides this, so a sweep
        of thousands of sets spends no Python time per set."""
        return None

    def event_bars(self, view: MarketView) -> np.ndarray:
        """Integer bar positions where ``on_event`` must be called (default: none)."""
        return np.empty(0, dtype=np.int64)

    def on_event(self, ctx: EventContext) -> None:
        """React to an event bar (after that bar's close); may place orders on ``ctx``."""

    def describe(self) -> dict[str, Any]:
        return {"strategy": self.name, "params": self.params.model_dump()}
