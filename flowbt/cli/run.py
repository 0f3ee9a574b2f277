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

import pandas as pd
import typer
from pydantic import ValidationError

import data
from data.calendars import calendar_kind
from data.files import symbol_for
from engine.api import MODES, check_mode, run
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import market_bars
from flowbt.experiment import (
    DEFAULT_FEES,
    experiment,
    lay_options,
    load_config,
    validation_line,
)
from flowbt.report.files import check_out_dir, run_files, seal_outputs, write_results
from flowbt.runs import run_experiment, short_data_warnings
from strategies.registry import get_strategy, known_strategies

# the options both commands share (typer reads them from the signatures below)
Param = Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE, repeatable")]
Out = Annotated[
    Path, typer.Option("--out", help="results folder (created with its parents when missing)")
]
Mode = Annotated[str | None, typer.Option("--mode", help=" or ".join(MODES) + " (default event)")]
FEES_HELP = f"fraction of notional per fill (default {DEFAULT_FEES:g} = 10 bps)"
Config = Annotated[
    Path | None, typer.Option("--config", help="experiment file (.toml); options override it")
]


def _pair(item: str, option: str, shape: str, example: str) -> tuple[str, str]:
    """``"a=b"`` as ``("a", "b")`` (stripped); a one-line error naming ``option``."""
    left, sep, right = item.partition("=")
    left, right = left.strip(), right.strip()
    if not sep or not left or not right:
        raise ValueError(
            f"{option} must look like {shape} ({option} {item!r}); fix: e.g. {option} {example}"
        )
    return left, right


def parse_params(items: list[str]) -> dict[str, str]:
    """``["fast=10", "slow=50"]`` -> ``{"fast": "10", "slow": "50"}`` (pydantic coerces types)."""
    out: dict[str, str] = {}
    for item in items:
        name, value = _pair(item, "--param", "NAME=VALUE", "fast=10")
        if name in out:
            raise ValueError(
                f"--param {name} given twice (--param {name}={out[name]} and {item!r});"
                f" fix: keep one --param {name}=VALUE"
            )
        out[name] = value
    return out


def run_settings(fees: float, mode: str, calendar: str | None = None) -> BacktestConfig:
    """The checked ``--fees``/``--mode``/``--calendar`` of a CLI run as a `BacktestConfig`."""
    if not math.isfinite(fees) or fees < 0:
        raise ValueError(
            f"--fees must be a fraction >= 0, 0.001 = 10 bps (--fees {fees}); fix: --fees 0.001"
        )
    try:
        check_mode(mode)
    except ValueError:
        raise ValueError(
            f"--mode must be one of {', '.join(MODES)} (--mode {mode!r}); fix: --mode event"
        ) from None
    try:
        return BacktestConfig(costs=CostModel(fees=fees), calendar=calendar)
    except ValidationError as exc:
        raise ValueError(
            f"invalid backtest settings: {validation_line(exc)} (--fees {fees}, --calendar"
            f" {calendar}); fix: --fees 0.001 --calendar sessions"
        ) from None


def canonical_calendar(calendar: str | None) -> str | None:
    """``--calendar`` as the kind that sets periods per year ('sessions' or '24/7')."""
    if calendar is None:
        return None
    try:
        return calendar_kind(calendar)
    except ValueError as exc:
        raise ValueError(
            f"{exc} (--calendar {calendar!r}); fix: --calendar sessions or --calendar 24/7"
        ) from None


def summary_line(strategy: str, m: dict[str, Any], out: Path, *, window: bool = False) -> str:
    """The one line both commands print after writing ``out``: performance, then how
    the orders went (cut or rejected for cash) and how long the portfolio was off its
    target (days with the invested share off by more than 0.2)."""
    span = f", {str(m['start'])[:10]}..{str(m['end'])[:10]}" if window else ""
    count = f"{m['n_orders']} orders" if window else f"{m['n_trades']} trades"
    sharpe = m["sharpe"] if m["sharpe"] is not None else float("nan")
    warned = "".join(f"; WARNING: {w}" for w in m.get("warnings") or [])
    return (
        f"{strategy} ({m['mode']}{span}): final equity {m['final_equity']:,.2f}, "
        f"total return {m['total_return']:.2%}, sharpe {sharpe:.2f} "
        f"({m['periods_per_year']}/yr, {m['calendar']}), max drawdown "
        f"{m['max_drawdown']:.2%}, {count} ({m['n_orders_cut']} cut, "
        f"{m['n_orders_rejected']} rejected), off target {m['off_target_days']} days "
        f"(longest {m['longest_off_target_days']}){_notes(m)}{warned} -> {out}"
    )


