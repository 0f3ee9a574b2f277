"""Plots: a backtest's equity and drawdown, and a signal over the price it drives.

``plot_equity`` draws a run's equity and drawdown. One plot rule per signal: CTA trigger levels over the SPY close; the blackout share with
blackout windows shaded on SPY; net liquidity and its drain against Bitcoin; the VIX
term structure with inversion spells shaded on SPY; rate-cut odds with the Fed
communications marked. Any other signal is drawn on a second axis over SPY (or the
``symbol`` it was computed for). Dates are session dates; levels computed at a close
are drawn on the session they apply to (the next one). Uses a bare matplotlib
``Figure`` (no pyplot), so it never needs or changes a display backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from data.market import MarketData
from engine.result import Result
from signals.buyback import blackout_share
from signals.fed import rate_cut_odds
from signals.fed_speak import communications

Window = tuple[pd.Timestamp | None, pd.Timestamp | None]
PlotFn = Callable[[Figure, pd.DataFrame, MarketData, dict[str, Any], Window], str]
BLACKOUT_HIGH = 2 / 3  # share of index members in blackout that shades a session
BN = 1000.0  # USD mn -> USD bn


def plot_equity(result: Result, path: str | Path | None = None) -> Figure:
    """Equity and drawdown of a run; saved as PNG when ``path`` is given."""
    fig = Figure(figsize=(10, 6))
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax1.plot(result.equity.index, result.equity.to_numpy(), lw=1.2, label="equity")
    ax1.set_ylabel("equity")
    ax1.legend(loc="upper left")
    dd = result.equity / result.equity.cummax() - 1.0
    ax2.fill_between(dd.index, dd.to_numpy(), 0.0, color="tab:red", alpha=0.4)
    ax2.set_ylabel("drawdown")
    fig.suptitle(f"{result.manifest_name()} ({result.mode})")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def time_axis(frame: pd.DataFrame) -> pd.DatetimeIndex | None:
    """The dates a signal's rows belong to: its index, or a date column of an event table."""
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame.index
    for col in ("date", "start", "known_at"):
        if col in frame.columns:
            return pd.DatetimeIndex(frame[col])
    return None


