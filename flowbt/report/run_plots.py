"""Plots of one run: equity against its benchmark with drawdown, and trades on price.

``plot_equity`` (``equity.png``) draws the run's equity once per period
(`engine.result.Result.period_equity`) in the portfolio's currency on a log scale,
next to a buy-and-hold of the benchmark rebased to the initial cash, and below it the
drawdown in % of the running peak. ``plot_trades`` (``trades.png``) draws the prices of
the symbols the run traded with every fill marked at its bar and price (buys green
``^``, sells red ``v``) and, when given, the strategy's signal in a panel below
(`run_signal` computes the first one a strategy requests on the run's bars).

Benchmark alignment (point in time): each period gets the last benchmark close dated on
or before the period's UTC date, i.e. the close known that day, carried over the
benchmark's weekends and holidays (the rule of `flowbt.report.tearsheet.benchmark_returns`).
Uses bare matplotlib ``Figure`` objects (no pyplot), so it never needs or changes a
display backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from engine.market import SignalCache, bar_instants, signal_on_bars
from engine.result import Result
from flowbt.report.events import Overlay, draw_overlays
from signals.registry import get_signal

if TYPE_CHECKING:
    from data.market import MarketData
    from strategies.base import Strategy

MAX_TRADE_PANELS = 6  # price panels in trades.png: the most traded symbols
SIGNAL_COLUMNS = 2  # signal columns drawn (the second on a right-hand axis if need be)
OWN_AXIS_RATIO = 3.0  # columns whose magnitudes differ more than this get their own axes
DENSE_FILLS = 300  # a panel with more fills than this gets smaller markers
LOG_PRICE_SPAN = 5.0  # a price panel spanning more than this ratio is drawn on a log scale


def _naive(index: pd.Index) -> pd.DatetimeIndex:
    """UTC timestamps without a time zone (matplotlib's dates), time of day kept."""
    out = pd.DatetimeIndex(index)
    return out.tz_convert("UTC").tz_localize(None) if out.tz is not None else out


def _days(index: pd.Index) -> pd.DatetimeIndex:
    """The UTC date of each timestamp, as naive midnight."""
    return _naive(index).normalize()


def _date_axis(ax: Axes) -> None:
    """Concise date labels on the shared time axis (years, or months and days when short)."""
    # matplotlib's stubs leave both constructors unannotated
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _currency(result: Result) -> str | None:
    """The portfolio's currency when the run's manifest names it (market runs)."""
    fx = result.manifest.get("fx") or {}
    currency = fx.get("currency") if isinstance(fx, dict) else None
    return str(currency) if currency else None


def _compact(value: float, _pos: Any = None) -> str:
    """A tick label without offset or exponent: 950, 120k, 1.5M, 2B (thousands,
    millions, billions of the axis' unit)."""
    size = abs(value)
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= scale:
            return f"{value / scale:.4g}{unit}"
    return f"{value:.4g}"


def _log_axis(ax: Axes, values: np.ndarray) -> None:
    """Log scale with labelled ticks at 1, 1-2-5 or 1..9 times each power of ten (by
    the range drawn), or about six evenly spaced ones over less than a factor of
    three (a plain log axis over a narrow range shows one tick or none)."""
    ax.set_yscale("log")
    finite = values[np.isfinite(values) & (values > 0)]
    span = float(finite.max() / finite.min()) if finite.size else 10.0
    if span >= 1000.0:
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0,)))
    elif span >= 10.0:
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    elif span >= 3.0:
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=tuple(range(1, 10))))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    ax.yaxis.set_minor_formatter(NullFormatter())


