"""``compare.html``: several runs side by side on one self-contained page.

For two or more runs (results folders of ``flowbt backtest``, `flowbt.Backtest` or
`flowbt.Optimization` objects) and one benchmark, the page holds:

- over the common window (first to last UTC day every run has): equity rebased to 1.0
  on its first day (linear and log scale) and drawdowns; a metrics table (total return,
  CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar: the formulas of
  `engine.stats`) with 95% intervals of Sharpe and CAGR from a stationary bootstrap
  (`arch`; expected block ``periods_per_year // 12`` periods, about a month; ``REPS``
  resamples; seed ``SEED``; percentile intervals), PSR against a zero Sharpe
  (`flowbt.optimize.overfitting`), and the sweep's DSR and trial count for a run that
  came from an optimisation (a ``summary.json`` in its folder, or an `Optimization`);
  the correlation matrix of returns between the UTC days all runs share;
- rolling 6- and 12-month Sharpe (``periods_per_year // 2`` and ``periods_per_year``
  of the run's own periods, computed on its full history, shown over the window);
- per run, over its full history: monthly returns (months outside the run blank) and the
  ``N_DRAWDOWNS`` worst drawdowns (start = the peak, trough, end = back at the peak or
  "not recovered"; days = calendar days from the peak to the end, else the last day);
- each run's strategy, parameters, universe, symbols and data checksum (manifest.json).

Units: returns are simple returns per period; volatility, Sharpe and Sortino are
annualised with each run's own periods per year (252 sessions, 365 for 24/7); CAGR
counts ``n / periods_per_year`` years; drawdowns are % below the running peak.

Calendar rule: a period is a UTC day holding the run's last equity that day (the rule
of `engine.result.Result.period_equity`), so runs on different calendars line up by
date while each keeps its own annualisation; the page says so. The benchmark (the first
run's unless told) is the bundled close with dividends where the data has them, carried
to each day as last known, and is shown once.

Charts are matplotlib PNGs inlined as base64, styles are inline: the page loads
nothing from the network. Every value read from a file is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

import data
from data.calendars import periods_per_year
from engine.manifest import git_sha
from engine.stats import performance
from flowbt.api import Backtest
from flowbt.optimize.overfitting import probabilistic_sharpe, sharpe_moments
from flowbt.optimize.result import Optimization
from flowbt.report.events import Overlay, draw_overlays, manifest_signals, overlays_for
from flowbt.report.files import MANIFEST, check_out_dir, flowbt_mark, prepare_out_dir, write_json
from flowbt.report.tearsheet import benchmark_close

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAGE = "compare.html"
SEED = 12345
REPS = 1_000
N_DRAWDOWNS = 5
RunLike = str | Path | Backtest | Optimization
_FIX_RUN = "fix: pass folders written by `flowbt backtest STRATEGY --out DIR`"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STYLE = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
margin:2em;color:#222;max-width:1200px}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.4em 0 1em}img{max-width:100%}
th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}th{background:#f3f3f3}
td.t,th.t{text-align:left}p.note{color:#444;font-size:.9em;background:#f6f6ee;padding:.5em}"""
_METRICS = ("periods", "periods per year", "total return", "CAGR", "CAGR 95% CI", "volatility",
            "Sharpe", "Sharpe 95% CI", "Sortino", "max drawdown", "Calmar", "PSR (Sharpe > 0)",
            "DSR (optimisation)", "trials (optimisation)")  # fmt: skip
_RUN_HEAD = ("run", "source", "strategy", "parameters", "universe", "symbols", "calendar",
             "window", "mode", "fees", "data sha256", "git sha")  # fmt: skip


@dataclass
class Run:
    """One run as the page reads it: equity per UTC day (naive dates) and what describes it."""

    label: str
    source: str
    equity: pd.Series
    init_cash: float
    ppy: int
    calendar: str
    manifest: dict[str, Any]
    benchmark: str | None = None
    summary: dict[str, Any] | None = None  # an optimisation's summary (dsr, n_trials)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def daily(equity: pd.Series) -> pd.Series:
    """Equity per UTC day (`Result.period_equity`'s rule), on naive dates."""
    index = pd.DatetimeIndex(equity.index)
    index = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    days, series = index.normalize(), equity.set_axis(index).astype(float).rename("equity")
    if not days.has_duplicates and (index == days).all():
        return series
    return series.groupby(days).last()