def _naive(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(index)
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _cut(obj: pd.DataFrame | pd.Series, window: Window) -> pd.DataFrame | pd.Series:
    """Rows whose (naive) date lies in the window; the index made naive for plotting."""
    out = obj.copy()
    out.index = _naive(pd.DatetimeIndex(out.index))
    lo, hi = window
    if lo is not None:
        out = out.loc[out.index >= lo.tz_localize(None)]
    if hi is not None:
        out = out.loc[out.index < hi.tz_localize(None) + pd.Timedelta(days=1)]
    return out


def _close(md: MarketData, symbol: str, window: Window) -> pd.Series:
    """Close as traded (what levels are quoted on) within the window."""
    return _cut(md.price(symbol)["close"].astype(float), window)


def _shade(ax: Axes, x: pd.DatetimeIndex, mask: np.ndarray, color: str, label: str) -> None:
    """Shade each run of sessions where ``mask`` holds, from its first session to the next
    session after its last (a one-session run stays visible)."""
    flag = np.asarray(mask, dtype=bool)
    edges = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for i, (a, b) in enumerate(zip(starts, stops, strict=True)):
        right = x[b] if b < len(x) else x[-1] + pd.Timedelta(days=1)
        ax.axvspan(x[a], right, color=color, alpha=0.18, lw=0, label=label if i == 0 else None)


def _two_panels(fig: Figure) -> tuple[Axes, Axes]:
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    return top, bottom


def _price_axis(ax: Axes, close: pd.Series, symbol: str, *, log: bool = False) -> None:
    ax.plot(close.index, close.to_numpy(), color="black", lw=1.0, label=f"{symbol} close")
    ax.set_ylabel(f"{symbol} close" + (" (log)" if log else ""))
    if log:
        ax.set_yscale("log")


def _legend(*axes: Axes) -> None:
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        axes[0].legend(handles, labels, loc="upper left", fontsize=8, framealpha=0.8)


def _symbol(md: MarketData, params: dict[str, Any], default: str = "SPY") -> str:
    symbol = params.get("symbol", default)
    return symbol if symbol in md.prices or symbol in md.info else default


# --- per-signal plots -------------------------------------------------------------------
def plot_cta_levels(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """Close with tomorrow's trigger levels (drawn on the session they apply to) and the
    distance of the close to the position's flip level."""
    symbol = _symbol(md, params)
    levels = _cut(frame.shift(1), window)  # known at t-1's close, a level for session t
    close = _close(md, symbol, window).reindex(levels.index)
    top, bottom = _two_panels(fig)
    _price_axis(top, close, symbol)
    for col in [c for c in levels.columns if c.startswith("trigger_")]:
        top.plot(levels.index, levels[col].to_numpy(), lw=0.8, alpha=0.8, label=col)
    if "flip_level" in levels:
        top.plot(levels.index, levels["flip_level"].to_numpy(), "r--", lw=1.2, label="flip level")
        gap = 100 * (close / levels["flip_level"] - 1)
        bottom.fill_between(gap.index, gap.to_numpy(), 0, where=gap.to_numpy() >= 0, color="g")
        bottom.fill_between(gap.index, gap.to_numpy(), 0, where=gap.to_numpy() < 0, color="r")
        bottom.set_ylabel("close vs flip (%)")
    _legend(top)
    return f"CTA trigger levels on {symbol} (levels for the session, known the prior close)"


def plot_blackout(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """SPY close with sessions shaded where >= 2/3 of members are in blackout (projected
    share), and the strict and projected shares below."""
    symbol = _symbol(md, params)
    share = _cut(frame, window)
    close = _close(md, symbol, window).reindex(share.index)
    top, bottom = _two_panels(fig)
    _price_axis(top, close, symbol)
    col = "share_projected" if "share_projected" in share else "share"
    _shade(
        top,
        share.index,
        share[col].to_numpy() >= BLACKOUT_HIGH,
        "tab:red",
        f"blackout ({col} >= {BLACKOUT_HIGH:.2f})",
    )
    for c, style in (("share", "-"), ("share_projected", "--")):
        if c in share:
            bottom.plot(share.index, share[c].to_numpy(), style, lw=0.9, label=c)
    bottom.axhline(BLACKOUT_HIGH, color="tab:red", lw=0.6, ls=":")
    bottom.set_ylim(0, 1.02)
    bottom.set_ylabel("share in blackout")
    bottom.legend(loc="upper left", fontsize=8)
    _legend(top)
    return f"Buyback blackout share of S&P 500 members, shaded on {symbol}"


def plot_blackout_windows(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """The per-company windows as the share of the index they put in blackout each session
    (`blackout_share` with the same window rule), shaded on SPY."""
    keep = ("days_before_quarter_end", "sessions_after_release", "max_days_after_quarter_end")
    share = blackout_share(md, **{k: v for k, v in params.items() if k in keep})
    title = plot_blackout(fig, share, md, {}, window)
    return title + " (from the per-company windows)"


def _liquidity_top(
    fig: Figure, nl: pd.Series, md: MarketData, window: Window
) -> tuple[Axes, Axes, Axes]:
    top, bottom = _two_panels(fig)
    btc = _close(md, "BTC-USD", window) if "BTC-USD" in md.prices else None
    if btc is not None and len(btc):
        _price_axis(top, btc, "BTC-USD", log=True)
    twin = top.twinx()
    twin.plot(nl.index, nl.to_numpy() / BN, color="tab:blue", lw=1.1, label="net liquidity")
    twin.set_ylabel("net liquidity (USD bn)")
    return top, twin, bottom


def _liquidity_bottom(
    bottom: Axes, data: pd.DataFrame, lines: list[tuple[str, str]], ylabel: str
) -> None:
    """The lower panel of a liquidity plot: each (column, label) in USD bn."""
    for col, label in lines:
        if col in data:
            bottom.plot(data.index, data[col].to_numpy() / BN, lw=0.9, label=label)
    bottom.set_ylabel(ylabel)
    bottom.legend(loc="upper left", fontsize=8)


def plot_net_liquidity(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """Net liquidity (right axis) against BTC (log, left); components below."""
    data = frame
    if "known_at" in frame:  # the weekly table: draw each week where it became known
        data = frame.set_index(pd.DatetimeIndex(frame["known_at"]).normalize())
    data = _cut(data, window)
    top, twin, bottom = _liquidity_top(fig, data["net_liquidity"], md, window)
    parts = [("walcl", "Fed balance sheet"), ("tga", "TGA"), ("rrp", "reverse repo")]
    _liquidity_bottom(bottom, data, parts, "USD bn")
    _legend(top, twin)
    return "Net liquidity (WALCL - TGA - RRP) against BTC-USD, as published"


def plot_liquidity_drain(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """Net liquidity against BTC with drains (13-week change < 0) shaded; changes below."""
    data = _cut(frame, window)
    top, twin, bottom = _liquidity_top(fig, data["net_liquidity"], md, window)
    changes = [c for c in data.columns if c.startswith("change_")]
    longest = changes[-1] if changes else None
    if longest:
        _shade(top, data.index, data[longest].to_numpy() < 0, "tab:red", f"drain ({longest} < 0)")
    bottom.axhline(0, color="grey", lw=0.6)
    _liquidity_bottom(bottom, data, [(c, c) for c in changes], "change (USD bn)")
    _legend(top, twin)
    return "Liquidity drain against BTC-USD (shaded: net liquidity falling over 13 weeks)"


def plot_capital_scarcity(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """BTC (log) with scarce-capital sessions (composite > 1) shaded; z-scores below."""
    data = _cut(frame, window)
    top, bottom = _two_panels(fig)
    _price_axis(top, _close(md, "BTC-USD", window), "BTC-USD", log=True)
    _shade(top, data.index, data["composite"].to_numpy() > 1, "tab:red", "composite > 1")
    for col in data.columns:
        lw = 1.4 if col == "composite" else 0.7
        bottom.plot(data.index, data[col].to_numpy(), lw=lw, label=col)
    bottom.axhline(0, color="grey", lw=0.6)
    bottom.set_ylabel("z-score")
    bottom.legend(loc="upper left", fontsize=8)
    _legend(top)
    return "Capital scarcity composite against BTC-USD"


def plot_vix(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """SPY close with VIX/VIX3M inversion sessions shaded; the ratio below."""
    threshold = float(params.get("threshold", 1.0))
    data = _cut(frame, window)
    top, bottom = _two_panels(fig)
    _price_axis(top, _close(md, "SPY", window), "SPY")
    ratio = data["ratio"]
    _shade(top, data.index, ratio.to_numpy() > threshold, "tab:red", "VIX curve inverted")
    bottom.plot(ratio.index, ratio.to_numpy(), lw=0.8, color="tab:purple", label="VIX / VIX3M")
    bottom.axhline(threshold, color="tab:red", lw=0.7, ls="--")
    bottom.set_ylabel("VIX / VIX3M")
    bottom.legend(loc="upper left", fontsize=8)
    _legend(top)
    return f"VIX term structure: inversion spells (ratio > {threshold:g}) shaded on SPY"


def _communications(md: MarketData, window: Window) -> tuple[pd.DataFrame, str]:
    """Fed communications to mark, on the New York date they became known, scored by
    `signals.fed_speak.communications`."""
    comms = communications(md).reset_index(drop=True)
    source = "scored by signals.fed_speak"
    comms = comms.dropna(subset=["known_at"])
    known = pd.DatetimeIndex(comms["known_at"]).tz_convert("America/New_York")
    comms = comms.set_index(known.tz_localize(None).normalize()).sort_index(kind="stable")
    return _cut(comms, window), source


def _mark_communications(ax: Axes, line: pd.Series, md: MarketData, window: Window) -> None:
    """FOMC statements and minutes as vertical lines, every communication as a dot on
    ``line`` coloured by its score (red hawkish > 0, blue dovish < 0, grey unscored)."""
    comms, source = _communications(md, window)
    if comms.empty:
        return
    kind = comms["kind"].astype(str).to_numpy()
    score = comms["score"].astype(float).to_numpy() if "score" in comms else np.nan
    colors = np.where(score > 0, "tab:red", np.where(score < 0, "tab:blue", "grey"))
    for day, k, color in zip(comms.index, kind, colors, strict=True):
        if k in ("statement", "minutes"):
            ls = "--" if k == "statement" else ":"
            ax.axvline(day, color=color, lw=0.8, alpha=0.6, ls=ls)
    at = line.sort_index().reindex(comms.index, method="ffill") if len(line) else None
    if at is not None:
        counts = ", ".join(f"{(kind == k).sum()} {k}" for k in ("statement", "minutes", "speech"))
        ax.scatter(
            comms.index,
            at.to_numpy(),
            c=list(colors),
            s=12,
            zorder=3,
            label=f"Fed communications ({counts}; {source})",
        )


def plot_rate_cut_odds(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """Cut probability (%) with Fed communications marked (dashed: FOMC statement, dotted:
    minutes, dots coloured by hawkish score); SPY close below."""
    lo, hi = window
    first = _naive(pd.DatetimeIndex(frame.index[frame["prob_cut"].notna()]))[:1]
    if len(first) and (lo is None or lo.tz_localize(None) < first[0]):
        window = (pd.Timestamp(first[0], tz="UTC"), hi)  # nothing to mark before the odds
    data = _cut(frame, window)
    top, bottom = _two_panels(fig)
    prob = 100 * data["prob_cut"].astype(float)
    top.plot(prob.index, prob.to_numpy(), color="black", lw=1.1, label="P(cut at next meeting)")
    top.set_ylim(-2, 102)
    top.set_ylabel("cut odds (%)")
    _mark_communications(top, prob.dropna(), md, window)
    _price_axis(bottom, _close(md, _symbol(md, params), window), _symbol(md, params))
    _legend(top)
    return "Rate-cut odds with Fed communications (red hawkish, blue dovish, grey unscored)"


def plot_odds_swings(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """Cut odds with each swing shaded from start to end (green up, red down), a marker at
    the session it was detected, and the Fed communications; SPY close below."""
    symbol = _symbol(md, params)
    odds = rate_cut_odds(md, symbol=symbol)
    title = plot_rate_cut_odds(fig, odds, md, {"symbol": symbol}, window)
    top = fig.axes[0]
    prob = _cut(100 * odds["prob_cut"].astype(float), window)
    swings = frame.copy()
    if "detected" not in swings.columns:  # odds_swing_events: indexed by detection
        swings = swings.reset_index(names="detected")
        swings["end"] = swings["detected"]
    for col in ("start", "end", "detected"):
        swings[col] = _naive(pd.DatetimeIndex(swings[col]))
    lo, hi = window
    if lo is not None:
        swings = swings.loc[swings["end"] >= lo.tz_localize(None)]
    if hi is not None:
        swings = swings.loc[swings["start"] <= hi.tz_localize(None)]
    labelled: set[str] = set()
    for row in swings.itertuples(index=False):
        label = "swing up" if row.change > 0 else "swing down"
        top.axvspan(
            row.start,
            row.end,
            color="tab:green" if row.change > 0 else "tab:red",
            alpha=0.15,
            lw=0,
            label=None if label in labelled else label,
        )
        labelled.add(label)
    seen = prob.reindex(pd.DatetimeIndex(swings["detected"]))
    top.scatter(
        seen.index,
        seen.to_numpy(),
        marker="v",
        color="black",
        s=30,
        zorder=4,
        label="detected (usable from its close)",
    )
    _legend(top)
    return title.replace("Rate-cut odds", f"Rate-cut odds swings ({len(swings)})")


def plot_fed_communications(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """SPY close with the communications marked; their hawkish scores by kind below."""
    top, bottom = _two_panels(fig)
    close = _close(md, "SPY", window)
    _price_axis(top, close, "SPY")
    _mark_communications(top, close, md, window)
    comms = frame.dropna(subset=["known_at"])
    known = pd.DatetimeIndex(comms["known_at"]).tz_convert("America/New_York")
    comms = _cut(comms.set_index(known.tz_localize(None).normalize()), window)
    for kind, color in (("statement", "black"), ("minutes", "tab:orange"), ("speech", "tab:cyan")):
        part = comms.loc[comms["kind"] == kind, "score"].astype(float).dropna()
        bottom.scatter(part.index, part.to_numpy(), s=10, color=color, label=kind)
    bottom.axhline(0, color="grey", lw=0.6)
    bottom.set_ylim(-1.05, 1.05)
    bottom.set_ylabel("hawkish score")
    bottom.legend(loc="upper left", fontsize=8)
    _legend(top)
    return "Fed communications on SPY (red hawkish, blue dovish) and their scores"


def plot_default(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """Numeric columns of the signal on a right-hand axis over the close of ``symbol``."""
    axis = time_axis(frame)
    if axis is None:
        raise ValueError("this signal's rows carry no dates, so it cannot be plotted")
    numeric = frame.select_dtypes(include=["number", "bool"]).astype(float)
    numeric = numeric.loc[:, numeric.notna().any()].iloc[:, :6]
    if numeric.empty:
        raise ValueError("this signal has no numeric column to plot")
    event_table = not isinstance(frame.index, pd.DatetimeIndex)
    data = _cut(numeric.set_axis(axis, axis=0), window)
    symbol = _symbol(md, params)
    ax = fig.subplots(1, 1)
    _price_axis(ax, _close(md, symbol, window), symbol)
    twin = ax.twinx()
    for col in data.columns:
        style = "o" if event_table else "-"
        twin.plot(data.index, data[col].to_numpy(), style, lw=0.9, ms=3, label=col)
    twin.set_ylabel("signal")
    _legend(ax, twin)
    return f"signal over {symbol}"


PLOTS: dict[str, PlotFn] = {
    "cta_trigger_levels": plot_cta_levels,
    "blackout_share": plot_blackout,
    "blackout_windows": plot_blackout_windows,
    "net_liquidity": plot_net_liquidity,
    "net_liquidity_weekly": plot_net_liquidity,
    "liquidity_drain": plot_liquidity_drain,
    "capital_scarcity": plot_capital_scarcity,
    "vix_term_structure": plot_vix,
    "vix_inversion": plot_vix,
    "rate_cut_odds": plot_rate_cut_odds,
    "odds_swing_events": plot_odds_swings,
    "fed_communications": plot_fed_communications,
}


def plot_for(name: str, frame: pd.DataFrame) -> PlotFn:
    """The plot rule of a signal: by name, else by its columns, else the default."""
    if name in PLOTS:
        return PLOTS[name]
    if "prob_cut" in frame.columns:
        return plot_rate_cut_odds
    return plot_default


def plot_signal(
    name: str,
    frame: pd.DataFrame,
    md: MarketData,
    params: dict[str, Any],
    path: str | Path,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> Figure:
    """Draw signal ``name`` (its computed ``frame``) over its price and save to ``path``
    (format from the suffix). ``start``/``end`` limit the dates drawn."""
    fig = Figure(figsize=(11, 6.5))
    title = plot_for(name, frame)(fig, frame, md, params, (start, end))
    used = ", ".join(f"{k}={v}" for k, v in params.items())
    fig.suptitle(f"{name}: {title}" + (f"  [{used}]" if used else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return fig