def _notes(m: dict[str, Any]) -> str:
    """What the run could not trade as asked: symbols whose data ended, stale FX."""
    by_day: dict[str, list[str]] = {}
    for symbol, day in (m.get("data_end") or {}).items():
        by_day.setdefault(day, []).append(symbol)
    notes = [f"{', '.join(s)} data ended {d} (sold there)" for d, s in by_day.items()]
    if m.get("fx_stale_from"):
        notes.append(f"FX stale from {m['fx_stale_from']}")
    return "; " + "; ".join(notes) if notes else ""


def cli_settings(
    config: Path | None,
    *,
    strategy: str | None = None,
    params: list[str] | None = None,
    fees: float | None = None,
    mode: str | None = None,
    **options: Any,
) -> tuple[dict[str, Any], str]:
    """The experiment's settings: the ``--config`` table with the options given on the
    command line laid over it (``None`` = not given), and where they came from."""
    settings = load_config(config) if config is not None else {}
    source = f"config {config}" if config is not None else "options"
    if fees is not None or mode is not None:
        run_settings(DEFAULT_FEES if fees is None else fees, mode or "event")  # one-line checks
    settings = lay_options(settings, source, strategy=strategy, **options)
    get_strategy(settings["strategy"])  # unknown names: the registry's one line
    if params:
        settings["params"] = {**settings.get("params", {}), **parse_params(params)}
    if fees is not None:
        settings["costs"] = {**settings.get("costs", {}), "fees": fees}
    if mode is not None:
        settings["mode"] = mode
    return settings, source


ADJUST_CHOICES = ("total-return", "none")
"""``--adjust``: back-adjust OHLC to total return by the file's Adj Close, or not."""


def parse_mapping(items: list[str] | None) -> dict[str, str] | None:
    """``--map Timestamp=date --map Px=close`` as ``{"Timestamp": "date", "Px": "close"}``."""
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        column, field = _pair(item, "--map", "COLUMN=FIELD", "Timestamp=date")
        if column in out:
            raise ValueError(
                f"--map {column} given twice (--map {item!r}); fix: keep one --map {column}=FIELD"
            )
        out[column] = field
    return out


def price_adjustment(md: data.MarketData, symbol: str, adjust: str | None, path: Path) -> str:
    """The ``--adjust`` a run applies: as asked, or by default ``total-return`` when the
    file has an Adj Close column (the bundle's rule for ``raw+tr`` data: OHLC times
    ``adj_close / close``, so dividends count as return) and ``none`` when it has not.
    Asking for total return on a file without Adj Close is a one-line error."""
    if adjust is not None and adjust not in ADJUST_CHOICES:
        raise ValueError(
            f"--adjust must be total-return or none (--adjust {adjust!r}); "
            "fix: --adjust total-return"
        )
    has_tr = md.basis(symbol) == "raw+tr"
    if adjust == "total-return" and not has_tr:
        raise ValueError(
            f"--adjust total-return needs an Adj Close column (file {path} has none); "
            "fix: --adjust none, or use a file with Adj Close"
        )
    return adjust or ("total-return" if has_tr else "none")


def _file_option(settings: dict[str, Any], key: str, given: str | None, source: str) -> str | None:
    """``key`` (``date_format`` or ``adjust``) taken out of a config's ``settings``: the
    option when given, else the config's value (a string), else None."""
    value = settings.pop(key, None)
    if value is not None and not isinstance(value, str):
        example = "'%d/%m/%Y'" if key == "date_format" else "'total-return' or 'none'"
        raise ValueError(f"invalid {key} = {value!r} ({source}); fix: set {key} = {example}")
    return given if given is not None else value