def _benchmark_of(manifest: dict[str, Any], summary: dict[str, Any] | None) -> str | None:
    """The benchmark a run names: its experiment's ('' = none), else its strategy's."""
    given = (manifest.get("experiment") or {}).get("benchmark")
    if given is None and summary is not None:
        given = summary.get("benchmark")
    if given is not None:
        return str(given) or None
    from strategies.registry import get_strategy

    try:
        return str(get_strategy(str(manifest["strategy"]["strategy"])).benchmark) or None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _from_backtest(bt: Backtest, source: str, summary: dict[str, Any] | None = None) -> Run:
    r = bt.result
    label = r.manifest_name() + (" (optimised)" if summary is not None else "")
    bench = _benchmark_of(r.manifest, summary)
    eq = daily(r.period_equity())
    return Run(
        label, source, eq, r.init_cash, r.periods_per_year, r.calendar, r.manifest, bench, summary
    )


def _from_folder(folder: Path) -> Run:
    if not folder.is_dir():
        raise ValueError(f"run folder {folder} does not exist; {_FIX_RUN}")
    metrics, summary = _read_json(folder / "metrics.json"), _read_json(folder / "summary.json")
    manifest = _read_json(folder / "manifest.json") or {}
    if not (folder / "equity.csv").is_file() or metrics is None:
        if summary is not None:
            best = summary.get("best_params") or {}
            params = "".join(f" --param {k}={v}" for k, v in best.items())
            raise ValueError(
                f"{folder} is an optimisation (summary.json) without an equity curve; fix:"
                f" backtest its choice, `flowbt backtest {manifest.get('strategy', 'STRATEGY')}"
                f"{params} --out DIR`, and compare DIR"
            )
        raise ValueError(f"{folder} is not a flowbt run (no equity.csv / metrics.json); {_FIX_RUN}")
    try:
        frame = pd.read_csv(folder / "equity.csv")
        stamps = pd.DatetimeIndex(pd.to_datetime(frame["date"], utc=True, format="ISO8601"))
        eq = daily(pd.Series(frame["equity"].to_numpy(float), index=stamps))
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(
            f"equity.csv is unreadable ({folder}: {type(exc).__name__} {exc}); "
            "fix: run the backtest into that folder again"
        ) from None
    if len(eq) < 2 or not np.isfinite(eq.to_numpy()).all():
        raise ValueError(f"equity.csv is too short or not finite ({folder}); fix: run it again")
    init_cash = float((manifest.get("config") or {}).get("init_cash") or eq.iloc[0])
    strategy = str(metrics.get("strategy") or "run")
    label = folder.name if strategy in folder.name else f"{strategy} ({folder.name})"
    ppy = int(metrics.get("periods_per_year") or 252)
    calendar = str(metrics.get("calendar") or ("24/7" if ppy == 365 else "sessions"))
    bench = _benchmark_of(manifest, summary)
    return Run(label, str(folder), eq, init_cash, ppy, calendar, manifest, bench, summary)


def load_runs(results: Sequence[RunLike]) -> list[Run]:
    """Each item as a `Run`; repeated labels get ``#2``, ``#3``."""
    runs = []
    for k, item in enumerate(results, 1):
        if isinstance(item, Optimization):
            runs.append(_from_backtest(item.backtest(), f"Optimization {k}", dict(item.summary)))
        elif isinstance(item, Backtest):
            runs.append(_from_backtest(item, f"Backtest {k}"))
        elif isinstance(item, str | Path):
            runs.append(_from_folder(Path(item)))
        else:
            raise ValueError(
                f"cannot compare a {type(item).__name__} (item {k}); fix: pass run folders,"
                " flowbt.Backtest or flowbt.Optimization objects"
            )
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
        run.label += f" #{seen[run.label]}" if seen[run.label] > 1 else ""
    return runs


def window_returns(equity: pd.Series) -> np.ndarray:
    """Simple returns of a window's equity, the first one after its first value."""
    values = np.asarray(equity, dtype=np.float64)
    return values[1:] / values[:-1] - 1.0


