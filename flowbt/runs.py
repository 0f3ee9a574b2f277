"""One experiment into one results folder: the run behind ``flowbt backtest`` and the book.

Every symbol and the benchmark are checked before any work, the folder is checked
(`flowbt.report.files.check_out_dir`) before it is created, and the run writes
metrics.json, manifest.json (with the experiment), equity.csv, trades.csv, orders.csv,
equity.png (against the benchmark), trades.png (with the strategy's first signal) and,
with ``tearsheet``, tearsheet.html and quantstats.csv.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import data
from data.market import MarketData
from engine.market import SignalCache, run_market
from engine.result import Result
from flowbt.experiment import Experiment
from flowbt.report.events import run_overlays
from flowbt.report.files import check_out_dir, run_files, seal_outputs, write_results
from flowbt.report.index import INDEX_FILE, write_index
from flowbt.report.run_plots import run_signal
from flowbt.report.tearsheet import TearsheetJob, benchmark_close, run_job, tearsheet_job
from strategies.base import Strategy

TEARSHEET_FILES = ("tearsheet.html", "quantstats.csv")


def short_data_warnings(strategy: Strategy, result: Result) -> list[str]:
    """What the run could not do for lack of bars: a strategy that needs more bars
    before its first decision (``Strategy.warmup_bars``) than the run has."""
    need = strategy.warmup_bars()
    n_bars = int(result.manifest.get("data", {}).get("n_bars") or len(result.equity))
    if need <= 0 or n_bars > need:
        return []
    params = ", ".join(f"{k}={v}" for k, v in strategy.params.model_dump().items())
    return [
        f"{strategy.name} ({params}) needs more than {need} bars before its first trade"
        f" but the run has {n_bars}: no trade was possible"
    ]


def run_experiment(
    exp: Experiment,
    out: Path,
    *,
    md: MarketData | None = None,
    tearsheet: bool = True,
    plot: bool = True,
    signal_cache: SignalCache | None = None,
    jobs: list[TearsheetJob] | None = None,
) -> dict[str, Any]:
    """Run ``exp`` on the bundled (or given) data and write its results folder; returns
    the metrics written. Every symbol and the benchmark are checked before any work.
    With ``jobs`` the tearsheet is queued there (`flowbt.report.tearsheet.run_jobs`)
    instead of drawn now."""
    strat = exp.build_strategy()
    names = strat.symbols
    if not names:
        raise ValueError(f"{exp.strategy} names no default symbols; pass --symbols A,B")
    out = Path(out)
    extra = [INDEX_FILE, *(TEARSHEET_FILES if tearsheet else ())]
    # created only once everything is checked (by write_results)
    check_out_dir(out, "run", files=run_files(plot=plot, extra=extra))
    md = md if md is not None else data.load()
    benchmark = exp.benchmark_symbol(strat)
    for name in [*names, *([benchmark] if benchmark else [])]:
        md.price(name)  # unknown symbol -> DataError naming it, before any work
    start = exp.start.isoformat() if exp.start else None
    end = exp.end.isoformat() if exp.end else None
    # the signals computed for the run, reused by trades.png
    cache: SignalCache = signal_cache if signal_cache is not None else {}
    result = run_market(
        strat,
        md,
        exp.backtest_config(),
        mode=exp.mode,
        start=start,
        end=end,
        adjust=exp.adjust == "total-return",
        signal_cache=cache,
    )
    result.manifest["experiment"] = exp.model_dump(mode="json")
    result.manifest.setdefault("data", {})["adjust"] = exp.adjust
    bench = benchmark_close(md, benchmark) if benchmark else None
    signal = run_signal(result, strat, md, cache) if plot else None
    marks = run_overlays(result, md) if plot or tearsheet else None  # events it reads
    written = write_results(
        result,
        out,
        plot=plot,
        benchmark=bench,
        signal=signal,
        overlays=marks if plot else None,
        extra_files=extra,
        warnings=short_data_warnings(strat, result),
        extra_metrics={"adjust": exp.adjust},
    )
    written["benchmark"] = benchmark
    if tearsheet:
        job = tearsheet_job(
            result,
            bench,
            html=out / "tearsheet.html",
            table=out / "quantstats.csv",
            overlays=marks or (),
        )
        if jobs is None:
            run_job(job)
        else:
            jobs.append(job)
    if jobs is None or not tearsheet:
        write_index(out)  # index.html of the folder (the book writes its runs' once drawn)
        seal_outputs(out)  # the manifest lists every file the run wrote
    return written
