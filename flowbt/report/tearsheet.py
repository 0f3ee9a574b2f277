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
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from data.market import MarketData
from flowbt.report.events import Overlay, draw_overlays

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
    # flowbt's own figures for the metrics both reports show (metrics.json's values)
    overrides: Mapping[str, float] = field(default_factory=dict)
    # events the run's strategy reads, marked on the cumulative-return and underwater
    # charts (`flowbt.report.events.overlays_for`)
    overlays: tuple[Overlay, ...] = ()


def tearsheet_job(
    result: Result,
    benchmark: pd.Series | None = None,
    *,
    html: Path | None = None,
    table: Path | None = None,
    title: str | None = None,
    overlays: Sequence[Overlay] = (),
) -> TearsheetJob:
    """The job for ``result`` (returns per period, benchmark on the same days);
    ``overlays`` are drawn on its cumulative-return and underwater charts."""
    if html is not None:
        html = Path(html)
        if html.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"tearsheet path must end in .html, got {html.name!r}")
        if not html.parent.exists():
            raise ValueError(f"folder {html.parent} does not exist; create it or pick another path")
    returns = period_returns(result)
    bench = benchmark_returns(benchmark, returns) if benchmark is not None else None
    name = title or f"{result.manifest_name()} ({result.mode}, {result.calendar})"
    stats = result.stats()
    overrides = {k: float(stats[k]) for k in SHARED_METRICS if stats.get(k) is not None}
    return TearsheetJob(returns, bench, result.periods_per_year, name, html, table, overrides,
                        tuple(overlays))  # fmt: skip


SHARED_METRICS: dict[str, str] = {
    "time_in_market": "Time in Market",
    "total_return": "Cumulative Return",
    "cagr": "CAGR\ufe6a",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "max_drawdown": "Max Drawdown",
    "volatility": "Volatility (ann.)",
    "calmar": "Calmar",
}
"""metrics.json key -> quantstats' row: the figures both reports show. The tearsheet
shows flowbt's (one computation, `engine.stats`), so the two never disagree; quantstats
counts time in market as days with a non-zero return, which misses a position held
over its own market's weekend."""
OVERLAID_CHARTS = ("Cumulative Returns", "Underwater Plot")  # quantstats' titles
CAGR_LABEL = "CAGR"  # quantstats' "CAGR\ufe6a" (small percent sign): most fonts lack it
NOT_RECOVERED = "not recovered"


def _overridden(table: pd.DataFrame, overrides: Mapping[str, float]) -> pd.DataFrame:
    """``table`` (quantstats' metrics) with the strategy column's shared rows replaced by
    flowbt's values, formatted as quantstats formats that row."""
    out = table.copy()
    column = out.columns[-1]  # the strategy (the benchmark, if any, comes first)
    if len(out.columns) > 1 and SHARED_METRICS["time_in_market"] in out.index:
        # buy and hold is in the market every period (quantstats counts the benchmark's
        # zero-return days, e.g. an equity index's weekends on a 24/7 run, as out)
        cell = out.at[SHARED_METRICS["time_in_market"], out.columns[0]]
        full = "100.0%" if isinstance(cell, str) else 1.0
        out.at[SHARED_METRICS["time_in_market"], out.columns[0]] = full
    for key, label in SHARED_METRICS.items():
        if key not in overrides or label not in out.index:
            continue
        value, cell = overrides[key], out.at[label, column]
        if isinstance(cell, str) and cell.endswith("%"):
            out.at[label, column] = f"{value * 100:.2f}%"
        elif isinstance(cell, str):
            out.at[label, column] = f"{value:.2f}"
        else:
            out.at[label, column] = round(value, 2)
    return out.rename(index={SHARED_METRICS["cagr"]: CAGR_LABEL})


