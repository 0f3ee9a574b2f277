"""``flowbt run`` (one user price file) and ``flowbt backtest`` (the bundled data).

``run`` backtests a strategy that needs only prices on a CSV/parquet file; ``backtest``
runs any strategy on the bundled (or cached) snapshot with its point-in-time signals
and adds ``tearsheet.html`` (quantstats, with a benchmark, annualised on the run's
calendar) and ``quantstats.csv``. Both write the results folder of
``flowbt.report.files`` and print one summary line. Every bad input raises
``ValueError`` (or the data layer's ``DataError``) with a one-line message, before
anything is written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

import data
from data.calendars import calendar_kind
from data.files import read_price_file
from engine.api import MODES, check_mode, run
from engine.bars import bars_from_frames
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import run_market
from flowbt.cli.output import validation_line
from flowbt.report.files import check_out_dir, write_results
from flowbt.report.tearsheet import benchmark_close, metrics, write_tearsheet
from strategies.base import Strategy
from strategies.registry import get_strategy, known_strategies

# the options both commands share (typer reads them from the signatures below)
Param = Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE, repeatable")]
Out = Annotated[Path, typer.Option("--out", help="results folder (created)")]
Mode = Annotated[str, typer.Option("--mode", help=" or ".join(MODES))]
FEES_HELP = "fraction of notional per fill, 0.001 = 10 bps"


def parse_params(items: list[str]) -> dict[str, str]:
    """``["fast=10", "slow=50"]`` -> ``{"fast": "10", "slow": "50"}`` (pydantic coerces types)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(f"--param must look like NAME=VALUE, got {item!r}")
        if name in out:
            raise ValueError(f"--param {name} given twice")
        out[name] = value
    return out


def make_strategy(name: str, params: dict[str, Any]) -> Strategy:
    """The strategy ``name`` with validated ``params``; errors name every bad field."""
    cls = get_strategy(name)
    try:
        return cls(cls.Params.model_validate(params))
    except ValidationError as exc:
        raise ValueError(f"invalid parameters for {name}: {validation_line(exc)}") from None


def run_settings(fees: float, mode: str, calendar: str | None = None) -> BacktestConfig:
    """The checked ``--fees``/``--mode``/``--calendar`` of a CLI run as a `BacktestConfig`."""
    if not math.isfinite(fees) or fees < 0:
        raise ValueError(f"--fees must be a fraction >= 0 (0.001 = 10 bps), got {fees}")
    try:
        check_mode(mode)
    except ValueError:
        raise ValueError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}") from None
    try:
        return BacktestConfig(costs=CostModel(fees=fees), calendar=calendar)
    except ValidationError as exc:
        raise ValueError(f"invalid backtest settings: {validation_line(exc)}") from None


def canonical_calendar(calendar: str | None) -> str | None:
    """``--calendar`` as the kind that sets periods per year ('sessions' or '24/7')."""
    return None if calendar is None else calendar_kind(calendar)


def summary_line(strategy: str, m: dict[str, Any], out: Path, *, window: bool = False) -> str:
    """The one line both commands print after writing ``out``: performance, then how
    the orders went (cut or rejected for cash) and how long the portfolio was off its
    target (days with the invested share off by more than 0.2)."""
    span = f", {str(m['start'])[:10]}..{str(m['end'])[:10]}" if window else ""
    count = f"{m['n_orders']} orders" if window else f"{m['n_trades']} trades"
    sharpe = m["sharpe"] if m["sharpe"] is not None else float("nan")
    return (
        f"{strategy} ({m['mode']}{span}): final equity {m['final_equity']:,.2f}, "
        f"total return {m['total_return']:.2%}, sharpe {sharpe:.2f} "
        f"({m['periods_per_year']}/yr, {m['calendar']}), max drawdown "
        f"{m['max_drawdown']:.2%}, {count} ({m['n_orders_cut']} cut, "
        f"{m['n_orders_rejected']} rejected), off target {m['off_target_days']} days "
        f"(longest {m['longest_off_target_days']}) -> {out}"
    )