def run_backtest_cli(
    strategy: str | None,
    data_file: Path,
    params: list[str],
    fees: float | None,
    mode: str | None,
    out: Path,
    calendar: str | None,
    config: Path | None = None,
    *,
    date_format: str | None = None,
    adjust: str | None = None,
    repair: bool = False,
    mapping: list[str] | None = None,
) -> dict[str, Any]:
    """Validate everything, run ``strategy`` on ``data_file`` in ``mode``, write ``out``.

    The file is read by `data.load` (``date_format``, ``repair``, ``mapping`` as
    ``COLUMN=FIELD`` items); ``adjust`` (`price_adjustment`) is recorded as
    ``metrics["adjust"]`` and ``manifest["data"]["adjust"]``. Returns the metrics
    written to ``out/metrics.json``.
    """
    settings, source = cli_settings(config, strategy=strategy, params=params, fees=fees, mode=mode)
    # how to read the file may come from the config too (`flowbt run` only; the options win)
    date_format = _file_option(settings, "date_format", date_format, source)
    adjust = _file_option(settings, "adjust", adjust, source)
    for key in ("universe", "symbols", "benchmark", "sleeves"):
        if key in settings:
            raise ValueError(
                f"{key} does not apply to `flowbt run` ({source}): it trades the --data file; "
                "fix: remove it, or use `flowbt backtest`"
            )
    exp = experiment(settings, source)
    strat = exp.build_strategy()
    if strat.signal_requests():
        raise ValueError(
            f"{exp.strategy} reads signals computed from the bundled data (`flowbt run`"
            f" trades one price file); fix: run it with `flowbt backtest {exp.strategy}`"
        )
    cfg = exp.backtest_config().model_copy(update={"calendar": canonical_calendar(calendar)})
    out = Path(out)
    check_out_dir(out, "run", files=run_files())  # created once all is checked (write_results)
    path = Path(data_file)
    if not path.is_file():  # else data.load would read the name as a bundled symbol
        what = "is a folder, not a price file" if path.is_dir() else "does not exist"
        raise ValueError(f"--data {what} (file {path}); fix: give a CSV or parquet file")
    columns = parse_mapping(mapping)
    symbol = symbol_for(path)  # raises DataError (a ValueError) naming file and row
    md = data.load(
        [str(path)], source="csv", repair=repair, mapping=columns, date_format=date_format
    )
    adjusted = price_adjustment(md, symbol, adjust, path)
    bars, _, _ = market_bars(md, [symbol], adjust=adjusted == "total-return", currency=None)
    for quirk in md.quirks:
        typer.echo(f"flowbt: repaired: {quirk.line()}", err=True)
    if exp.start or exp.end:
        days = bars.index.normalize().tz_localize(None)
        lo = pd.Timestamp(exp.start) if exp.start else days[0]
        hi = pd.Timestamp(exp.end) if exp.end else days[-1]
        first, stop = days.searchsorted(lo), days.searchsorted(hi, side="right")
        if first >= stop:
            raise ValueError(
                f"no bars between {exp.start or 'the first bar'} and {exp.end or 'the last'}"
                f" (file {path}, {days[0].date()}.."
                f"{days[-1].date()}); fix: set start and end in the --config file within that range"
            )
        bars = bars.rows(int(first), int(stop))
    result = run(strat, bars, cfg, exp.mode, params_for_manifest=strat.params.model_dump())
    result.manifest["data"]["file"] = str(path)
    result.manifest["data"]["adjust"] = adjusted
    result.manifest["data"]["prices"] = (
        "total return: OHLC back-adjusted by adj_close / close"
        if adjusted == "total-return"
        else "as stored" + ("" if adjust == "none" else " (the file has no Adj Close column)")
    )
    result.manifest["data"]["repairs"] = [q.line() for q in md.quirks]
    metrics = write_results(result, out, warnings=short_data_warnings(strat, result),
                            extra_metrics={"adjust": adjusted})  # fmt: skip
    seal_outputs(out)  # the manifest lists every file the run wrote
    return metrics


def symbol_list(text: str | None) -> list[str] | None:
    """``--symbols A,B`` as a list (None when not given); empty is a one-line error."""
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ValueError(
            f"--symbols must name at least one symbol (--symbols {text!r}); fix: --symbols SPY,QQQ"
        )
    return names


def run_backtest_bundled(
    strategy: str | None,
    *,
    out: Path,
    config: Path | None = None,
    params: list[str] | None = None,
    symbols: str | None = None,
    universe: str | None = None,
    fees: float | None = None,
    mode: str | None = None,
    start: str | None = None,
    end: str | None = None,
    benchmark: str | None = None,
    tearsheet: bool = True,
    plot: bool = True,
    adjust: str | None = None,
) -> dict[str, Any]:
    """Validate, run ``strategy`` (or the ``config`` experiment) on the bundled snapshot,
    write ``out``; returns metrics. ``adjust``: total-return (default) or none."""
    settings, source = cli_settings(
        config,
        strategy=strategy,
        params=params,
        fees=fees,
        mode=mode,
        symbols=symbol_list(symbols),
        universe=universe,
        start=start,
        end=end,
        benchmark=benchmark,
        adjust=adjust,
    )
    return run_experiment(experiment(settings, source), Path(out), tearsheet=tearsheet, plot=plot)