def _unrecovered(table: Any, returns: pd.Series) -> Any:
    """quantstats' worst-drawdowns table with the drawdown still open at the end marked
    "not recovered" (quantstats gives it the last day as its recovery date)."""
    if not isinstance(table, pd.DataFrame) or list(table.columns)[:2] != ["Started", "Recovered"]:
        return table
    wealth = (1.0 + returns.fillna(0.0)).cumprod()
    if wealth.iloc[-1] >= wealth.cummax().iloc[-1] or len(table) == 0:
        return table
    out = table.copy()
    last = pd.Timestamp(returns.index[-1])
    ends = pd.to_datetime(out["Recovered"], errors="coerce")
    out["Recovered"] = out["Recovered"].astype(object)
    out.loc[ends == last, "Recovered"] = NOT_RECOVERED
    return out


def _blank_outside(monthly: pd.DataFrame, returns: pd.Series) -> pd.DataFrame:
    """quantstats' month x year table with the months before the first and after the last
    return blank (NaN) instead of 0.00."""
    out = monthly.astype(float)
    first, last = pd.Timestamp(returns.index[0]), pd.Timestamp(returns.index[-1])
    months = [m.upper() for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                   "Sep", "Oct", "Nov", "Dec")]  # fmt: skip
    for year in out.index:
        for k, month in enumerate(months, start=1):
            start = pd.Timestamp(year=int(year), month=k, day=1)
            if month in out.columns and (start.to_period("M") < first.to_period("M")
                                         or start.to_period("M") > last.to_period("M")):  # fmt: skip
                out.at[year, month] = float("nan")
    return out


