"""Event overlays for equity charts: what a run's strategy reads, marked on its equity.

`overlays_for` turns the signals a run requested (``Result.manifest["signals"]``, or the
``signals`` of a run folder's ``manifest.json``; `manifest_signals` reads either) into
`Overlay` objects over a window of UTC dates; `draw_overlays` draws them on a
matplotlib axis, one legend entry per overlay.

Which signal gives which overlay (`OVERLAY_SIGNALS`):

- ``blackout_share`` -> **buyback blackout windows**: spans of consecutive sessions
  whose ``share_projected`` (the column `strategies.buyback_blackout` trades on: share
  of S&P 500 members in blackout, 0-1) is >= `BLACKOUT_SHARE`. Dated by the session
  whose close the share is known at.
- ``vix_term_structure`` -> **VIX inversion spells**: spans of consecutive VIX sessions
  with ``ratio`` = VIX / VIX3M close > `INVERSION_RATIO` (a NaN ends a spell). Dated by
  the session of the closes (final at 16:15 ET that day).
- ``rate_cut_odds`` or ``fed_tone`` -> **FOMC decisions**: a vertical line per policy
  announcement held (the bundled ``fomc_meetings`` table without the schedule ahead and
  cancelled meetings; inter-meeting actions included), dated by the UTC date of its
  ``known_at`` (the statement's release, 14:00/14:15 ET).
- ``odds_swing_events`` -> **cut-odds swings**: a marker per swing, dated by the
  session it was detected at (``odds_swing_events``' index: known at that close).

Point in time: every date is the one the signal says the thing was known at (or
happened at, for the FOMC statement), never a later revision; spells and windows are
the runs of the signal's own per-session values, so each span's sessions are flagged
from data known at their close. Dates are naive UTC midnights (matplotlib's dates),
restricted to the sessions (or events) whose UTC date is in [start, end]; a span is
``(first session, last session)``, both inclusive, and is drawn to the day after its
last session so a one-session span stays visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from signals.registry import get_signal

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from data.market import MarketData
    from engine.result import Result

BLACKOUT_SHARE = 0.5  # share of members in blackout that makes a blackout window
INVERSION_RATIO = 1.0  # VIX / VIX3M above this: inverted
MAX_LINES = 300  # at most this many lines or markers per overlay (evenly thinned beyond)
SPAN_ALPHA = 0.15
Kind = Literal["span", "line", "marker"]

OVERLAY_SIGNALS: dict[str, str] = {
    "blackout_share": "blackout",
    "vix_term_structure": "inversion",
    "rate_cut_odds": "fomc",
    "fed_tone": "fomc",
    "odds_swing_events": "swings",
}
_ORDER = ("fomc", "blackout", "inversion", "swings")


@dataclass(frozen=True)
class Overlay:
    """One kind of event over a window: ``spans`` (first, last date, inclusive) for a
    ``"span"``, ``dates`` for a ``"line"`` or ``"marker"``; naive UTC dates."""

    kind: Kind
    label: str
    color: str
    spans: tuple[tuple[pd.Timestamp, pd.Timestamp], ...] = ()
    dates: tuple[pd.Timestamp, ...] = ()

    def __len__(self) -> int:
        return len(self.spans) if self.kind == "span" else len(self.dates)


def manifest_signals(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Signal name -> params of the signals a run's manifest lists (``manifest["signals"]``:
    request key -> {"signal", "params", "calendar"}; composite keys such as
    ``"2:blackout"`` carry the plain name in ``signal``). A name requested twice keeps
    its first params."""
    out: dict[str, dict[str, Any]] = {}
    for request in (manifest.get("signals") or {}).values():
        if isinstance(request, Mapping) and request.get("signal"):
            out.setdefault(str(request["signal"]), dict(request.get("params") or {}))
    return out


