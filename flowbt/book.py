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
them. ``out`` may be new, empty, or an earlier book's folder (it holds a ``BOOK_FILE``
flowbt wrote: `flowbt.report.files.read_mark`); anything else is refused untouched. A
rerun removes the files the earlier book listed, and the run folders it made that this
book does not make again (only the files their manifests list).
"""

from __future__ import annotations

import contextlib
import json
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
from flowbt.report.files import (
    check_out_dir,
    flowbt_mark,
    free_name,
    prepare_out_dir,
    read_mark,
    remove_earlier_outputs,
    run_files,
    seal_outputs,
    write_json,
)
from flowbt.report.index import INDEX_FILE, write_index
from flowbt.report.tearsheet import TearsheetJob, run_jobs
from flowbt.runs import TEARSHEET_FILES, run_experiment
from strategies.composite import DEFAULT_SLEEVES
from strategies.registry import get_strategy

BOOK_FILE = "flowbt-book.json"
BOOK_FILES = (BOOK_FILE, "summary.csv", COMPARE_PAGE, INDEX_FILE)
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
    """``out`` must be new, empty or an earlier book's folder (its ``BOOK_FILE`` written
    by flowbt), and writable; anything else is refused untouched."""
    try:
        check_out_dir(out, "book", files=BOOK_FILES, marker=BOOK_FILE)
    except ValueError as exc:  # the book's own word for "a flowbt folder"
        raise ValueError(str(exc).replace("holds no flowbt run", "holds no flowbt book")) from None


def _earlier_runs(out: Path) -> list[str]:
    """The run folders an earlier book in ``out`` made (from its ``BOOK_FILE``)."""
    if read_mark(out / BOOK_FILE) is None:
        return []
    runs = json.loads((out / BOOK_FILE).read_text(encoding="utf-8")).get("runs")
    return (
        [r for r in runs if isinstance(r, str) and "/" not in r] if isinstance(runs, list) else []
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
    extra = [INDEX_FILE, *(TEARSHEET_FILES if tearsheet else ())]
    for run in runs:  # every run's folder is checked before any work
        try:
            check_out_dir(out / run.name, "run", files=run_files(extra=extra))
        except ValueError as exc:  # the fix is about the book's --out, not the run's folder
            what = str(exc).partition("; fix: ")[0]
            fix = f"pick a new or empty folder for the book, e.g. --out {free_name(out)}"
            raise ValueError(f"{what}; fix: {fix}") from None
    stale = [n for n in _earlier_runs(out) if n not in {r.name for r in runs}]
    prepare_out_dir(out, "book", files=BOOK_FILES, marker=BOOK_FILE)
    for name in stale:  # an earlier book's run this one does not make: its files only
        if read_mark(out / name / "manifest.json") is not None:
            remove_earlier_outputs(out / name)
            with contextlib.suppress(OSError):
                (out / name).rmdir()  # only when nothing of the user's is left in it
    mark = flowbt_mark("book", BOOK_FILES, out)
    write_json(out / BOOK_FILE, {"flowbt": mark, "runs": [r.name for r in runs]})
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
            seal_outputs(out / run.name)
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary.to_csv(out / "summary.csv", index=False)
    if len(runs) >= 2:
        began = time.perf_counter()
        page, _ = render(load_runs([out / r.name for r in runs]), BOOK_BENCHMARK)
        (out / COMPARE_PAGE).write_text(page, encoding="utf-8")
        progress(f"compare page of {len(runs)} runs ({time.perf_counter() - began:.1f} s)")
    write_index(out, title="flowbt book: the composite and its sleeves")
    seal_outputs(out, BOOK_FILE)
    return summary
