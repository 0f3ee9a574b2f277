"""quantstats tearsheets and metrics for a backtest, annualised on the run's own calendar.

quantstats does the reporting (HTML tearsheet, its full metrics table). flowbt hands
it one return per period of the run's calendar: daily equity (the last value of
each UTC day, see `Result.period_equity`) turned into returns, and
``periods_per_year`` = 252 for exchange sessions or 365 for 24/7 data; quantstats'
default of 252 would misstate every annualised figure of a crypto run.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from data.market import MarketData

if TYPE_CHECKING:
    from engine.result import Result


@contextmanager
def _quiet() -> Iterator[None]:
    """quantstats/matplotlib chatter (missing Arial, pandas deprecations) is not news."""
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    fonts.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        fonts.setLevel(level)


def _naive_days(series: pd.Series) -> pd.Series:
    index = pd.DatetimeIndex(series.index)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return series.set_axis(index.normalize())


def period_returns(result: Result) -> pd.Series:
    """One simple return per period (UTC day), first one against the initial cash."""
    equity = result.period_equity()
    prev = equity.shift(1)
    prev.iloc[0] = result.init_cash
    return _naive_days((equity / prev - 1.0).rename(result.manifest_name()))


def benchmark_returns(close: pd.Series, like: pd.Series) -> pd.Series:
    """Benchmark closes -> returns on ``like``'s days (last close known each day)."""
    days = _naive_days(close.dropna())
    days = days.groupby(level=0).last()
    # the last close known on each of like's days, seeded with the close before the first
    grid = like.index.insert(0, like.index[0] - pd.Timedelta(days=1))
    on = days.reindex(days.index.union(grid)).ffill().reindex(grid)
    return on.pct_change().iloc[1:].fillna(0.0).rename(close.name or "benchmark")


def benchmark_close(md: MarketData, symbol: str) -> pd.Series:
    """A benchmark's close with dividends where the data has them (``adj_close`` of a
    ``raw+tr`` file), named by the symbol; unknown symbols raise ``DataError``."""
    frame = md.price(symbol)
    field = "adj_close" if md.basis(symbol) == "raw+tr" else "close"
    return frame[field].rename(symbol)


@dataclass(frozen=True)
class TearsheetJob:
    """Everything quantstats needs for one run's tearsheet and metrics table (picklable,
    so several runs' reports can be drawn in parallel processes)."""

    returns: pd.Series
    benchmark: pd.Series | None
    periods_per_year: int
    title: str
    html: Path | None  # tearsheet.html to write (None: none)
    table: Path | None  # quantstats.csv to write (None: none)


def tearsheet_job(
    result: Result,
    benchmark: pd.Series | None = None,
    *,
    html: Path | None = None,
    table: Path | None = None,
    title: str | None = None,
) -> TearsheetJob:
    """The job for ``result`` (returns per period, benchmark on the same days)."""
    if html is not None:
        html = Path(html)
        if html.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"tearsheet path must end in .html, got {html.name!r}")
        if not html.parent.exists():
            raise ValueError(f"folder {html.parent} does not exist; create it or pick another path")
    returns = period_returns(result)
    bench = benchmark_returns(benchmark, returns) if benchmark is not None else None
    name = title or f"{result.manifest_name()} ({result.mode}, {result.calendar})"
    return TearsheetJob(returns, bench, result.periods_per_year, name, html, table)


def run_job(job: TearsheetJob) -> None:
    """Draw the job's tearsheet and/or metrics table with quantstats."""
    import quantstats as qs

    with _quiet():
        if job.table is not None:
            table = qs.reports.metrics(
                job.returns,
                benchmark=job.benchmark,
                mode="full",
                display=False,
                periods_per_year=job.periods_per_year,
            )
            table.to_csv(job.table)
        if job.html is not None:
            qs.reports.html(
                job.returns,
                benchmark=job.benchmark,
                output=str(job.html),
                title=job.title,
                periods_per_year=job.periods_per_year,
                download_filename=job.html.name,
            )


def run_jobs(jobs: list[TearsheetJob], workers: int = 2) -> None:
    """Run ``jobs``, on ``workers`` processes when there are several (quantstats draws
    with matplotlib, one process at a time)."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            run_job(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for done in pool.map(run_job, jobs):
            del done


def metrics(result: Result, benchmark: pd.Series | None = None) -> pd.DataFrame:
    """quantstats' full metrics table (strategy, and benchmark when given)."""
    import quantstats as qs

    job = tearsheet_job(result, benchmark)
    with _quiet():
        return qs.reports.metrics(
            job.returns,
            benchmark=job.benchmark,
            mode="full",
            display=False,
            periods_per_year=job.periods_per_year,
        )


def write_tearsheet(
    result: Result,
    path: str | Path,
    *,
    benchmark: pd.Series | None = None,
    title: str | None = None,
) -> Path:
    """Write the quantstats HTML tearsheet to ``path`` and return it."""
    job = tearsheet_job(result, benchmark, html=Path(path), title=title)
    run_job(job)
    return Path(path)