def _day(t: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if t is None:
        return None
    ts = pd.Timestamp(t)
    return (ts.tz_convert("UTC").tz_localize(None) if ts.tz is not None else ts).normalize()


def _days(index: pd.Index) -> pd.DatetimeIndex:
    """UTC date of each timestamp as naive midnight."""
    out = pd.DatetimeIndex(index)
    return (out.tz_convert("UTC").tz_localize(None) if out.tz is not None else out).normalize()


def _within(days: pd.DatetimeIndex, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Any:
    keep = np.ones(len(days), dtype=bool)
    if start is not None:
        keep &= days >= start
    if end is not None:
        keep &= days <= end
    return keep


def runs_of(flag: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) UTC dates of each run of consecutive True values of ``flag``."""
    values = flag.to_numpy(dtype=bool)
    edges = np.diff(np.concatenate([[0], values.astype(np.int8), [0]]))
    days = _days(flag.index)
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(days[a], days[b]) for a, b in zip(first, last, strict=True)]


def _spans(
    flag: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[tuple[pd.Timestamp, pd.Timestamp], ...]:
    return tuple(runs_of(flag[_within(_days(flag.index), start, end)]))


def _thin(dates: pd.DatetimeIndex) -> tuple[pd.Timestamp, ...]:
    if len(dates) > MAX_LINES:
        dates = dates[np.linspace(0, len(dates) - 1, MAX_LINES).round().astype(int)]
    return tuple(dates)


def fomc_decisions(md: MarketData) -> pd.DatetimeIndex:
    """UTC dates (naive, sorted, unique) of the FOMC policy announcements held: the
    ``known_at`` of each bundled ``fomc_meetings`` row that is neither ``scheduled`` (the
    calendar ahead) nor ``cancelled``."""
    frame = md.event("fomc_meetings")
    if "status" in frame.columns:
        frame = frame.loc[~frame["status"].isin(["scheduled", "cancelled"])]
    return _days(pd.DatetimeIndex(frame["known_at"])).unique().sort_values()


def _overlay(
    kind: str,
    md: MarketData,
    params: Mapping[str, Any],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> Overlay:
    if kind == "blackout":
        share = get_signal("blackout_share")(md, **params)["share_projected"]
        flag = share >= BLACKOUT_SHARE  # NaN (no covered member) is not a window
        label = f"buyback blackout (share >= {BLACKOUT_SHARE:g})"
        return Overlay("span", label, "tab:orange", spans=_spans(flag, start, end))
    if kind == "inversion":
        ratio = get_signal("vix_term_structure")(md, **params)["ratio"]
        label = f"VIX inverted (VIX/VIX3M > {INVERSION_RATIO:g})"
        return Overlay(
            "span", label, "tab:purple", spans=_spans(ratio > INVERSION_RATIO, start, end)
        )
    if kind == "fomc":
        days = fomc_decisions(md)
        return Overlay(
            "line", "FOMC decision", "tab:gray", dates=_thin(days[_within(days, start, end)])
        )
    swings = get_signal("odds_swing_events")(md, **params)
    days = _days(swings.index).unique().sort_values()
    return Overlay(
        "marker", "cut-odds swing", "tab:red", dates=_thin(days[_within(days, start, end)])
    )


def overlays_for(
    signal_names: Iterable[str],
    md: MarketData,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Overlay]:
    """The overlays of the signals named (see the module docstring for the mapping and
    the point-in-time rule), computed on ``md`` and restricted to the UTC dates in
    [``start``, ``end``] (None: open). ``params``: signal name -> the params the run
    requested it with (`manifest_signals`; default: the signal's defaults).

    One overlay per kind, in the order FOMC, blackout, inversion, swings; a kind with
    nothing in the window is left out, as are signals without an overlay (e.g.
    ``cta_position``)."""
    names = list(signal_names)
    params = params or {}
    lo, hi = _day(start), _day(end)
    out = []
    for kind in _ORDER:
        name = next((n for n in names if OVERLAY_SIGNALS.get(n) == kind), None)
        if name is None:
            continue
        own = params.get(name, {}) if kind in ("blackout", "swings") else {}
        overlay = _overlay(kind, md, own, lo, hi)
        if len(overlay):
            out.append(overlay)
    return out


def run_overlays(result: Result, md: MarketData) -> list[Overlay]:
    """The overlays of the signals ``result``'s strategy read (its manifest), over the
    run's span, computed on ``md`` (the data it ran on); none for an empty run."""
    if not len(result.equity):
        return []
    reads = manifest_signals(result.manifest)
    span = result.equity.index
    return overlays_for(reads, md, span[0], span[-1], params=reads)


def draw_overlays(ax: Axes, overlays: Sequence[Overlay]) -> None:
    """Draw ``overlays`` on ``ax`` (a date x-axis in naive UTC): spans as shaded
    ``axvspan`` patches (alpha `SPAN_ALPHA`, from the first session to the day after the
    last), lines as thin full-height vertical lines (one collection), markers as
    triangles along the top edge. Each overlay gets one legend label, on its first
    artist; the axis' x and y limits are kept."""
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    top = ax.get_xaxis_transform()  # x in data, y in axes fraction
    one_day = pd.Timedelta(days=1)
    for o in overlays:
        if o.kind == "span":
            for i, (a, b) in enumerate(o.spans):
                ax.axvspan(
                    a,  # matplotlib converts dates
                    b + one_day,
                    color=o.color,
                    alpha=SPAN_ALPHA,
                    lw=0,
                    zorder=0,
                    label=o.label if i == 0 else "_nolegend_",
                )
        elif o.kind == "line":
            x = list(o.dates)
            ax.vlines(x, 0.0, 1.0, transform=top, colors=o.color, lw=0.6, alpha=0.5, label=o.label)
        else:
            x = list(o.dates)
            y = np.full(len(x), 0.97)
            ax.plot(x, y, transform=top, ls="none", marker="v", ms=5, color=o.color, label=o.label)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