def window_metrics(equity: pd.Series, ppy: int) -> dict[str, float]:
    """`engine.stats.performance` of a window: returns after its first value, peak from it."""
    values = np.asarray(equity, dtype=np.float64)
    return performance(values[1:], float(values[0]), ppy)


def bootstrap_ci(
    returns: np.ndarray, ppy: int, *, seed: int = SEED, reps: int = REPS
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of the annualised Sharpe and of the CAGR: a stationary
    bootstrap, expected block ``ppy // 12``; resamples gathered 100 at a time, summed."""
    from arch.bootstrap import StationaryBootstrap

    r = np.asarray(returns, dtype=np.float64)
    n, nan = len(r), (math.nan, math.nan)
    if n < 3:
        return {"sharpe": nan, "cagr": nan}
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log1p(r)
    bs = StationaryBootstrap(max(ppy // 12, 1), r, seed=seed)
    chunk = min(reps, 100)
    index, buf, sums = (
        np.empty((chunk, n), dtype=np.int64),
        np.empty((chunk, n)),
        np.empty((3, reps)),
    )
    for i, _ in enumerate(bs.bootstrap(reps)):
        index[i % chunk] = cast("np.ndarray[Any, np.dtype[np.int64]]", bs.index)
        if i % chunk == chunk - 1 or i == reps - 1:
            lo, rows = i - i % chunk, i % chunk + 1
            np.take(r, index[:rows], out=buf[:rows])
            sums[0, lo : i + 1] = buf[:rows].sum(axis=1)
            sums[1, lo : i + 1] = np.einsum("ij,ij->i", buf[:rows], buf[:rows])
            np.take(logs, index[:rows], out=buf[:rows])
            sums[2, lo : i + 1] = buf[:rows].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sums[0] / n
        sharpe = mean / np.sqrt((sums[1] - n * mean * mean) / (n - 1)) * math.sqrt(ppy)
        cagr = np.expm1(sums[2] * ppy / n)
    out = {}
    for name, x in (("sharpe", sharpe), ("cagr", cagr)):
        x = x[np.isfinite(x)]
        out[name] = (float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5))) if len(x) else nan
    return out


def psr(returns: np.ndarray) -> float:
    """Probability that the true Sharpe exceeds 0 (NaN when undefined)."""
    try:
        return probabilistic_sharpe(sharpe_moments(returns), 0.0)
    except ValueError:
        return math.nan


def rolling_sharpe(equity: pd.Series, init_cash: float, ppy: int) -> dict[str, pd.Series]:
    """Annualised Sharpe over the last ``ppy // 2`` ("6 months") and ``ppy`` ("12 months")
    periods, the first return against ``init_cash``."""
    r = equity / equity.shift(1).fillna(init_cash) - 1.0
    out = {}
    for name, window in (("6 months", ppy // 2), ("12 months", ppy)):
        roll = r.rolling(window, min_periods=window)
        out[name] = roll.mean() / roll.std(ddof=1) * math.sqrt(ppy)
    return out


def monthly_returns(equity: pd.Series, init_cash: float) -> pd.DataFrame:
    """Years x months 1..12 plus ``year`` (the year's return); NaN outside the run."""
    idx = pd.DatetimeIndex(equity.index)

    def by(keys: Any) -> pd.Series:
        last = equity.groupby(keys).last()
        return last / last.shift(1).fillna(init_cash) - 1.0

    years = list(range(int(idx.year[0]), int(idx.year[-1]) + 1))
    table = by([idx.year, idx.month]).unstack().reindex(index=years, columns=range(1, 13))
    table["year"] = by(idx.year).reindex(years)
    return table


@dataclass(frozen=True)
class Drawdown:
    start: pd.Timestamp  # the peak
    trough: pd.Timestamp
    end: pd.Timestamp | None  # back at the peak; None = not recovered
    depth: float  # negative fraction of the peak
    days: int  # calendar days from the peak to the end (or to the last day)


def worst_drawdowns(equity: pd.Series, init_cash: float, n: int = N_DRAWDOWNS) -> list[Drawdown]:
    """The ``n`` deepest drawdowns, the first peak being the initial cash on the first day."""
    values = np.concatenate([[init_cash], np.asarray(equity, dtype=np.float64)])
    days = pd.DatetimeIndex(equity.index).insert(0, equity.index[0])
    dd = values / np.maximum.accumulate(values) - 1.0
    edges = np.diff(np.concatenate([[0], (dd < 0).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(starts):
        return []
    out = []
    for k in np.argsort(np.minimum.reduceat(dd, starts), kind="stable")[:n]:
        a, b = int(starts[k]), int(stops[k])
        trough = a + int(np.argmin(dd[a:b]))
        end = days[b] if b < len(values) else None
        span = ((days[-1] if end is None else end) - days[a - 1]).days
        out.append(Drawdown(days[a - 1], days[trough], end, float(dd[trough]), int(span)))
    return out


def correlation(curves: dict[str, pd.Series], days: pd.DatetimeIndex) -> pd.DataFrame:
    """Correlation of returns between consecutive ``days`` (values carried as last known)."""
    on_days = {k: v.reindex(v.index.union(days)).ffill().reindex(days) for k, v in curves.items()}
    return pd.DataFrame(on_days).pct_change().iloc[1:].corr()


def _benchmark_curve(symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Series, int]:
    """The benchmark's close on its own days in start..end, the last close known at start."""
    md = data.load([symbol])
    close = daily(benchmark_close(md, symbol).dropna())
    known = close.reindex(close.index.union([start])).ffill()
    window = known[(known.index >= start) & (known.index <= end)].dropna()
    return window, periods_per_year(md.calendar(symbol))


# ---------------------------------------------------------------- charts


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, pil_kwargs={"compress_level": 3})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks that label a log axis from lo to hi: 1..9, else 1-2-5, else powers of 10."""
    ticks: list[float] = []
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    for subs in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1,)):
        ticks = [k * 10.0**e for e in decades for k in subs if lo <= k * 10.0**e <= hi]
        if len(ticks) <= 10:
            break
    if len(ticks) < 3:  # a narrow range: plain linear steps
        from matplotlib.ticker import MaxNLocator

        ticks = [float(t) for t in MaxNLocator(6).tick_values(lo, hi) if lo <= t <= hi and t > 0]
    return ticks


def _chart(
    panels: list[tuple[str, dict[str, pd.Series]]],
    colors: dict[str, Any],
    title: str,
    ylabel: str,
    log: bool = False,
    overlays: Sequence[Overlay] = (),
) -> str:
    """One figure, a panel per (subtitle, curves), as base64 PNG; the legend beside it.
    ``overlays`` are drawn on the first panel (`flowbt.report.events.draw_overlays`)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    height = 0.7 + 3.3 * len(panels)
    fig = Figure(figsize=(11, height))
    fig.subplots_adjust(left=0.07, right=0.78, top=1 - 0.5 / height, bottom=0.35 / height)
    axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
    fig.suptitle(title, fontsize=11)
    for ax, (subtitle, curves) in zip(axes, panels, strict=True):
        for name, s in curves.items():
            bench = name.startswith("benchmark ")
            label = name.replace("$", r"\$").lstrip("_")  # no mathtext, not hidden by "_"
            style = {"ls": "--", "lw": 1.5} if bench else {"lw": 1.1}
            ax.plot(s.index, s.to_numpy(), label=label, color=colors[name], **style)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_title(subtitle, fontsize=9, loc="left")
        if log:
            ax.set_yscale("log")
            lo = min(float(s.min()) for s in curves.values())
            hi = max(float(s.max()) for s in curves.values())
            ax.yaxis.set_major_locator(FixedLocator(_log_ticks(lo, hi)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
    if overlays:
        draw_overlays(axes[0], overlays)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return _png(fig)


# ---------------------------------------------------------------- page

Cell = str | tuple[str, str]  # text (escaped on output), or (text, inline CSS)


def _fmt(value: Any, kind: str = "num") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.2%}" if kind == "pct" else f"{value:.2f}" if kind == "num" else str(value)


def _ci(pair: tuple[float, float], kind: str) -> str:
    lo, hi = _fmt(pair[0], kind), _fmt(pair[1], kind)
    return f"{lo} to {hi}" if lo and hi else ""


def _shade(value: float, scale: float, rgb: str = "0,140,60") -> str:
    """A heatmap cell's CSS: ``rgb`` for values >= 0, red below, deeper as |value| grows."""
    if not math.isfinite(value):
        return ""
    alpha = min(abs(value) / scale, 1.0) * 0.65
    return f"background:rgba({rgb if value >= 0 else '205,30,30'},{alpha:.2f})"


def _table(table_id: str, head: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """An HTML table, the first column text (left-aligned), every value escaped."""

    def cell(tag: str, value: Cell, first: bool) -> str:
        text, style = (value, "") if isinstance(value, str) else value
        attrs = ' class="t"' if first else ""
        attrs += f' style="{html.escape(style)}"' if style else ""
        return f"<{tag}{attrs}>{html.escape(text)}</{tag}>"

    top = "".join(cell("th", h, i == 0) for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell("td", v, i == 0) for i, v in enumerate(row)) + "</tr>\n"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{top}</tr></thead><tbody>\n{body}</tbody></table>'


def _img(b64: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _metric_column(w: pd.Series, ppy: int, opt: dict[str, Any]) -> list[str]:
    """One column of the metrics table, rows as ``_METRICS``."""
    m, ret = window_metrics(w, ppy), window_returns(w)
    ci = bootstrap_ci(ret, ppy)
    pct = ("total_return", "cagr", "volatility", "max_drawdown")
    main = {k: _fmt(m[k], "pct" if k in pct else "num") for k in m}
    return [str(len(ret)), str(ppy), main["total_return"], main["cagr"], _ci(ci["cagr"], "pct"),
            main["volatility"], main["sharpe"], _ci(ci["sharpe"], "num"), main["sortino"],
            main["max_drawdown"], main["calmar"], _fmt(psr(ret)), _fmt(opt.get("dsr")),
            _fmt(opt.get("n_trials"), "str")]  # fmt: skip


def _per_run(i: int, r: Run) -> str:
    """A run's monthly returns and worst drawdowns, over its full history."""
    table = monthly_returns(r.equity, r.init_cash)
    months: list[list[Cell]] = [
        [str(y), *((_fmt(v, "pct"), _shade(v, 0.1)) for v in table.loc[y].to_numpy(float))]
        for y in table.index
    ]
    worst: list[list[Cell]] = [
        [
            str(d.start.date()),
            str(d.trough.date()),
            "not recovered" if d.end is None else str(d.end.date()),
            _fmt(d.depth, "pct"),
            str(d.days),
        ]
        for d in worst_drawdowns(r.equity, r.init_cash)
    ]
    return (
        f"<h3>{html.escape(r.label)}</h3>\n<p>Monthly returns, full run (blank: outside the"
        f" run)</p>\n{_table(f'monthly-{i}', ['year', *_MONTHS, 'whole year'], months)}\n"
        f"<p>Worst {N_DRAWDOWNS} drawdowns, full run (days: from the peak to the end, or to"
        f" the last day)</p>\n"
        + _table(f"drawdowns-{i}", ["start (peak)", "trough", "end", "depth", "days"], worst)
    )


def _run_row(r: Run) -> list[Cell]:
    m, exp = r.manifest, r.manifest.get("experiment") or {}
    strategy, dat = m.get("strategy") or {}, m.get("data") or {}
    fees = ((m.get("config") or {}).get("costs") or {}).get("fees")
    return [r.label, r.source, str(strategy.get("strategy", "")),
            json.dumps(strategy.get("params", {}), sort_keys=True, default=str),
            str(exp.get("universe") or ""), ", ".join(map(str, dat.get("symbols") or [])),
            f"{r.calendar} ({r.ppy}/yr)", f"{r.equity.index[0].date()}..{r.equity.index[-1].date()}",
            str(m.get("mode", "")), "" if fees is None else str(fees), str(dat.get("sha256") or ""),
            str(m.get("git_sha") or "")]  # fmt: skip


def _notes(runs: list[Run], days: pd.DatetimeIndex) -> list[str]:
    cals = sorted({f"{r.calendar}, {r.ppy}/yr" for r in runs})
    blocks = ", ".join(f"{p // 12} at {p}/yr" for p in sorted({r.ppy for r in runs}))
    who = (
        f"Runs on different calendars ({'; '.join(cals)}) are"
        if len(cals) > 1
        else f"All runs are on one calendar ({cals[0]}) and are"
    )
    return [
        f"{who} compared on UTC days: a run's equity on a day is its last value that UTC day,"
        " and each run is annualised with its own periods per year. Common window:"
        f" {days[0].date()}..{days[-1].date()} (first to last UTC day every run has);"
        f" correlations use returns between the {len(days)} UTC days all runs share.",
        "Metrics over the common window: returns simple per period; volatility, Sharpe and"
        " Sortino annualised; drawdown in % of the running peak. 95% CIs: stationary bootstrap"
        f" (arch), expected block a twelfth of a year of periods ({blocks}), {REPS} resamples,"
        f" seed {SEED}, percentile intervals. PSR: probability that the true Sharpe exceeds 0"
        " (Bailey & Lopez de Prado). DSR and trials: the optimisation's, over its own window.",
    ]


def _overlays(
    runs: list[Run], start: pd.Timestamp, end: pd.Timestamp, notes: list[str]
) -> list[Overlay]:
    """Event overlays of the signals any run reads (union of the manifests' ``signals``,
    a name's first params), on the bundled data over the window; a note says what is
    marked (or why nothing could be)."""
    wanted: dict[str, dict[str, Any]] = {}
    for r in runs:
        for name, params in manifest_signals(r.manifest).items():
            wanted.setdefault(name, params)
    try:
        overlays = overlays_for(wanted, data.load(), start, end, params=wanted)
    except Exception as exc:  # a decoration never breaks the page
        notes.append(f"Event overlays not drawn: {type(exc).__name__}: {exc}")
        return []
    if overlays:
        marked = "; ".join(f"{o.label} ({len(o)})" for o in overlays)
        notes.append(
            f"Marked on the linear equity chart, from the signals the runs read: {marked}."
            " Each is dated when it was known (see flowbt.report.events)."
        )
    return overlays


def render(runs: list[Run], benchmark: str | None) -> tuple[str, dict[str, Any]]:
    """The page comparing ``runs`` against ``benchmark`` (a bundled symbol or None), and
    a description of what it compared (for the manifest)."""
    if len(runs) < 2:
        raise ValueError(f"compare needs at least 2 runs, got {len(runs)}; fix: pass two or more")
    days = runs[0].equity.index
    for r in runs[1:]:
        days = days.intersection(r.equity.index)
    if len(days) < 2:
        spans = "; ".join(
            f"{r.label} {r.equity.index[0].date()}..{r.equity.index[-1].date()}" for r in runs
        )
        raise ValueError(
            f"the runs share {'only one UTC day' if len(days) else 'no UTC days'} ({spans});"
            " fix: compare runs whose windows"
            " overlap, e.g. re-run them with the same --start/--end"
        )
    start, end = days[0], days[-1]
    windows = {r.label: r.equity[(r.equity.index >= start) & (r.equity.index <= end)] for r in runs}
    ppy = {r.label: r.ppy for r in runs}
    notes = _notes(runs, days)
    if benchmark:
        curve, bench_ppy = _benchmark_curve(benchmark, start, end)
        if len(curve) >= 2:
            windows[f"benchmark {benchmark}"], ppy[f"benchmark {benchmark}"] = curve, bench_ppy
        state = "shown once, dashed black" if len(curve) >= 2 else "no closes in the window"
        notes.append(f"Benchmark {benchmark} ({bench_ppy}/yr): {state}.")
    overlays = _overlays(runs, start, end, notes)
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(runs) <= 10 else "tab20"]
    colors: dict[str, Any] = {n: "black" for n in windows}
    colors.update({r.label: cmap(i % cmap.N) for i, r in enumerate(runs)})
    rebased = {n: w / w.iloc[0] for n, w in windows.items()}
    drawdown = {n: (c / c.cummax() - 1.0) * 100.0 for n, c in rebased.items()}
    rolling: dict[str, dict[str, pd.Series]] = {"6 months": {}, "12 months": {}}
    for r in runs:
        for span, s in rolling_sharpe(r.equity, r.init_cash, r.ppy).items():
            rolling[span][r.label] = s[(s.index >= start) & (s.index <= end)].dropna()
    sizes = sorted({r.ppy for r in runs})
    panels = [
        (f"{span}: {', '.join(f'{p // d} periods at {p}/yr' for p in sizes)}", curves)
        for (span, curves), d in zip(rolling.items(), (2, 1), strict=True)
        if any(len(c) for c in curves.values())
    ]
    charts = [
        _img(
            _chart(
                [("", rebased)],
                colors,
                f"Equity, rebased to 1.0 on {start.date()}",
                "growth of 1",
                overlays=overlays,
            ),
            "equity (linear)",
        ),
        _img(
            _chart([("", rebased)], colors, "Equity, log scale", "growth of 1", log=True),
            "equity (log)",
        ),
        _img(_chart([("", drawdown)], colors, "Drawdown", "% below the running peak"), "drawdown"),
    ]
    roll = (  # runs shorter than the shortest window have no rolling Sharpe to draw
        _img(_chart(panels, colors, "Rolling Sharpe (annualised)", "Sharpe"), "rolling Sharpe")
        if panels
        else ""
    )
    summaries = {r.label: r.summary or {} for r in runs}
    columns = [_metric_column(w, ppy[n], summaries.get(n, {})) for n, w in windows.items()]
    metrics = [[k, *(c[i] for c in columns)] for i, k in enumerate(_METRICS)]
    corr = correlation(windows, days)
    corr_rows: list[list[Cell]] = [
        [a, *((_fmt(v), _shade(v, 1.0, "30,90,200")) for v in corr.loc[a].to_numpy(float))]
        for a in corr.index
    ]
    title = html.escape(f"flowbt compare: {len(runs)} runs")
    page = "\n".join([
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<link rel="icon" href="data:,"><title>{title}</title><style>{_STYLE}</style></head>',
        f"<body><h1>{title}</h1>", *(f'<p class="note">{html.escape(n)}</p>' for n in notes),
        "<h2>Equity and drawdowns</h2>", *charts,
        "<h2>Metrics</h2>", _table("metrics", ["metric", *windows], metrics),
        "<h2>Correlation of daily returns</h2>", _table("correlation", ["", *corr.columns], corr_rows),
        "<h2>Rolling Sharpe</h2>", roll if panels else "<p>The runs are too short.</p>",
        f"<p>Windows, each run's own periods: {html.escape('; '.join(p[0] for p in panels))}</p>",
        "<h2>Per run</h2>", *(_per_run(i, r) for i, r in enumerate(runs)),
        "<h2>Runs</h2>", _table("runs", _RUN_HEAD, [_run_row(r) for r in runs]), "</body></html>\n",
    ])  # fmt: skip
    window = {"start": str(start.date()), "end": str(end.date())}
    runs_info = [{"label": r.label, "source": r.source} for r in runs]
    return page, {"runs": runs_info, "benchmark": benchmark, "window": window}


def compare(results: Sequence[RunLike], out: str | Path, *, benchmark: str | None = None) -> Path:
    """Write ``out/compare.html`` comparing ``results`` (run folders, `flowbt.Backtest` or
    `flowbt.Optimization` objects), and a manifest.json marking ``out`` as flowbt's.

    ``benchmark``: a bundled symbol; None = the first run's; "" = none. ``out`` may be new,
    empty or an earlier compare folder (`flowbt.report.files.check_out_dir`); a run's
    folder is refused (its manifest.json would be replaced). Returns the page's path."""
    items = [results] if isinstance(results, str | Path) else list(results)
    if len(items) < 2:
        raise ValueError(
            f"compare needs at least 2 runs, got {len(items)}; fix: pass two or"
            " more run folders (written by `flowbt backtest ... --out DIR`)"
        )
    out = Path(out)
    check_out_dir(out, "compare", files=(PAGE, MANIFEST))  # a flowbt compare folder or new
    runs = load_runs(items)
    page, what = render(runs, runs[0].benchmark if benchmark is None else (benchmark or None))
    prepare_out_dir(out, "compare", files=(PAGE, MANIFEST))
    path = out / PAGE
    path.write_text(page, encoding="utf-8")
    try:
        version: str | None = metadata.version("flowbt")
    except metadata.PackageNotFoundError:
        version = None
    boot = {"method": "stationary", "block": "periods_per_year // 12", "reps": REPS, "seed": SEED}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = {
        "flowbt": flowbt_mark("compare", (PAGE, MANIFEST), out),
        "kind": "compare",
        "page": PAGE,
        **what,
        "bootstrap": boot,
        "versions": {"flowbt": version},
        "git_sha": git_sha(),
        "created_utc": stamp,
    }
    write_json(out / "manifest.json", manifest)
    return path