def run_backtest_cli(
    strategy: str,
    data_file: Path,
    params: list[str],
    fees: float,
    mode: str,
    out: Path,
    calendar: str | None,
) -> dict[str, Any]:
    """Validate everything, run ``strategy`` on ``data_file`` in ``mode``, write ``out``.

    Returns the metrics written to ``out/metrics.json``.
    """
    config = run_settings(fees, mode, canonical_calendar(calendar))
    strat = make_strategy(strategy, parse_params(params))
    if strat.signal_requests():
        raise ValueError(
            f"{strategy} reads signals computed from the bundled data; "
            f"run it with `flowbt backtest {strategy}`"
        )
    check_out_dir(Path(out))
    path = Path(data_file)
    frame = read_price_file(path)  # raises DataError (a ValueError) naming file and row
    symbol = path.name.split(".")[0]
    bars = bars_from_frames({symbol: frame})
    result = run(strat, bars, config, mode, params_for_manifest=strat.params.model_dump())
    result.manifest["data"]["file"] = str(path)
    return write_results(result, Path(out))


def _symbols(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ValueError("--symbols must name at least one symbol, e.g. --symbols SPY,QQQ")
    return names


def run_backtest_bundled(
    strategy: str,
    *,
    out: Path,
    params: list[str] | None = None,
    symbols: str | None = None,
    fees: float = 0.001,
    mode: str = "event",
    start: str | None = None,
    end: str | None = None,
    benchmark: str | None = "SPY",
    tearsheet: bool = True,
    plot: bool = True,
) -> dict[str, Any]:
    """Validate, run ``strategy`` on the bundled snapshot, write ``out``; returns metrics."""
    config = run_settings(fees, mode)
    strat = make_strategy(strategy, parse_params(params or []))
    names = _symbols(symbols) or strat.symbols
    if not names:
        raise ValueError(f"{strategy} names no default symbols; pass --symbols A,B")
    strat.symbols = list(names)
    out = Path(out)
    check_out_dir(out)
    md = data.load()
    for name in [*names, *([benchmark] if benchmark else [])]:
        md.price(name)  # unknown symbol -> DataError naming it, before any work
    result = run_market(strat, md, config, mode=mode, start=start, end=end)
    written = write_results(result, out, plot=plot)
    if tearsheet:
        bench = benchmark_close(md, benchmark) if benchmark else None
        write_tearsheet(result, out / "tearsheet.html", benchmark=bench)
        metrics(result, bench).to_csv(out / "quantstats.csv")
    return written


def register(app: typer.Typer) -> None:
    """Add ``flowbt run`` and ``flowbt backtest`` to the CLI app."""

    @app.command("run")
    def run_file(
        strategy: Annotated[str, typer.Argument(help="strategy name, e.g. sma_cross")],
        data_file: Annotated[Path, typer.Option("--data", help="price file: CSV or parquet")],
        out: Out,
        param: Param = None,
        fees: Annotated[float, typer.Option("--fees", help=FEES_HELP)] = 0.0,
        mode: Mode = "event",
        calendar: Annotated[
            str | None,
            typer.Option("--calendar", help="sessions (252/yr) or 24/7 (365/yr); default: infer"),
        ] = None,
    ) -> None:
        """Backtest a strategy on one price file; writes metrics.json, trades.csv, equity.csv."""
        m = run_backtest_cli(strategy, data_file, param or [], fees, mode, out, calendar)
        typer.echo(summary_line(strategy, m, out))

    @app.command("backtest")
    def backtest(
        strategy: Annotated[str, typer.Argument(help=", ".join(known_strategies()))],
        out: Out,
        param: Param = None,
        symbols: Annotated[
            str | None, typer.Option("--symbols", help="comma-separated; default: the strategy's")
        ] = None,
        fees: Annotated[float, typer.Option("--fees", help=FEES_HELP)] = 0.001,
        mode: Mode = "event",
        start: Annotated[
            str | None, typer.Option(help="first session, YYYY-MM-DD (default: after warm-up)")
        ] = None,
        end: Annotated[str | None, typer.Option(help="last session, YYYY-MM-DD")] = None,
        benchmark: Annotated[
            str, typer.Option(help="benchmark symbol for the tearsheet ('' for none)")
        ] = "SPY",
        tearsheet: Annotated[
            bool, typer.Option(help="write tearsheet.html and quantstats.csv")
        ] = True,
    ) -> None:
        """Backtest a strategy on the bundled data, signals included; writes a tearsheet."""
        m = run_backtest_bundled(
            strategy,
            out=out,
            params=param,
            symbols=symbols,
            fees=fees,
            mode=mode,
            start=start,
            end=end,
            benchmark=benchmark or None,
            tearsheet=tearsheet,
        )
        typer.echo(summary_line(strategy, m, out, window=True))