def register(app: typer.Typer) -> None:
    """Add ``flowbt run`` and ``flowbt backtest`` to the CLI app."""

    @app.command("run")
    def run_file(
        out: Out,
        strategy: Annotated[
            str | None, typer.Argument(help="strategy name, e.g. sma_cross (or from --config)")
        ] = None,
        data_file: Annotated[
            Path | None, typer.Option("--data", help="price file: CSV or parquet")
        ] = None,
        config: Config = None,
        param: Param = None,
        fees: Annotated[float | None, typer.Option("--fees", help=FEES_HELP)] = None,
        mode: Mode = None,
        calendar: Annotated[
            str | None,
            typer.Option("--calendar", help="sessions (252/yr) or 24/7 (365/yr); default: infer"),
        ] = None,
        date_format: Annotated[
            str | None,
            typer.Option(
                "--date-format",
                help="layout of the file's dates, e.g. %d/%m/%Y (default: detect; "
                "ambiguous day/month orders ask for it)",
            ),
        ] = None,
        adjust: Annotated[
            str | None,
            typer.Option(
                "--adjust",
                help="total-return (OHLC scaled by Adj Close / Close; the default when the "
                "file has Adj Close) or none (prices as stored)",
            ),
        ] = None,
        repair: Annotated[
            bool,
            typer.Option(
                "--repair",
                help="widen high/low to contain open/close and drop empty bars (reported)",
            ),
        ] = False,
        column_map: Annotated[
            list[str] | None,
            typer.Option("--map", help="COLUMN=FIELD for the file's columns, repeatable"),
        ] = None,
    ) -> None:
        """Backtest a strategy on one price file; writes metrics.json, trades.csv, equity.csv."""
        if data_file is None:
            raise ValueError("no price file given; fix: add --data FILE.csv")
        m = run_backtest_cli(
            strategy,
            data_file,
            param or [],
            fees,
            mode,
            out,
            calendar,
            config,
            date_format=date_format,
            adjust=adjust,
            repair=repair,
            mapping=column_map,
        )
        typer.echo(summary_line(m["strategy"], m, out))

    @app.command("backtest")
    def backtest(
        out: Out,
        strategy: Annotated[
            str | None, typer.Argument(help=", ".join(known_strategies()) + " (or --config)")
        ] = None,
        config: Config = None,
        param: Param = None,
        universe: Annotated[
            str | None, typer.Option("--universe", help="equities, memory or crypto")
        ] = None,
        symbols: Annotated[
            str | None, typer.Option("--symbols", help="comma-separated; default: the strategy's")
        ] = None,
        fees: Annotated[float | None, typer.Option("--fees", help=FEES_HELP)] = None,
        mode: Mode = None,
        start: Annotated[
            str | None, typer.Option(help="first session, YYYY-MM-DD (default: after warm-up)")
        ] = None,
        end: Annotated[str | None, typer.Option(help="last session, YYYY-MM-DD")] = None,
        benchmark: Annotated[
            str | None,
            typer.Option(
                help="benchmark symbol for the tearsheet ('' for none; default: the strategy's)"
            ),
        ] = None,  # fmt: skip
        tearsheet: Annotated[
            bool, typer.Option(help="write tearsheet.html and quantstats.csv")
        ] = True,
        adjust: Annotated[
            str | None,
            typer.Option(
                "--adjust",
                help="total-return (default: OHLC back-adjusted for dividends where the data"
                " has them) or none (prices as stored)",
            ),
        ] = None,
    ) -> None:
        """Backtest a strategy on the bundled data, signals included; writes a tearsheet."""
        m = run_backtest_bundled(
            strategy,
            out=out,
            config=config,
            params=param,
            symbols=symbols,
            universe=universe,
            fees=fees,
            mode=mode,
            start=start,
            end=end,
            benchmark=benchmark,
            tearsheet=tearsheet,
            adjust=adjust,
        )
        typer.echo(summary_line(m["strategy"], m, out, window=True))