def benchmark_equity(close: pd.Series, periods: pd.Index, init_cash: float) -> pd.Series:
    """Buy-and-hold of the benchmark on ``periods``, in the portfolio's currency.

    Each period (a UTC date; see the module docstring for the point-in-time rule) takes
    the last close dated on or before it, carried over the benchmark's holidays and
    weekends; the series is that close over the one of the first period, times
    ``init_cash``. Periods before the benchmark's first close are NaN (the line is then
    rebased on the first period that has one). Indexed like ``periods``.
    """
    values = close.dropna().astype(float)
    by_day = pd.Series(values.to_numpy(), index=_days(values.index)).groupby(level=0).last()
    days = _days(periods)
    grid = by_day.index.union(days)
    known = by_day.reindex(grid).ffill().reindex(days).to_numpy()
    first = np.flatnonzero(np.isfinite(known))
    rebased = known / known[first[0]] * init_cash if first.size else known
    return pd.Series(rebased, index=pd.Index(periods), name=close.name or "benchmark")


def drawdown_pct(equity: pd.Series, init_cash: float) -> pd.Series:
    """Drawdown in % of the running peak (0 to -100): ``100 * (equity / peak - 1)``, the
    peak starting at ``init_cash`` as for ``max_drawdown`` in metrics.json."""
    values = equity.to_numpy(dtype=float)
    peak = np.maximum.accumulate(np.concatenate([[float(init_cash)], values]))[1:]
    return pd.Series(100.0 * (values / peak - 1.0), index=equity.index, name="drawdown")


