"""Thesis event studies on the bundled data: one small study per thesis.

Each study pairs a point-in-time signal with **forward** returns: a value known at an
instant is matched with the return from the close of the first bar whose close is at or
after that instant to the close ``horizon`` bars later (`flowbt.research.event_study`). Signals
computed at a bar's close (blackout share, net liquidity) therefore get close(t) ->
close(t + N); the VIX ratio, final at 16:15 ET after the NYSE close, gets the next
session's close as its start. Returns use total-return closes where the bundle has one
(SPY, MU, WDC, STX, SNDK), adjusted closes otherwise; the Korean stocks are price only.

Effects are in basis points of simple return; t-statistics use Newey-West standard
errors with lags = horizon - 1 (overlapping windows). Each result states the sign the
thesis predicts and a plain reading (|t| >= 1.96: supports or contradicts; otherwise not
significant). Results are reported whatever they show; no multiple-testing adjustment.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from data.calendars import session_close
from data.market import MarketData
from flowbt.report.files import write_json as write_json_file
from flowbt.research.event_study import (
    GroupDifference,
    event_bars,
    forward_returns,
    mean_difference,
    slope_per_sd,
)
from signals._align import total_return_field
from signals.buyback import blackout_share
from signals.fed import detect_swings, odds_swings, rate_cut_odds
from signals.liquidity import liquidity_drain
from signals.volatility import inversion_spells, vix_term_structure

BP = 1e4
LIQUIDITY_ASSETS = ("BTC-USD", "MU", "WDC", "STX", "SNDK", "000660.KS", "005930.KS")
VIX_FINAL_AFTER_CLOSE = pd.Timedelta(minutes=15)  # Cboe settles VIX closes at 16:15 ET
SIGNIFICANT = 1.96


@dataclass(frozen=True)
class StudyResult:
    """One row of the thesis table. ``effect`` in ``unit``; ``n`` observations in the
    condition (events, sessions or weeks), ``n_other`` in the comparison group."""

    thesis: str
    test: str
    asset: str
    effect: float | None
    unit: str
    t_stat: float | None
    n: int
    n_other: int | None
    horizon: str
    expected: str  # "+" or "-": the sign the thesis predicts
    note: str

    @property
    def reading(self) -> str:
        if self.t_stat is None or not math.isfinite(self.t_stat):
            return "n/a"
        if abs(self.t_stat) < SIGNIFICANT:
            return "not significant"
        agrees = (self.t_stat > 0) == (self.expected == "+")
        return "supports thesis" if agrees else "contradicts thesis"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reading"] = self.reading
        return out


def difference_row(
    thesis: str,
    test: str,
    asset: str,
    res: GroupDifference,
    horizon: str,
    expected: str,
    context: str,
) -> StudyResult:
    """A row for a difference of mean forward returns (condition minus the others, bp)."""
    return StudyResult(
        thesis=thesis,
        test=test,
        asset=asset,
        effect=res.effect,
        unit="bp",
        t_stat=res.t,
        n=res.n_in,
        n_other=res.n_out,
        horizon=horizon,
        expected=expected,
        note=f"mean {res.mean_in:+.1f} vs {res.mean_out:+.1f} bp; {res.n_out} {context}",
    )


def _closes(md: MarketData, symbol: str) -> tuple[pd.Series, pd.DatetimeIndex]:
    """Total-return close of ``symbol`` and the UTC instants its bars close."""
    frame = md.price(symbol)
    close = frame[total_return_field(md, symbol)].astype(float)
    return close, session_close(frame.index, md.calendar(symbol))


def _known_on(
    values: pd.Series, known_at: pd.DatetimeIndex, bar_closes: pd.DatetimeIndex
) -> np.ndarray:
    """Latest value of ``values`` (known at ``known_at``) at each bar close; NaN before any."""
    pos = known_at.searchsorted(bar_closes, side="right") - 1
    out = values.to_numpy(dtype=float)[pos.clip(0)]
    return np.where(pos >= 0, out, np.nan)


# --- buybacks ---------------------------------------------------------------------------
def buyback_study(
    md: MarketData,
    horizon: int,
    *,
    high: float = 2 / 3,
    low: float = 1 / 3,
    min_members: int = 100,
) -> list[StudyResult]:
    """SPY forward returns from sessions with most of the index in blackout (projected share
    >= ``high``) minus those from open-window sessions (share <= ``low``); sessions in
    between are left out. Sessions count once at least ``min_members`` S&P 500 members have
    earnings history (2004-10 on). One row for the next-session return, one for ``horizon``.
    """
    share = blackout_share(md)
    s = share["share_projected"].where(share["members"] >= min_members)
    flag = pd.Series(np.where(s >= high, 1.0, np.where(s <= low, 0.0, np.nan)), index=s.index)
    flag = flag.where(s.notna())
    close, _ = _closes(md, "SPY")
    close = close.reindex(s.index)
    out = []
    for h in sorted({1, horizon}):
        res = mean_difference(forward_returns(close, h) * BP, flag, lags=h - 1)
        out.append(
            difference_row(
                "buyback",
                "fwd return: blackout - open window",
                "SPY",
                res,
                f"{h}d",
                "-",
                f"open sessions; share >= {high:.2f} vs <= {low:.2f}",
            )
        )
    return out


# --- liquidity ("reverse QE") ---------------------------------------------------------
def _week_number(index: pd.DatetimeIndex) -> np.ndarray:
    """Monday-based week number of each bar date (1970-01-05, a Monday, is week 0)."""
    days = index.tz_localize(None).values.astype("datetime64[D]").astype(np.int64)
    return cast(np.ndarray, (days - 4) // 7)


def weekly_liquidity_frame(md: MarketData, symbol: str, weeks: int) -> pd.DataFrame:
    """One row per calendar week (Monday-based, gaps kept as NaN rows) at the last bar of
    the week of ``symbol``: its 13-week net-liquidity change as known at that bar's close
    (USD mn, on the asset's own calendar) and the forward return to the last bar ``weeks``
    calendar weeks later."""
    drain = liquidity_drain(md, symbol=symbol, weeks=(13,))["change_13w"]
    close, _ = _closes(md, symbol)
    week = _week_number(close.index)
    last = np.r_[week[1:] != week[:-1], True]
    grid = np.arange(week.min(), week.max() + 1)
    w_close = pd.Series(close.to_numpy()[last], index=week[last]).reindex(grid)
    w_change = pd.Series(drain.to_numpy()[last], index=week[last]).reindex(grid)
    fwd = w_close.shift(-weeks) / w_close - 1.0
    bar = pd.Series(close.index[last], index=week[last]).reindex(grid)
    return pd.DataFrame({"bar": bar, "change_13w": w_change, "close": w_close, "fwd": fwd})


def liquidity_study(
    md: MarketData, weeks: int, assets: tuple[str, ...] = LIQUIDITY_ASSETS
) -> list[StudyResult]:
    """Per asset: slope of its forward ``weeks``-week return (bp) on the 13-week change of
    net liquidity, per 1 sd of the change (weekly, last bar of each week, HAC lags
    ``weeks - 1``). The thesis: liquidity drains hurt BTC (slope > 0) while memory chips,
    near-term cash-flow names, hold up or win (slope < 0)."""
    out = []
    for sym in assets:
        if sym not in md.prices:
            continue
        frame = weekly_liquidity_frame(md, sym, weeks)
        res = slope_per_sd(frame["fwd"] * BP, frame["change_13w"], lags=weeks - 1)
        used = frame.dropna(subset=["fwd", "change_13w"])
        basis = "price only" if md.basis(sym) == "raw" else "total return"
        out.append(
            StudyResult(
                thesis="liquidity",
                test="fwd return per +1 sd of 13w net-liquidity change",
                asset=sym,
                effect=res.effect,
                unit="bp/sd",
                t_stat=res.t,
                n=res.n,
                n_other=None,
                horizon=f"{weeks}w",
                expected="+" if sym == "BTC-USD" else "-",
                note=(
                    f"1 sd = USD {res.sd_x / 1000:,.0f} bn; weeks "
                    f"{used['bar'].iloc[0]:%Y-%m}..{used['bar'].iloc[-1]:%Y-%m}; {basis}"
                ),
            )
        )
    return out


# --- VIX inversion ----------------------------------------------------------------------
def vix_study(md: MarketData, horizon: int) -> list[StudyResult]:
    """SPY forward returns after a VIX/VIX3M inversion is known, minus all other sessions
    since VIX3M exists. The ratio is final at 16:15 ET, after the NYSE close, so an
    inversion on day d counts from the close of the next SPY session. Thesis: inversion is
    hedging flow, not panic, so returns afterwards are not worse (expected sign +)."""
    ratio = vix_term_structure(md)["ratio"].dropna()
    spells = inversion_spells(ratio)
    vix_known = session_close(pd.DatetimeIndex(ratio.index), "XNYS") + VIX_FINAL_AFTER_CLOSE
    close, spy_closes = _closes(md, "SPY")
    seen = _known_on(ratio, vix_known, spy_closes)  # latest ratio known at each SPY close
    known = pd.Series(np.isfinite(seen), index=close.index)
    fwd = forward_returns(close, horizon) * BP

    start_known = session_close(pd.DatetimeIndex(spells["start"]), "XNYS") + VIX_FINAL_AFTER_CLOSE
    hits = np.zeros(len(close))
    hits[event_bars(spy_closes, start_known)] = 1.0
    starts = pd.Series(hits, index=close.index).where(known)
    inverted = pd.Series((seen > 1.0).astype(float), index=close.index).where(known)
    out = []
    first = ratio.index[0]
    for label, flag in (
        ("after an inversion spell starts", starts),
        ("while inverted (last ratio > 1)", inverted),
    ):
        res = mean_difference(fwd, flag, lags=horizon - 1)
        out.append(
            difference_row(
                "vix inversion",
                f"fwd return {label} - others",
                "SPY",
                res,
                f"{horizon}d",
                "+",
                f"other sessions since {first:%Y-%m}",
            )
        )
    return out


# --- Fed odds swings --------------------------------------------------------------------
def causal_swings(
    odds_pct: pd.Series, groups: pd.Series | None, *, points: float, days: int
) -> pd.DataFrame:
    """Odds-swing events a trader could have flagged in real time (`signals.fed.
    detect_swings`): ``detected`` and ``change``. Unlike `signals.fed.odds_swings`, whose
    choice among overlapping moves depends on the odds after detection."""
    return detect_swings(odds_pct, groups, points=points, days=days)[["detected", "change"]]


def _swing_known_at(swings: pd.DataFrame, calendar: str = "XNYS") -> pd.DatetimeIndex:
    """When a swing is known: ``known_at`` if given, else the close of its ``detected``
    session (the odds are per session of the odds' symbol)."""
    if "known_at" in swings.columns:
        return pd.DatetimeIndex(swings["known_at"]).tz_convert("UTC")
    return session_close(pd.DatetimeIndex(swings["detected"]), calendar)


def odds_swing_study(
    md: MarketData, horizon: int, symbols: tuple[str, ...] = ("SPY", "TLT")
) -> list[StudyResult]:
    """Forward returns after rate-cut odds swings, by direction, minus all other sessions
    since the odds exist, and the absolute forward return (a volatility proxy) after any
    swing. Swing size and window are `signals.fed.odds_swings`' defaults.

    Main rows use `causal_swings` (strictly point in time). Two more SPY rows use the
    swings of `signals.fed.odds_swings` at their ``detected`` session: that list is
    chosen with hindsight (largest moves first), so those rows are descriptive. Thesis:
    Fed communication swings the odds and is the main volatility trigger; cuts priced
    in (odds up) lift SPY and TLT.
    """
    defaults = inspect.signature(odds_swings).parameters
    points, days = defaults["points"].default, defaults["days"].default
    odds = rate_cut_odds(md)
    odds = odds.loc[odds["prob_cut"].notna()]
    groups = odds["method"] + " " + odds["next_meeting"].dt.strftime("%Y-%m-%d").fillna("")
    live = causal_swings(odds["prob_cut"] * 100, groups, points=points, days=days)
    hindsight = odds_swings(md)
    proxy = f"; odds: bill proxy on {(odds['method'] == 'proxy').mean():.0%} of sessions"
    rule = f">= {points:g} pt in <= {days}d"
    cases = []
    for sym in symbols:
        cases += [
            (sym, "after odds swing up", live, "up", "+", f"real-time, {rule}"),
            (sym, "after odds swing down", live, "down", "-", f"real-time, {rule}"),
            (sym, "|fwd return| after any swing", live, "any", "+", f"real-time, {rule}"),
        ]
    cases += [
        ("SPY", "after odds_swings up", hindsight, "up", "+", "odds_swings, hindsight list"),
        ("SPY", "after odds_swings down", hindsight, "down", "-", "odds_swings, hindsight list"),
    ]
    first_odds = pd.DatetimeIndex(odds.index)[0]
    out = []
    for sym, label, swings, side, expected, what in cases:
        if sym not in md.prices:
            continue
        if len(swings) == 0:
            out.append(_missing_fed_row(f"no swings for: {label}", sym))
            continue
        change = swings["change"].to_numpy(dtype=float)
        pick = {"up": change > 0, "down": change < 0, "any": np.isfinite(change)}[side]
        close, closes = _closes(md, sym)
        covered = pd.Series(close.index >= first_odds, index=close.index)
        fwd = forward_returns(close, horizon) * BP
        y = fwd.abs() if side == "any" else fwd
        hits = np.zeros(len(close))
        hits[event_bars(closes, _swing_known_at(swings.loc[pick]))] = 1.0
        flag = pd.Series(hits, index=close.index).where(covered)
        if np.nansum(flag) < 2:
            out.append(_missing_fed_row(f"fewer than two events for: {label}", sym))
            continue
        res = mean_difference(y, flag, lags=horizon - 1)
        out.append(
            difference_row(
                "fed odds swings",
                (f"fwd return {label}" if side != "any" else label) + " - others",
                sym,
                res,
                f"{horizon}d",
                expected,
                f"other sessions; {what}" + ("" if out else proxy),
            )
        )
    return out


def _missing_fed_row(note: str, asset: str = "SPY") -> StudyResult:
    return StudyResult(
        thesis="fed odds swings",
        test="fwd return after rate-cut odds swings",
        asset=asset,
        effect=None,
        unit="bp",
        t_stat=None,
        n=0,
        n_other=None,
        horizon="",
        expected="+",
        note=note,
    )


# --- all studies ------------------------------------------------------------------------
STUDIES: dict[str, Callable[[MarketData, int], list[StudyResult]]] = {
    "buyback": buyback_study,
    "liquidity": lambda md, h: liquidity_study(md, weeks_for(h)),
    "vix": vix_study,
    "fed": odds_swing_study,
}


def weeks_for(horizon: int) -> int:
    """The weekly horizon matching ``horizon`` sessions (5 sessions a week, at least 1)."""
    return max(1, round(horizon / 5))


def run_theses(md: MarketData, horizon: int = 20) -> list[StudyResult]:
    """Every study on ``md`` with forward returns over ``horizon`` sessions."""
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 250:
        raise ValueError(
            f"--horizon must be an integer number of sessions in 1..250, got {horizon}"
        )
    rows: list[StudyResult] = []
    for study in STUDIES.values():
        rows.extend(study(md, horizon))
    return rows


def results_frame(rows: list[StudyResult]) -> pd.DataFrame:
    """The printed table: thesis, test, asset, horizon, effect, t (HAC), n, expected sign,
    reading and note."""
    return pd.DataFrame(
        {
            "thesis": [r.thesis for r in rows],
            "test": [r.test for r in rows],
            "asset": [r.asset for r in rows],
            "h": [r.horizon for r in rows],
            "effect": [_effect(r) for r in rows],
            "t (HAC)": ["" if r.t_stat is None else f"{r.t_stat:+.2f}" for r in rows],
            "n": [str(r.n) for r in rows],
            "exp": [r.expected for r in rows],
            "reading": [r.reading for r in rows],
            "note": [r.note for r in rows],
        }
    )


def _effect(r: StudyResult) -> str:
    return "" if r.effect is None else f"{r.effect:+.1f} {r.unit}"


def write_json(rows: list[StudyResult], path: Path, horizon: int) -> None:
    """The results with the method, for notebooks and CI (overwrites ``path``)."""
    payload = {
        "horizon_sessions": horizon,
        "horizon_weeks": weeks_for(horizon),
        "method": (
            "forward simple returns from the first close at/after the signal is known; "
            "effects in bp; Newey-West t with lags = horizon - 1"
        ),
        "results": [r.as_dict() for r in rows],
    }
    write_json_file(path, payload)
