"""The notebook API: ``flowbt.load``, ``flowbt.backtest`` and what a backtest returns.

``backtest("sma_cross", prices, fast=10, slow=50, fees=0.001)`` takes a strategy name
or instance and either the bundled/cached `data.MarketData` (signals computed point in
time, each symbol on its own calendar) or OHLC frames (one DataFrame or a mapping
symbol -> DataFrame), and runs the event engine (default) or the vectorbt path. It
returns a `Backtest`: the engine's `engine.result.Result` plus the reports
(``.plot()``, ``.tearsheet()``, ``.metrics()``) that live in this application layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

import data
from data.market import MarketData
from engine.api import check_mode, run
from engine.bars import Bars, bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import run_market
from engine.result import Result
from flowbt.experiment import DEFAULT_FEES
from flowbt.report.events import Overlay, run_overlays
from flowbt.report.run_plots import plot_equity
from flowbt.report.tearsheet import benchmark_close, metrics, write_tearsheet
from strategies.base import Strategy
from strategies.registry import get_strategy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

load = data.load


class Backtest:
    """A finished backtest: equity, positions, fills, trades, statistics and reports.

    Every figure is in the quote currency of the traded assets; statistics are
    annualised on the run's calendar (252 sessions or 365 days a year). ``result`` is
    the engine's `Result` underneath.
    """

    def __init__(self, result: Result, market: MarketData | None = None) -> None:
        self.result = result
        self._market = market

    def __repr__(self) -> str:
        r = self.result
        return (
            f"Backtest({r.manifest_name()}, {r.mode}, {len(r.equity)} bars, "
            f"final equity {float(r.equity.iloc[-1]) if len(r.equity) else r.init_cash:,.2f})"
        )

    def __getattr__(self, name: str) -> Any:
        # everything else a Result offers (init_cash, period_equity, ...), read through
        if name.startswith("__") or name in ("result", "_market"):
            raise AttributeError(name)
        return getattr(self.result, name)

    @property
    def equity(self) -> pd.Series:
        """Portfolio value at each bar's close."""
        return self.result.equity

    @property
    def cash(self) -> pd.Series:
        return self.result.cash

    @property
    def positions(self) -> pd.DataFrame:
        """Units held per asset at each bar's close."""
        return self.result.positions

    @property
    def returns(self) -> pd.Series:
        return self.result.returns

    @property
    def exposure(self) -> pd.Series:
        return self.result.exposure

    @property
    def orders(self) -> pd.DataFrame:
        """Fills: date, bar, symbol, signed size, price, fees, side, order id."""
        return self.result.orders

    @property
    def trades(self) -> pd.DataFrame:
        """Round-trip trades per asset (an open one is marked at the last close)."""
        return self.result.trades

    @property
    def manifest(self) -> dict[str, Any]:
        """What ran, on which exact data (sha256), with which code versions."""
        return self.result.manifest

    @property
    def mode(self) -> str:
        return self.result.mode

    @property
    def calendar(self) -> str:
        return self.result.calendar

    @property
    def periods_per_year(self) -> int:
        return self.result.periods_per_year

    def stats(self) -> dict[str, Any]:
        """flowbt's headline metrics (see `engine.result.Result.stats`)."""
        return self.result.stats()

    def plot(
        self,
        path: str | Path | None = None,
        *,
        benchmark: str | pd.Series | None = None,
        events: bool = True,
    ) -> Figure:
        """Equity (log scale, portfolio currency) and drawdown in % of the running peak,
        against ``benchmark`` (a symbol or a close series) bought and held from the
        initial cash (see `flowbt.report.run_plots.plot_equity`); saved as PNG when
        ``path`` is given. ``events``: mark the events the strategy reads (FOMC
        decisions, blackout windows, VIX inversions, odds swings; `overlays`)."""
        marks = self.overlays() if events else None
        return plot_equity(self.result, path, benchmark=self._benchmark(benchmark), overlays=marks)

    def overlays(self) -> list[Overlay]:
        """The event overlays of the signals this run's strategy read, over its span, on
        the data it ran on (`flowbt.report.events.overlays_for`); none for a run on
        plain OHLC frames."""
        return [] if self._market is None else run_overlays(self.result, self._market)

    def _benchmark(self, benchmark: str | pd.Series | None) -> pd.Series | None:
        if benchmark is None or isinstance(benchmark, pd.Series):
            return benchmark
        market = self._market if self._market is not None else data.load([benchmark])
        return benchmark_close(market, benchmark)

    def tearsheet(
        self,
        path: str | Path,
        *,
        benchmark: str | pd.Series | None = None,
        title: str | None = None,
        events: bool = True,
    ) -> Path:
        """quantstats HTML tearsheet at ``path``; ``benchmark`` a symbol or a close series;
        ``events`` marks what the strategy reads on its cumulative-return and underwater
        charts (`overlays`)."""
        bench = self._benchmark(benchmark)
        marks = self.overlays() if events else ()
        return write_tearsheet(self.result, path, benchmark=bench, title=title, overlays=marks)

    def metrics(self, benchmark: str | pd.Series | None = None) -> pd.DataFrame:
        """quantstats' full metrics table, annualised on this run's calendar."""
        return metrics(self.result, self._benchmark(benchmark))


def backtest(
    strategy: str | Strategy,
    prices: MarketData | pd.DataFrame | Mapping[str, pd.DataFrame] | Bars,
    *,
    mode: str = "event",
    fees: float = DEFAULT_FEES,
    config: BacktestConfig | None = None,
    tradable: pd.DataFrame | None = None,
    symbols: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    **params: Any,
) -> Backtest:
    """Run ``strategy`` on ``prices``; extra keyword arguments are strategy parameters.

    ``fees`` is a fraction of notional per fill (default ``DEFAULT_FEES`` = 0.001, 10 bps,
    as on the command line) and is ignored when a full ``config`` is given. With a `MarketData` the strategy's signals are computed on it
    (point in time) and ``symbols``/``start``/``end`` pick what is traded; with price
    frames ``tradable`` (optional boolean frame) masks bars where no order may fill.
    """
    check_mode(mode)
    if isinstance(strategy, str):
        strategy = get_strategy(strategy)(params)
    elif params:
        raise ValueError("pass parameters either to the strategy instance or as keywords")
    config = config or BacktestConfig(
        costs=CostModel(fees=fees),
        rebalance=strategy.rebalance,
        drift_threshold=strategy.drift_threshold,
    )
    if isinstance(prices, MarketData):
        result = run_market(
            strategy, prices, config, mode=mode, symbols=symbols, start=start, end=end
        )
        return Backtest(result, prices)
    bars = prices if isinstance(prices, Bars) else bars_from_frames(prices, tradable=tradable)
    return Backtest(run(strategy, bars, config, mode))


def tearsheet(
    result: Backtest | Result,
    path: str | Path,
    *,
    benchmark: str | pd.Series | None = None,
    title: str | None = None,
) -> Path:
    """quantstats HTML tearsheet of a backtest at ``path`` (see `Backtest.tearsheet`)."""
    bt = result if isinstance(result, Backtest) else Backtest(result)
    return bt.tearsheet(path, benchmark=benchmark, title=title)