def plot_equity(
    result: Result,
    path: str | Path | None = None,
    benchmark: pd.Series | None = None,
    overlays: Sequence[Overlay] | None = None,
) -> Figure:
    """Equity against the benchmark (log scale) and drawdown in % of the running peak.

    Both panels are on the run's periods (`Result.period_equity`). Equity is in the
    portfolio's currency; ``benchmark`` is a close series (e.g.
    `flowbt.report.tearsheet.benchmark_close`) drawn as a buy-and-hold rebased to the
    run's initial cash on its first period (`benchmark_equity`; None: no benchmark
    line). ``overlays`` (`flowbt.report.events.overlays_for`, e.g. on the run's
    `flowbt.report.events.manifest_signals` over its first..last period) are drawn on
    the equity panel with a legend entry each. Saved as PNG when ``path`` is given.
    """
    equity = result.period_equity().astype(float)
    x = _naive(equity.index)
    fig = Figure(figsize=(10, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    name = result.manifest_name()
    top.plot(x, equity.to_numpy(), lw=1.3, color="tab:blue", label=name)
    shown = [equity.to_numpy()]
    if benchmark is not None:
        bench = benchmark_equity(benchmark, equity.index, result.init_cash)
        label = f"{bench.name} buy & hold"
        top.plot(x, bench.to_numpy(), lw=1.0, color="dimgray", alpha=0.85, label=label)
        shown.append(bench.to_numpy())
    _log_axis(top, np.concatenate(shown))
    if overlays:
        draw_overlays(top, overlays)
    currency = _currency(result)
    top.set_ylabel(f"equity ({currency + ', ' if currency else ''}log scale)")
    top.grid(True, which="major", alpha=0.3)
    top.legend(loc="upper left", fontsize=9, framealpha=0.85)

    dd = drawdown_pct(equity, result.init_cash).to_numpy()
    bottom.fill_between(x, dd, 0.0, color="tab:red", alpha=0.3, lw=0)
    bottom.plot(x, dd, color="tab:red", lw=0.8, label="drawdown")
    bottom.yaxis.set_major_formatter(PercentFormatter(xmax=100))
    worst = float(dd.min()) if dd.size else 0.0
    bottom.set_ylim(min(worst * 1.08, -1.0), 0.0)
    bottom.set_ylabel("drawdown (% of peak)")
    bottom.grid(True, alpha=0.3)
    bottom.text(0.01, 0.08, f"max drawdown {worst:.1f}%", transform=bottom.transAxes, fontsize=8)
    _date_axis(bottom)
    fig.suptitle(f"{name} ({result.mode}, {result.calendar})")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def traded_symbols(result: Result, limit: int = MAX_TRADE_PANELS) -> list[str]:
    """The symbols the run traded (had fills), at most ``limit``: the largest by traded
    notional (sum of |size| * price), in the run's column order."""
    fills = result.fills
    if not len(fills):
        return []
    notional = (fills["size"].abs() * fills["price"]).groupby(fills["symbol"]).sum()
    top = set(notional.sort_values(ascending=False, kind="stable").index[:limit])
    return [s for s in result.positions.columns if s in top]


def _signal_frame(signal: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """The signal's main numeric columns: its first ``SIGNAL_COLUMNS`` float columns (or
    integer ones when it has no float column), those never defined dropped."""
    frame = signal.to_frame() if isinstance(signal, pd.Series) else signal
    numeric = frame.select_dtypes(include=["number"], exclude=["bool", "timedelta"])
    floats = numeric.select_dtypes(include=["floating"])
    chosen = floats if floats.shape[1] else numeric
    chosen = chosen.loc[:, chosen.notna().any(axis=0)]
    return chosen.iloc[:, :SIGNAL_COLUMNS].astype(float)


def _price_panel(ax: Axes, result: Result, symbol: str, fills: pd.DataFrame) -> None:
    close = result.close[symbol].dropna().astype(float)
    ax.plot(_naive(close.index), close.to_numpy(), color="black", lw=0.9, label=f"{symbol} close")
    mine = fills[fills["symbol"] == symbol]
    for gid, rows, marker, color in (
        ("buy", mine[mine["size"] > 0], "^", "tab:green"),
        ("sell", mine[mine["size"] < 0], "v", "tab:red"),
    ):
        if not len(rows):
            continue
        ax.plot(
            _naive(pd.DatetimeIndex(rows["date"])),
            rows["price"].to_numpy(dtype=float),
            ls="none",
            marker=marker,
            ms=6.0 if len(mine) <= DENSE_FILLS else 3.5,
            color=color,
            markeredgecolor="black",
            markeredgewidth=0.4,
            alpha=0.85,
            label=f"{gid} ({len(rows)})",
            gid=gid,
        )
    prices = np.concatenate([close.to_numpy(), mine["price"].to_numpy(dtype=float)])
    finite = prices[np.isfinite(prices) & (prices > 0)]
    log = bool(finite.size) and float(finite.max() / finite.min()) > LOG_PRICE_SPAN
    if log:
        _log_axis(ax, finite)
    ax.set_ylabel(f"{symbol}" + (" (log)" if log else ""))
    if not log:
        ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    ax.grid(True, alpha=0.3)
    if not len(mine):
        ax.text(
            0.5,
            0.5,
            "no trades",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="dimgray",
            bbox={"facecolor": "white", "edgecolor": "lightgray", "alpha": 0.9},
        )
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)


def _own_axes(frame: pd.DataFrame) -> bool:
    """Whether the second column needs its own axis: its largest magnitude differs from
    the first's by more than ``OWN_AXIS_RATIO`` (different units or scales)."""
    if frame.shape[1] < 2:
        return False
    a, b = (float(frame[c].abs().max()) for c in frame.columns[:2])
    if not (np.isfinite(a) and np.isfinite(b)):
        return False
    small, large = sorted((a, b))
    return bool(small == 0.0 or large / small > OWN_AXIS_RATIO)


def _signal_panel(ax: Axes, result: Result, signal: pd.DataFrame, label: str) -> None:
    frame = signal.set_axis(_naive(signal.index))
    lo, hi = _naive(result.equity.index[[0, -1]])
    frame = frame.loc[(frame.index >= lo) & (frame.index <= hi)]
    colors = ("tab:purple", "tab:orange")
    axes = [ax, ax.twinx()] if _own_axes(frame) else [ax] * frame.shape[1]
    for k, (axis, col) in enumerate(zip(axes, frame.columns, strict=False)):
        values = frame[col]
        axis.plot(values.index, values.to_numpy(), color=colors[k], lw=1.0, label=str(col))
        axis.yaxis.set_major_formatter(FuncFormatter(_compact))
    if len(set(map(id, axes))) > 1:
        for axis, col, color in zip(axes, frame.columns, colors, strict=False):
            axis.set_ylabel(str(col), color=color, fontsize=9)
    axes = list(dict.fromkeys(axes))
    handles, labels = [], []
    for axis in axes:
        h, lab = axis.get_legend_handles_labels()
        handles += h
        labels += lab
    ax.legend(handles, labels, loc="upper left", fontsize=8, framealpha=0.8)
    ax.set_title(f"signal: {label}", fontsize=9, loc="left")
    ax.grid(True, alpha=0.3)


def plot_trades(
    result: Result,
    path: str | Path | None = None,
    signal: pd.DataFrame | pd.Series | None = None,
) -> Figure:
    """The traded prices with every fill marked, and the strategy's signal below.

    One panel per traded symbol (`traded_symbols`: at most ``MAX_TRADE_PANELS``, the
    largest by notional): the run's close (in the portfolio's currency, adjusted as
    the run traded it) with each buy (green ``^``) and sell (red ``v``) at its fill bar
    and fill price. A run without fills draws its symbols' prices with a note "no
    trades". ``signal`` (on the run's bars, e.g. `run_signal`) adds a panel of its
    main numeric columns (`_signal_frame`; the second on a right-hand axis when its
    scale differs, `_own_axes`), titled by its ``attrs["name"]`` or a Series' name.
    Saved as PNG when ``path`` is given.
    """
    fills = result.fills
    traded = traded_symbols(result)
    symbols = traded or list(result.positions.columns)[:MAX_TRADE_PANELS]
    frame = _signal_frame(signal) if signal is not None else None
    has_signal = frame is not None and frame.shape[1] > 0 and len(result.equity) > 0
    n = len(symbols) + int(has_signal)
    heights = [2.0] * len(symbols) + ([1.4] if has_signal else [])
    fig = Figure(figsize=(11, max(4.0, 1.0 + 1.15 * sum(heights))))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": heights})
    panels = [row[0] for row in axes]
    for ax, symbol in zip(panels, symbols, strict=False):
        _price_panel(ax, result, symbol, fills)
    if has_signal and frame is not None:
        name = signal.attrs.get("name") if signal is not None else None
        if name is None and isinstance(signal, pd.Series):
            name = signal.name
        _signal_panel(panels[-1], result, frame, str(name or "signal"))
    _date_axis(panels[-1])
    n_traded = int(fills["symbol"].nunique()) if len(fills) else 0
    title = f"{result.manifest_name()}: trades on price ({len(fills)} fills"
    if n_traded > len(traded):
        title += f"; the {len(traded)} most traded of {n_traded} symbols"
    fig.suptitle(title + ")")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def run_signal(
    result: Result,
    strategy: Strategy,
    md: MarketData,
    cache: SignalCache | None = None,
) -> pd.DataFrame | None:
    """The strategy's first requested signal on the run's bars, or None (no signal, or
    a run whose manifest names no symbol calendars).

    Point in time as the run saw it (`engine.market.signal_on_bars`): each bar gets the
    latest row known by its close. A signal already in ``cache`` (the run's
    `engine.market.SignalCache`) is reused, not computed again. The frame's
    ``attrs["name"]`` is the signal's registered name.
    """
    requests = strategy.signal_requests()
    info = (result.manifest.get("data") or {}).get("symbols_info") or {}
    if not requests or not len(result.equity) or not info:
        return None
    request = next(iter(requests.values()))
    params = dict(request.params)
    ident = (id(md), request.signal, repr(sorted(params.items())))  # as engine.market does
    if cache is not None and ident in cache:
        values = cache[ident]
    else:
        values = get_signal(request.signal)(md, **params)
    calendars = {str(s): str(entry["calendar"]) for s, entry in info.items()}
    index = pd.DatetimeIndex(result.equity.index)
    aligned = signal_on_bars(values, request.calendar, bar_instants(index, calendars))
    aligned = aligned.set_axis(index)
    aligned.attrs["name"] = request.signal
    return aligned
