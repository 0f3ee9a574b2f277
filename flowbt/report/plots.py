"""Plots: a backtest's equity and drawdown, and a signal over the price it drives.

``plot_equity`` draws a run's equity and drawdown. One plot rule per signal: CTA trigger
levels over the SPY close; the blackout share with blackout windows shaded on SPY; the
per-company blackout windows as companies in blackout and windows reopening per week;
net liquidity and its drain against Bitcoin; the VIX term structure (VIX, VIX3M and
their ratio); the VIX inversion spells themselves (shaded, start and end marked, their
length); the cuts priced per fed funds futures month; rate-cut odds with the Fed
communications marked. Any other signal goes to `plot_default`, which gives columns of
different kinds their own panels below the close of SPY (or the ``symbol`` it was
computed for): 0/1 flags as lanes of spans, bounded scores (within [-1, 1]) on one
panel, and other numbers on panels of similar range.

`plot_signal` draws the last `DEFAULT_YEARS` years of a signal unless given a window
(a dense signal over 30 years is a wall of stripes); the signal itself is not cut. Dates
are session dates; levels computed at a close are drawn on the session they apply to
(the next one). Uses a bare matplotlib ``Figure`` (no pyplot), so it never needs or
changes a display backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from data.market import MarketData
from engine.result import Result
from signals.buyback import blackout_share
from signals.buyback import blackout_windows as blackout_windows_of
from signals.fed import rate_cut_odds
from signals.fed_speak import communications

Window = tuple[pd.Timestamp | None, pd.Timestamp | None]
PlotFn = Callable[[Figure, pd.DataFrame, MarketData, dict[str, Any], Window], str]
BLACKOUT_HIGH = 2 / 3  # share of index members in blackout that shades a session
BN = 1000.0  # USD mn -> USD bn
DEFAULT_YEARS = 5  # the plotted window when no start/end is given: the signal's last years
GROUP_FACTOR = 5.0  # numeric columns share a panel when their ranges differ by less
MAX_PANELS = 6  # signal panels of `plot_default` (below the price)
MANY_LINES = 8  # more lines on a panel are coloured along a colormap, not one by one


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


def _runs(flag: np.ndarray) -> list[tuple[int, int]]:
    """(first, stop) positions of each run of True in ``flag``; ``stop`` is exclusive."""
    edges = np.diff(np.concatenate([[0], np.asarray(flag, dtype=bool).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _shade(ax: Axes, x: pd.DatetimeIndex, mask: np.ndarray, color: str, label: str) -> None:
    """Shade each run of sessions where ``mask`` holds, from its first session to the next
    session after its last (a one-session run stays visible)."""
    for i, (a, b) in enumerate(_runs(mask)):
        right = x[b] if b < len(x) else x[-1] + pd.Timedelta(days=1)
        ax.axvspan(x[a], right, color=color, alpha=0.18, lw=0, label=label if i == 0 else None)


def _two_panels(fig: Figure) -> tuple[Axes, Axes]:
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    return top, bottom


def _three_panels(fig: Figure, ratios: tuple[float, float, float]) -> tuple[Axes, Axes, Axes]:
    """Three stacked panels sharing the dates; the figure made tall enough for them."""
    fig.set_figheight(max(fig.get_figheight(), 8.0))
    top, mid, bottom = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    return top, mid, bottom


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


def _open_windows(windows: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """Windows open on each of ``days``: ``start`` <= day < ``end`` (the reopening)."""
    starts = np.sort(_naive(pd.DatetimeIndex(windows["start"])).to_numpy())
    ends = np.sort(_naive(pd.DatetimeIndex(windows["end"])).to_numpy())
    day = days.to_numpy()
    opened = np.searchsorted(starts, day, side="right")
    return np.asarray(opened - np.searchsorted(ends, day, side="right"), dtype=np.int64)


def plot_blackout_windows(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """The per-company windows themselves, on weekdays: companies whose window is open
    (count of windows, stacked: from a filed release / projected release; middle) and
    windows reopening per week (count, by the Monday-Friday week of their ``end``;
    bottom), below the SPY close with sessions shaded where >= 2/3 of members are in
    blackout (`blackout_share` with the same window rule; top)."""
    keep = ("days_before_quarter_end", "sessions_after_release", "max_days_after_quarter_end")
    rule = {k: v for k, v in params.items() if k in keep}
    share = _cut(blackout_share(md, **rule), window)
    symbol = "SPY"
    windows = frame
    if not {"start", "end", "projected"} <= set(frame.columns):
        windows = blackout_windows_of(md, **rule)
    starts = _naive(pd.DatetimeIndex(windows["start"]))
    ends = _naive(pd.DatetimeIndex(windows["end"]))
    lo, hi = window
    first = lo.tz_localize(None) if lo is not None else starts.min()
    last = hi.tz_localize(None) if hi is not None else ends.max()
    days = pd.bdate_range(first.normalize(), last.normalize())
    top, mid, bottom = _three_panels(fig, (2.2, 1.4, 1.1))
    _price_axis(top, _close(md, symbol, window), symbol)
    col = "share_projected" if "share_projected" in share else "share"
    _shade(
        top,
        pd.DatetimeIndex(share.index),
        share[col].to_numpy() >= BLACKOUT_HIGH,
        "tab:red",
        f"blackout ({col} >= {BLACKOUT_HIGH:.2f})",
    )
    projected = windows["projected"].astype(bool).to_numpy()
    colors = {False: "tab:blue", True: "tab:orange"}
    mid.stackplot(
        days,
        _open_windows(windows.loc[~projected], days),
        _open_windows(windows.loc[projected], days),
        colors=[colors[False], colors[True]],
        alpha=0.7,
        labels=["window from a filed release", "window from a projected release"],
    )
    mid.set_ylabel("companies")
    mid.legend(loc="upper left", fontsize=8)
    inside = (ends >= first.normalize()) & (ends <= last.normalize())
    weeks = ends[inside].to_period("W-SUN").to_timestamp(how="start")  # Mondays
    split = pd.DataFrame({"week": weeks, "projected": projected[inside]})
    counts = split.groupby(["week", "projected"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[False, True], fill_value=0)
    below = np.zeros(len(counts))
    for kind in (False, True):
        height = counts[kind].to_numpy()
        bottom.bar(
            counts.index, height, width=5.0, align="edge", bottom=below, lw=0, color=colors[kind]
        )
        below = below + height
    bottom.set_ylabel("reopening / week")
    _legend(top)
    return (
        f"Buyback blackout windows of S&P 500 companies ({int(inside.sum())} reopening in"
        f" the window), high blackout shaded on {symbol}"
    )


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
    """The VIX term structure: SPY close (top); VIX and VIX3M closes (index points, the
    gap filled red where VIX is above VIX3M; middle); their ratio VIX / VIX3M (unitless,
    1 = flat curve, the part above 1 filled red; bottom)."""
    data = _cut(frame, window)
    top, mid, bottom = _three_panels(fig, (2, 1.6, 1.2))
    _price_axis(top, _close(md, "SPY", window), "SPY")
    vix, vix3m = data["vix"].astype(float), data["vix3m"].astype(float)
    mid.plot(vix.index, vix.to_numpy(), lw=0.8, color="tab:red", label="VIX (30 days)")
    mid.plot(vix3m.index, vix3m.to_numpy(), lw=0.8, color="tab:blue", label="VIX3M (3 months)")
    above = (vix > vix3m).to_numpy()
    mid.fill_between(
        vix.index, vix.to_numpy(), vix3m.to_numpy(), where=above, color="tab:red", alpha=0.3, lw=0
    )
    mid.set_ylabel("index points")
    mid.legend(loc="upper left", fontsize=8)
    ratio = data["ratio"].astype(float)
    bottom.plot(ratio.index, ratio.to_numpy(), lw=0.8, color="tab:purple", label="VIX / VIX3M")
    bottom.fill_between(
        ratio.index,
        ratio.to_numpy(),
        1.0,
        where=(ratio > 1.0).to_numpy(),
        color="tab:red",
        alpha=0.4,
        lw=0,
        label="inverted (> 1)",
    )
    bottom.axhline(1.0, color="grey", lw=0.7, ls="--")
    bottom.set_ylabel("VIX / VIX3M")
    bottom.legend(loc="upper left", fontsize=8)
    _legend(top)
    return "VIX term structure: VIX and VIX3M and their ratio (> 1 = inverted curve), with SPY"


def plot_vix_inversion(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """The inversion spells (runs of sessions with ``inverted``): SPY close with each
    spell shaded (top); the VIX / VIX3M ratio (unitless) with the threshold, the spells
    shaded, each spell's first session marked by a red triangle and its last inverted
    session by a black one, one-session spells by a dot (middle); each spell's length
    in sessions (``spell_day`` on its last session) as a stem at its start, spells of 5+
    sessions labelled (bottom). A spell cut by the window's edge counts its part inside."""
    threshold = float(params.get("threshold", 1.0))
    data = _cut(frame, window)
    x = pd.DatetimeIndex(data.index)
    top, mid, bottom = _three_panels(fig, (2, 1.6, 1.2))
    _price_axis(top, _close(md, "SPY", window), "SPY")
    inverted = data["inverted"].astype(bool).to_numpy()
    spells = _runs(inverted)
    label = f"inversion spell (ratio > {threshold:g})"
    _shade(top, x, inverted, "tab:red", label)
    _shade(mid, x, inverted, "tab:red", label)
    ratio = data["ratio"].astype(float).to_numpy()
    mid.plot(x, ratio, lw=0.7, color="tab:purple", label="VIX / VIX3M")
    mid.axhline(threshold, color="tab:red", lw=0.7, ls="--")
    first = np.array([a for a, _ in spells], dtype=int)
    last = np.array([b - 1 for _, b in spells], dtype=int)
    lengths = last - first + 1
    one = lengths == 1
    marks = (
        (first[~one], "^", "tab:red", 22, "spell start"),
        (last[~one], "v", "black", 22, "spell end (last inverted session)"),
        (first[one], "o", "tab:red", 10, "one-session spell"),
    )
    for at, marker, color, size, name in marks:
        mid.scatter(x[at], ratio[at], marker=marker, s=size, color=color, zorder=3, label=name)
    mid.set_ylabel("VIX / VIX3M")
    mid.legend(loc="upper left", fontsize=8)
    bottom.vlines(x[first], 0, lengths, color="tab:red", lw=1.2)
    bottom.scatter(x[first], lengths, s=10, color="tab:red", zorder=3)
    for at, n in zip(first, lengths, strict=True):
        if n >= 5:
            bottom.annotate(
                str(n),
                (x[at], n),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
    bottom.set_ylim(0, int(max(lengths, default=1)) * 1.2 + 1)
    bottom.set_ylabel("spell length\n(sessions)")
    _legend(top)
    if not spells:
        return f"VIX inversion spells (ratio > {threshold:g}): none in the window"
    longest = int(np.argmax(lengths))
    return (
        f"VIX inversion spells (ratio > {threshold:g}): {len(spells)} in the window, lengths"
        f" median {np.median(lengths):g} and longest {lengths[longest]} sessions (from"
        f" {x[first[longest]]:%Y-%m-%d})"
    )


def plot_cuts_priced(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """SPY close (top); the 25 bp cuts priced by each fed funds futures contract month
    (number of 25 bp steps from EFFR down to the month's implied rate: > 0 cuts, < 0
    hikes), one line per month coloured from the nearest month (dark) to the farthest
    (yellow; bottom)."""
    symbol = _symbol(md, params)
    data = _cut(frame.astype(float), window)
    data = data.loc[:, data.notna().any()]
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.3, 2]})
    _price_axis(top, _close(md, symbol, window), symbol)
    _lines(bottom, data, list(data.columns))
    bottom.axhline(0, color="grey", lw=0.6)
    bottom.set_ylabel("cuts priced (25 bp steps)")
    bottom.legend(loc="upper right", fontsize=8, title="contract month", title_fontsize=8)
    _legend(top)
    return f"25 bp Fed cuts priced per fed funds futures month ({data.shape[1]} months)"


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