@contextmanager
def _corrected(job: TearsheetJob) -> Iterator[None]:
    """quantstats with flowbt's corrections, for the duration of one job (see
    `SHARED_METRICS`, `_unrecovered`, `_blank_outside`); restored afterwards."""
    import quantstats as qs
    from quantstats._plotting import core

    reports: Any = qs.reports
    stats: Any = qs.stats
    utils: Any = qs.utils
    plotting: Any = core
    bars_fn: Callable[..., Any] = plotting.plot_returns_bars
    series_fn: Callable[..., Any] = plotting.plot_timeseries
    metrics_fn: Callable[..., Any] = reports.metrics
    table_fn: Callable[..., Any] = reports._html_table
    monthly_fn: Callable[..., Any] = stats.monthly_returns
    returns = job.returns

    def metrics(*args: Any, **kwargs: Any) -> Any:
        table = metrics_fn(*args, **kwargs)
        return _overridden(table, job.overrides) if isinstance(table, pd.DataFrame) else table

    def html_table(obj: Any, *args: Any, **kwargs: Any) -> Any:
        return table_fn(_unrecovered(obj, returns), *args, **kwargs)

    def monthly_returns(series: Any, *args: Any, **kwargs: Any) -> Any:
        table = monthly_fn(series, *args, **kwargs)
        if isinstance(series, pd.Series) and len(series) and isinstance(table, pd.DataFrame):
            return _blank_outside(table, series)
        return table

    def plot_returns_bars(returns: Any, benchmark: Any = None, *args: Any, **kwargs: Any) -> Any:
        # pandas 3 draws bars of a DatetimeIndex at their period ordinals (2014 -> x=44)
        # while quantstats puts the year labels at 0..n-1: the "EOY Returns" chart had
        # every label at the left edge and the bars squeezed right. Yearly bars get a
        # plain integer index of years (already resampled by quantstats, so no resample
        # and no date subtitle, which needs dates).
        if kwargs.get("resample") not in ("YE", "A", "Y"):
            return bars_fn(returns, benchmark, *args, **kwargs)
        kwargs.update(resample=None, subtitle=False)
        return bars_fn(_by_year(returns), _by_year(benchmark), *args, **kwargs)

    dd_fn: Callable[..., Any] = stats.drawdown_details

    def drawdown_details(drawdown: Any) -> Any:
        if isinstance(drawdown, pd.Series):
            return fast_drawdown_details(drawdown)
        if isinstance(drawdown, pd.DataFrame):  # one table per column, side by side
            parts = {col: fast_drawdown_details(drawdown[col]) for col in drawdown.columns}
            return pd.concat(parts, axis=1)
        return dd_fn(drawdown)

    group_fn: Callable[..., Any] = utils.group_returns

    def group_returns(returns: Any, groupby: Any, compounded: bool = False) -> Any:
        # quantstats compounds each group with groupby().apply(comp): one Python call
        # per month (~40% of a tearsheet's metrics). The same product, vectorised.
        if compounded and isinstance(returns, pd.Series | pd.DataFrame):
            return returns.add(1.0).groupby(groupby).prod() - 1.0
        return group_fn(returns, groupby, compounded)

    def plot_timeseries(*args: Any, **kwargs: Any) -> Any:
        # "Daily Returns (Cumulative Sum)": quantstats takes the cumulative sum, then
        # resamples it to calendar days with "sum", so every day without a return (a
        # weekend of a session calendar, or after a 24/7 asset's data ended) drops to 0
        # and the line became a solid block. The returns are already one per day.
        if kwargs.get("resample") == "D":
            kwargs["resample"] = None
        title = str(args[2] if len(args) > 2 else kwargs.get("title", ""))
        marks = job.overlays if title.startswith(OVERLAID_CHARTS) else ()
        log = bool(kwargs.get("log_scale"))
        if not log and not marks:
            return series_fn(*args, **kwargs)
        # draw without saving, correct the axis, then save
        savefig, show = kwargs.pop("savefig", None), kwargs.pop("show", True)
        fig = series_fn(*args, savefig=None, show=False, **kwargs)
        ax = fig.axes[0]
        if log:
            # the log-scaled cumulative returns had ticks at 0% and 100% only: ticks at
            # wealth multiples (0.5x, 1x, 2x, 5x, 10x, ...)
            _wealth_ticks(ax)
        if marks:
            draw_overlays(ax, marks)
            ax.legend(fontsize=11)  # quantstats' legend, with one entry per overlay
        if savefig:
            fig.savefig(**savefig) if isinstance(savefig, dict) else fig.savefig(savefig)
        return None if show else fig

    prepare_fn: Callable[..., Any] = utils._prepare_benchmark

    def prepare_benchmark(benchmark: Any = None, period: Any = "max", *args: Any,
                          **kwargs: Any) -> Any:  # fmt: skip
        # quantstats decides whether to realign by comparing Python sets of Timestamps
        # (~0.1 s per call, 20 calls a tearsheet); the same days need no realigning
        if (isinstance(period, pd.DatetimeIndex) and isinstance(benchmark, pd.Series)
                and benchmark.index.equals(period)):  # fmt: skip
            period = None
        return prepare_fn(benchmark, period, *args, **kwargs)

    patches = [
        (reports, "metrics", metrics),
        (reports, "_html_table", html_table),
        (stats, "monthly_returns", monthly_returns),
        (stats, "drawdown_details", drawdown_details),
        (utils, "group_returns", group_returns),
        (utils, "_prepare_benchmark", prepare_benchmark),
        (plotting, "plot_returns_bars", plot_returns_bars),
        (plotting, "plot_timeseries", plot_timeseries),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, fn in patches:
        setattr(module, name, fn)
    try:
        yield
    finally:
        for module, name, fn in saved:
            setattr(module, name, fn)


def fast_drawdown_details(drawdown: pd.Series) -> pd.DataFrame:
    """quantstats' ``drawdown_details`` of one series, the same table (start, valley, end,
    days, max drawdown %, 99% max drawdown %) computed with numpy per period instead of
    pandas slices and quantiles: a tearsheet called it for ~40% of its time."""
    no_dd = drawdown == 0
    starts = list(drawdown.index[(~no_dd & no_dd.shift(1, fill_value=False)).to_numpy()])
    ends_mask = (no_dd & (~no_dd).shift(1, fill_value=False)).shift(-1, fill_value=False)
    ends = list(drawdown.index[ends_mask.to_numpy(dtype=bool)])
    columns = ["start", "valley", "end", "days", "max drawdown", "99% max drawdown"]
    if not starts:
        return pd.DataFrame(index=[], columns=columns)
    if ends and starts[0] > ends[0]:
        starts.insert(0, drawdown.index[0])
    if not ends or starts[-1] > ends[-1]:
        ends.append(drawdown.index[-1])
    values = drawdown.to_numpy(dtype=float)
    index = pd.DatetimeIndex(drawdown.index)
    lo = index.searchsorted(pd.DatetimeIndex(starts), side="left")
    hi = index.searchsorted(pd.DatetimeIndex(ends), side="right")  # label slices: inclusive
    rows = []
    for s, e, start, end in zip(lo, hi, starts, ends, strict=False):
        dd = values[s:e]
        if len(dd) == 0 or np.isnan(dd).all():
            rows.append((start, pd.NaT, end, (end - start).days + 1, np.nan, np.nan))
            continue
        k = int(np.nanargmin(dd))
        neg = -dd[~np.isnan(dd)]
        kept = neg[neg < np.quantile(neg, 0.99)]
        clean = -kept.max() if len(kept) else np.nan
        rows.append((start, index[s + k], end, (end - start).days + 1, dd[k] * 100, clean * 100))
    df = pd.DataFrame(rows, columns=columns)
    df["days"] = df["days"].astype(int)
    for col in ("max drawdown", "99% max drawdown"):
        df[col] = df[col].astype(float)
    for col in ("start", "end", "valley"):
        df[col] = pd.to_datetime(df[col]).dt.strftime("%Y-%m-%d")
    return df


WEALTH_MULTIPLES = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # symlog packs < 0.5x


def _wealth_ticks(ax: Any) -> None:
    """Ticks of a cumulative-return axis (r = wealth - 1) at wealth multiples inside its
    range, keeping quantstats' percent labels (1x = 0%, 2x = 100%, 10x = 900%)."""
    from matplotlib.ticker import FixedLocator

    lo, hi = ax.get_ylim()
    ticks = [m - 1.0 for m in WEALTH_MULTIPLES if lo <= m - 1.0 <= hi]
    if len(ticks) >= 2:
        ax.yaxis.set_major_locator(FixedLocator(ticks))


def _by_year(values: Any) -> Any:
    """Yearly values indexed by the year (int) instead of the year-end date."""
    if isinstance(values, pd.Series | pd.DataFrame) and isinstance(values.index, pd.DatetimeIndex):
        values = values.copy()
        values.index = pd.Index(values.index.year, name=values.index.name)
    return values


def run_job(job: TearsheetJob) -> None:
    """Draw the job's tearsheet and/or metrics table with quantstats (corrected)."""
    import quantstats as qs

    with _quiet(), _corrected(job), _svg_drawing():
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
            offline(job.html)


@contextmanager
def _svg_drawing() -> Iterator[None]:
    """quantstats' charts drawn straight to SVG, text as SVG text.

    pyplot's ``savefig`` ends with ``canvas.draw_idle()``, which on the default Agg
    canvas renders every chart a second time as a raster nobody uses; on the SVG canvas
    it renders nothing (half of a tearsheet's drawing time). Text as text, not glyph
    outlines, is smaller and renders in the browser's own sans-serif (nothing fetched).
    The caller's backend and settings come back afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        plt.switch_backend("svg")
        try:
            yield
        finally:
            plt.switch_backend(backend)


def offline(page: Path) -> None:
    """quantstats' template fetches its favicon from qtpylib.io and calls an undefined
    ``save()`` on load; the page must open offline and clean: the icon becomes an empty
    data URL and the call goes."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'(<link[^>]*rel="[^"]*icon[^"]*"[^>]*href=")https?://[^"]*"', r'\1data:,"', text)
    text = text.replace(' onload="save()"', "")
    page.write_text(text, encoding="utf-8")


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
    with _quiet(), _corrected(job):
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
    overlays: Sequence[Overlay] = (),
) -> Path:
    """Write the quantstats HTML tearsheet to ``path`` and return it (``overlays`` on its
    cumulative-return and underwater charts)."""
    job = tearsheet_job(result, benchmark, html=Path(path), title=title, overlays=overlays)
    run_job(job)
    return Path(path)
