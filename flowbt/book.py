"""The main job: the composite book and each of its sleeves across the three universes.

``run_book(out)`` backtests the default composite book (``strategies.composite``) and
every thesis strategy on its own universe (the universe-agnostic ``cta_trend`` on all
three: equities, memory chips, crypto) on the bundled data, each into its own results
folder under ``out`` (metrics.json, trades.csv, orders.csv, equity.csv, manifest.json,
tearsheet.html against the run's benchmark), and writes ``out/summary.csv``: one row per
run with strategy, universe, symbols, start, end, total_return, cagr, sharpe,
max_drawdown, n_trades, the orders cut or rejected and the days off target, and
``out/compare.html`` (every run side by side, ``flowbt.report.compare``) and
``out/index.html`` (``flowbt.report.index``) linking every run's tearsheet and it.

Signals are computed once per (signal, parameters) and shared by every run that reads
them. ``out`` may be new, empty, or an earlier book's folder (it holds ``BOOK_FILE``);
anything else is refused untouched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import data
from data.market import MarketData
from engine.market import SignalCache
from flowbt.experiment import Experiment
from flowbt.report.compare import PAGE as COMPARE_PAGE
from flowbt.report.compare import load_runs, render
from flowbt.report.files import check_out_dir, write_json
from flowbt.report.index import write_index
from flowbt.report.tearsheet import TearsheetJob, run_jobs
from flowbt.runs import run_experiment
from strategies.composite import DEFAULT_SLEEVES
from strategies.registry import get_strategy

BOOK_FILE = "flowbt-book.json"
BOOK_BENCHMARK = "SPY"  # the compare page's benchmark: the book's
SUMMARY_COLUMNS = [
    "run",
    "strategy",
    "universe",
    "symbols",
    "start",
    "end",
    "total_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "n_trades",
    "n_orders_cut",
    "n_orders_rejected",
    "off_target_days",
    "longest_off_target_days",
    "benchmark",
]


@dataclass(frozen=True)
class BookRun:
    """One run of the main job: its folder name and the experiment."""

    name: str
    experiment: Experiment


def default_runs() -> list[BookRun]:
    """The composite book first, then each thesis strategy on its universe(s)."""
    runs = [BookRun("book", Experiment(strategy="composite"))]
    for spec in DEFAULT_SLEEVES:
        cls = get_strategy(spec.strategy)
        if cls.universes:
            for name in ("equities", "memory", "crypto"):
                if name in cls.universes:
                    exp = Experiment(strategy=spec.strategy, universe=name)
                    runs.append(BookRun(f"{spec.strategy}-{name}", exp))
        else:
            runs.append(BookRun(spec.strategy, Experiment(strategy=spec.strategy)))
    return runs


def check_book_dir(out: Path) -> None:
    """``out`` must be new, empty or an earlier book's folder; anything else is refused."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; fix: pick a new folder name")
    if out.is_dir() and any(out.iterdir()) and not (out / BOOK_FILE).is_file():
        raise ValueError(
            f"--out {out} is not empty and holds no flowbt book; fix: pick a new or empty folder"
        )


def run_book(
    out: Path,
    *,
    runs: list[BookRun] | None = None,
    md: MarketData | None = None,
    progress: Callable[[str], None] = print,
    tearsheet: bool = True,
) -> pd.DataFrame:
    """Run the main job into ``out``; returns the summary (also ``out/summary.csv``)."""
    out = Path(out)
    check_book_dir(out)
    runs = runs if runs is not None else default_runs()
    for run in runs:  # every run's folder is checked before any work
        check_out_dir(out / run.name)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / BOOK_FILE, {"flowbt": "book", "runs": [r.name for r in runs]})
    md = md if md is not None else data.load()
    cache: SignalCache = {}  # each (signal, parameters) computed once for all runs
    jobs: list[TearsheetJob] = []  # the tearsheets, drawn at the end on both cores
    rows: list[dict[str, Any]] = []
    for k, run in enumerate(runs, start=1):
        began = time.perf_counter()
        m = run_experiment(
            run.experiment,
            out / run.name,
            md=md,
            tearsheet=tearsheet,
            signal_cache=cache,
            jobs=jobs,
        )
        symbols = run.experiment.build_strategy().symbols or []
        row = {
            "run": run.name,
            "strategy": run.experiment.strategy,
            "universe": run.experiment.universe or "its own",
            "symbols": " ".join(symbols),
            **{key: m.get(key) for key in SUMMARY_COLUMNS if key in m},
        }
        row["start"], row["end"] = str(m["start"])[:10], str(m["end"])[:10]
        rows.append(row)
        progress(
            f"[{k}/{len(runs)}] {run.name}: sharpe {m['sharpe'] or float('nan'):.2f}, "
            f"total return {m['total_return']:.1%}, {m['n_trades']} trades, "
            f"{m['off_target_days']} days off target ({time.perf_counter() - began:.1f} s)"
        )
    if jobs:
        began = time.perf_counter()
        run_jobs(jobs, workers=min(2, os.cpu_count() or 1))
        progress(f"{len(jobs)} tearsheets ({time.perf_counter() - began:.1f} s)")
        for run in runs:  # each run folder's index, now that its tearsheet exists
            write_index(out / run.name)
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary.to_csv(out / "summary.csv", index=False)
    if len(runs) >= 2:
        began = time.perf_counter()
        page, _ = render(load_runs([out / r.name for r in runs]), BOOK_BENCHMARK)
        (out / COMPARE_PAGE).write_text(page, encoding="utf-8")
        progress(f"compare page of {len(runs)} runs ({time.perf_counter() - began:.1f} s)")
    write_index(out, title="flowbt book: the composite and its sleeves")
    return summary