def plottable(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns `plot_default` draws, as float: numeric and boolean ones with a value.
    Text, datetime (e.g. ``known_at``) and timedelta columns are left out."""
    keep = [
        c
        for c in frame.columns
        if (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
        and not pd.api.types.is_timedelta64_dtype(frame[c])
    ]
    numeric = frame[keep].astype(float)
    return numeric.loc[:, numeric.notna().any()]


def _magnitude(values: pd.Series) -> float:
    """Typical size of a column: the 99th percentile of |value| (max, 1 when all zero)."""
    size = values.abs().dropna()
    for v in (float(np.percentile(size, 99)), float(size.max())):
        if v > 0:
            return v
    return 1.0


def column_kind(values: pd.Series) -> str:
    """``"flag"`` (only 0 and 1), ``"bounded"`` (within [-1, 1]: scores, shares,
    probabilities) or ``"level"`` (anything else) for a float column with a value."""
    v = values.dropna()
    if v.isin([0.0, 1.0]).all():
        return "flag"
    if v.min() >= -1.0 and v.max() <= 1.0:
        return "bounded"
    return "level"


def panel_groups(data: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """The panels of `plot_default` as (kind, columns), in the order the columns come.

    All flags share one panel of lanes; all bounded columns one panel with a fixed
    [-1, 1] (or [0, 1]) scale; other columns share a panel only with columns whose
    `_magnitude` differs by less than `GROUP_FACTOR` (greedy from the smallest), so a
    weight up to 19 never squashes a count up to 3, nor a tone in [-1, 1].
    """
    kinds = {c: column_kind(data[c]) for c in data.columns}
    groups: dict[str, list[str]] = {}
    levels = sorted(
        (c for c in data.columns if kinds[c] == "level"), key=lambda c: _magnitude(data[c])
    )
    floor = 0.0
    for col in levels:
        size = _magnitude(data[col])
        if not groups or size > GROUP_FACTOR * floor:
            key, floor = f"level {col}", size
            groups[key] = []
        groups[key].append(col)
    for col in data.columns:
        if kinds[col] != "level":
            groups.setdefault(kinds[col], []).append(col)
    order = {c: i for i, c in enumerate(data.columns)}
    panels = sorted(groups.items(), key=lambda kv: (kv[0] == "flag", min(order[c] for c in kv[1])))
    return [(key.split(" ")[0], [c for c in data.columns if c in cols]) for key, cols in panels]


def _sparse_count(values: pd.Series) -> bool:
    """Non-negative whole numbers, mostly zero: events per session, drawn as dots."""
    v = values.dropna()
    return bool(len(v) and (v >= 0).all() and (v == v.round()).all() and (v == 0).mean() > 0.5)


def _lines(ax: Axes, data: pd.DataFrame, cols: list[str], *, dots: bool = False) -> None:
    """Each column of ``cols`` against the index: a line, or dots for an event table
    (``dots``) and for sparse counts (their non-zero values only). More than
    `MANY_LINES` lines are coloured along a colormap, only the first and last named."""
    cmap = colormaps["viridis"]
    many = len(cols) > MANY_LINES
    for i, col in enumerate(cols):
        y = data[col]
        style: dict[str, Any] = {"lw": 0.9, "label": col}
        if many:
            style["color"] = cmap(i / (len(cols) - 1))
            style["lw"] = 0.8
            style["label"] = col if i in (0, len(cols) - 1) else None
        if dots or _sparse_count(y):
            y = y.loc[y != 0] if not dots else y
            ax.plot(y.index, y.to_numpy(), "o", ms=2.5, alpha=0.8, **{**style, "lw": 0})
        else:
            ax.plot(y.index, y.to_numpy(), **style)


def _flag_lanes(ax: Axes, data: pd.DataFrame, cols: list[str]) -> None:
    """One lane per 0/1 column, a bar over each run of sessions where it is 1, from its
    first session to the next session after its last (one session stays visible)."""
    x = pd.DatetimeIndex(data.index)
    for i, col in enumerate(cols):
        on = data[col].fillna(0.0).to_numpy() > 0.5
        corners: list[pd.Timestamp] = []
        for a, b in _runs(on):  # left, right, right again as the gap before the next run
            right = x[b] if b < len(x) else x[-1] + pd.Timedelta(days=1)
            corners += [x[a], right, right]
        where = np.tile([True, True, False], len(corners) // 3)
        ax.fill_between(
            pd.DatetimeIndex(corners),
            i - 0.35,
            i + 0.35,
            where=where,
            color=f"C{i}",
            lw=0,
            label=f"{col} = 1",
        )
    ax.set_yticks(range(len(cols)), cols, fontsize=8)
    ax.set_ylim(-0.6, len(cols) - 0.4)


def plot_default(
    fig: Figure, frame: pd.DataFrame, md: MarketData, params: dict[str, Any], window: Window
) -> str:
    """The close of ``symbol`` (top), then one panel per kind of column (`panel_groups`):
    bounded scores on a fixed [-1, 1] (or [0, 1]) scale, other numbers on panels of
    similar range in their own units (sparse counts as dots), 0/1 flags as lanes with a
    bar where the flag is 1. Rows of an event table are drawn as dots at their date."""
    axis = time_axis(frame)
    if axis is None:
        raise ValueError("this signal's rows carry no dates, so it cannot be plotted")
    numeric = plottable(frame)
    if numeric.empty:
        raise ValueError("this signal has no numeric column to plot")
    event_table = not isinstance(frame.index, pd.DatetimeIndex)
    data = _cut(numeric.set_axis(axis, axis=0), window)
    data = data.loc[:, data.notna().any()]
    if data.empty:
        raise ValueError("this signal has no value in the plotted window")
    panels = panel_groups(data)
    left_out = [c for _, cols in panels[MAX_PANELS:] for c in cols]
    panels = panels[:MAX_PANELS]
    ratios = [2.0] + [0.35 + 0.3 * len(c) if k == "flag" else 1.2 for k, c in panels]
    fig.set_figheight(max(fig.get_figheight(), 1.2 + 1.3 * sum(ratios)))
    axes = fig.subplots(
        len(ratios), 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": ratios}
    )[:, 0]
    symbol = _symbol(md, params)
    _price_axis(axes[0], _close(md, symbol, window), symbol)
    _legend(axes[0])
    for ax, (kind, cols) in zip(axes[1:], panels, strict=True):
        if kind == "flag":
            _flag_lanes(ax, data, cols)
            continue
        _lines(ax, data, cols, dots=event_table)
        if kind == "bounded":
            signed = bool((data[cols] < 0).any().any())
            ax.set_ylim((-1.05, 1.05) if signed else (-0.03, 1.03))
            ax.axhline(0, color="grey", lw=0.6)
            bounds = "[-1, 1]" if signed else "[0, 1]"
            ax.set_ylabel(f"{cols[0]} {bounds}" if len(cols) == 1 else f"score {bounds}")
        else:
            ax.set_ylabel(", ".join(cols) if len(cols) <= 2 else "level (see legend)")
        ax.legend(loc="upper left", fontsize=8, ncol=min(len(cols), 4))
    note = f" ({', '.join(left_out)} not drawn)" if left_out else ""
    return f"signal over {symbol}, one panel per kind of column{note}"


PLOTS: dict[str, PlotFn] = {
    "cta_trigger_levels": plot_cta_levels,
    "blackout_share": plot_blackout,
    "blackout_windows": plot_blackout_windows,
    "net_liquidity": plot_net_liquidity,
    "net_liquidity_weekly": plot_net_liquidity,  # the same series, per week as published
    "liquidity_drain": plot_liquidity_drain,
    "capital_scarcity": plot_capital_scarcity,
    "vix_term_structure": plot_vix,
    "vix_inversion": plot_vix_inversion,
    "cuts_priced": plot_cuts_priced,
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


def default_window(
    frame: pd.DataFrame, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> tuple[Window, str]:
    """The dates to plot and a note saying which, for the title.

    Given ``start`` and/or ``end`` (UTC dates, inclusive), those; a missing bound leaves
    that side open. Neither: from `DEFAULT_YEARS` years before the signal's last date
    (`time_axis`; its first date when the signal is shorter) to the end of the data, as
    a UTC midnight, so a dense signal stays readable.
    """
    if start is not None or end is not None:
        lo = f"{start:%Y-%m-%d}" if start is not None else "first date"
        hi = f"{end:%Y-%m-%d}" if end is not None else "last date"
        return (start, end), f"window {lo} .. {hi}"
    axis = time_axis(frame)
    days = _naive(axis).dropna() if axis is not None else pd.DatetimeIndex([])
    if days.empty:
        return (None, None), "all dates"
    first, last = days.min().normalize(), days.max().normalize()
    lo = last - pd.DateOffset(years=DEFAULT_YEARS) + pd.Timedelta(days=1)
    what = f"last {DEFAULT_YEARS} years"
    if lo <= first:
        lo, what = first, f"the whole signal (under {DEFAULT_YEARS} years)"
    note = (
        f"{what}: from {lo:%Y-%m-%d} (last date {last:%Y-%m-%d}); --start/--end for another window"
    )
    return (pd.Timestamp(lo, tz="UTC"), None), note


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
    (format from the suffix). ``start``/``end`` (UTC dates, inclusive) limit the dates
    drawn; without either, the last `DEFAULT_YEARS` years of the signal are drawn
    (`default_window`, said in the title). ``frame`` itself is not changed."""
    fig = Figure(figsize=(11, 6.5))
    window, note = default_window(frame, start, end)
    title = plot_for(name, frame)(fig, frame, md, params, window)
    used = ", ".join(f"{k}={v}" for k, v in params.items())
    head = f"{name}: {title}" + (f"  [{used}]" if used else "")
    fig.suptitle(f"{head}\n{note}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return fig
