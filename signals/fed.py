"""Market-implied odds of a Fed rate cut at the next FOMC meeting, and swings of those odds.

Thesis (the articles): Fed communication, not new data, swings the market's rate-cut odds
(80% -> 30% -> 80% within weeks); the odds, and the swings with the Fed-speak around them,
are the signal.

FedWatch (CME method, shared METHODS.md): a fed funds future for month M settles at 100 -
the average effective fed funds rate (EFFR) over M, so r_M = 100 - price. For a meeting on
day d of M (N days) the new rate applies from day d + 1: r_M = d/N r_start + (N-d)/N r_end.
One side is anchored on a meeting-free neighbour month (r_end = r_{M+1}; else r_start =
r_{M-1}; else, for the nearest meeting, today's EFFR), the other solved; the expected
change r_end - r_start is split over 25 bp steps (-37.5 bp = 50% one cut, 50% two cuts).
Before the futures strip covers the next meeting, a documented bill proxy stands in
(`rate_cut_odds`); a ``method`` column says which produced each value.

Units: rates in percent, changes in basis points, probabilities in [0, 1]; swings in
percentage points. Point in time: a session's value uses what was known at its NYSE close
(16:00 ET): futures settlements are known at 17:00 ET, so the previous session's; EFFR is
published 09:00 ET the next business day, so the previous day's rate; DGS3MO/DGS2 at the
day's close; the target range (DFEDTARL) from the statement that set it (its first row,
2008-12-16, at 14:15 ET that day, not on the eve); the FOMC calendar as published (once a
statement is out, 14:00 ET, the next meeting is the following one; the calendar's
corrections against the FOMC's published one are in `data.events`). Sources: CBOT ZQ futures (``fed_funds_futures``), FRED EFFR,
DGS3MO, DGS2, DFEDTARL, ``fomc_meetings``; Fed communications from `signals.fed_speak` or
the bundled statement, minutes and speech tables.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.calendars import session_close
from data.events import UNSCHEDULED_MEETINGS
from data.market import MarketData
from signals._align import bars, published_on
from signals.fed_speak import communications
from signals.registry import register

STEP_BP = 25.0  # the Fed moves in 25 bp steps
FUTURES_MAX_AGE_DAYS = 4  # an older settlement is stale (expired contract, end of the data)
MACRO_MAX_AGE_DAYS = 7
BILL_HORIZON_DAYS = 91  # the 3-month bill
MIN_HORIZON_WEIGHT = 0.5  # caps how much the proxy amplifies bill noise (at most 2x)
MONEY_MARKET_BASIS = 360 / 365  # Treasury yields are act/365 (investment basis), EFFR act/360
_EPS = 1e-9  # float noise in step counts and thresholds


# --- the FedWatch arithmetic, on plain numbers -------------------------------------------
def _split(change_bp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(cut), P(hold), P(hike) of expected changes split over whole 25 bp steps."""
    steps = np.round(np.asarray(change_bp, dtype=float) / STEP_BP, 9)
    low = np.floor(steps)
    frac = steps - low  # probability of ``low + 1`` steps, the rest on ``low``
    cut = np.where(low <= -2, 1.0, np.where(low == -1, 1.0 - frac, 0.0))
    hike = np.where(low >= 1, 1.0, np.where(low == 0, frac, 0.0))
    nan = np.isnan(steps)
    cut, hike = np.where(nan, np.nan, cut), np.where(nan, np.nan, hike)
    return cut, 1.0 - cut - hike, hike


def step_probabilities(change_bp: float) -> dict[int, float]:
    """Expected change split over whole 25 bp moves: ``{steps: probability}``, cuts < 0.

    -37.5 bp -> {-2: 0.5, -1: 0.5}; +10 bp -> {0: 0.6, 1: 0.4}.
    """
    if not math.isfinite(change_bp):
        raise ValueError(f"expected change must be a finite number of bp, got {change_bp}")
    steps = round(change_bp / STEP_BP, 9)
    low = math.floor(steps)
    frac = round(steps - low, 9)
    return {k: p for k, p in ((low, 1.0 - frac), (low + 1, frac)) if p > 0}


@dataclass(frozen=True)
class MeetingOdds:
    """FedWatch reading of one meeting: rates (percent) before and after, and the odds."""

    meeting: pd.Timestamp
    r_start: float
    r_end: float
    anchor: str  # "next_month", "previous_month" or "current_rate"

    @property
    def expected_change_bp(self) -> float:
        return (self.r_end - self.r_start) * 100.0

    @property
    def steps(self) -> dict[int, float]:
        return step_probabilities(self.expected_change_bp)

    def _odds(self) -> tuple[float, float, float]:
        cut, hold, hike = _split(np.array([self.expected_change_bp]))
        return float(cut[0]), float(hold[0]), float(hike[0])

    @property
    def prob_cut(self) -> float:
        return self._odds()[0]

    @property
    def prob_hold(self) -> float:
        return self._odds()[1]

    @property
    def prob_hike(self) -> float:
        return self._odds()[2]


def month_of(day: pd.Timestamp | str) -> str:
    """Contract month label ``YYYY-MM`` of a date."""
    return pd.Timestamp(day).strftime("%Y-%m")


def _month_after(month: str, k: int) -> str:
    return str(pd.Period(month, "M") + k)


def meeting_rates(
    meeting: pd.Timestamp | str,
    month_rate: float,
    *,
    rate_before: float | None = None,
    rate_after: float | None = None,
) -> tuple[float, float]:
    """(r_start, r_end) of a meeting from its month's implied rate and one anchor.

    ``rate_after`` (the rate for the rest of the month, e.g. a meeting-free next month's
    contract) wins over ``rate_before`` (the rate going into the meeting); the other side
    solves r_M = d/N r_start + (N-d)/N r_end.
    """
    day = pd.Timestamp(meeting)
    d, n = day.day, day.days_in_month
    if rate_after is not None:
        return (n * month_rate - (n - d) * rate_after) / d, rate_after
    if rate_before is None:
        raise ValueError(f"meeting {day.date()}: need rate_before or rate_after as an anchor")
    if d == n:
        raise ValueError(f"meeting {day.date()} is on the month's last day: need rate_after")
    return rate_before, (n * month_rate - d * rate_before) / (n - d)


def _quote(implied: Mapping[str, float], month: str) -> float | None:
    value = implied.get(month)
    return None if value is None or not math.isfinite(value) else float(value)


def fedwatch(
    meeting: pd.Timestamp | str,
    implied: Mapping[str, float],
    *,
    meeting_months: Collection[str],
    current_rate: float | None = None,
) -> MeetingOdds:
    """CME FedWatch odds of one meeting from the futures strip (METHODS.md anchor rules).

    ``implied``: implied rates (percent, 100 - price) by contract month ``YYYY-MM``;
    ``meeting_months``: months holding an FOMC meeting; ``current_rate``: today's EFFR,
    the start rate when no meeting-free neighbour month is quoted (nearest meeting only).
    Anchor order: r_end = r_{M+1} if M+1 has no meeting; else r_start = r_{M-1} if M-1 has
    none; else r_start = ``current_rate``. `ValueError` if the meeting month or every
    anchor is missing.
    """
    day = pd.Timestamp(meeting)
    month = month_of(day)
    month_rate = _quote(implied, month)
    if month_rate is None:
        raise ValueError(f"meeting {day.date()}: no quote for the {month} contract")
    busy = set(meeting_months)
    nxt, prev = _month_after(month, 1), _month_after(month, -1)
    after = None if nxt in busy else _quote(implied, nxt)
    before = None if prev in busy else _quote(implied, prev)
    if after is not None:
        anchor = "next_month"
    elif before is not None:
        anchor = "previous_month"
    elif current_rate is not None and math.isfinite(current_rate):
        anchor, before = "current_rate", float(current_rate)
    else:
        raise ValueError(f"meeting {day.date()}: no meeting-free neighbour month and no rate")
    r_start, r_end = meeting_rates(day, month_rate, rate_before=before, rate_after=after)
    return MeetingOdds(day, r_start, r_end, anchor)


# --- inputs as known at each session close ------------------------------------------------
def _macro_on(
    md: MarketData, name: str, index: pd.DatetimeIndex, calendar: str, max_days: int
) -> pd.Series:
    """Latest published value at each close; NaN when older than ``max_days``."""
    if md.macro[name].empty:  # e.g. as of a date before the first print
        return pd.Series(np.nan, index=index, name=name)
    seen = published_on(md, name, index, calendar)
    age = (index - pd.DatetimeIndex(seen["observed"])).days
    return seen["value"].where(np.asarray(age <= max_days))


def _policy_rate(
    md: MarketData, index: pd.DatetimeIndex, calendar: str, meetings: pd.DataFrame
) -> np.ndarray:
    """EFFR for the proxy: median of the prints since the last statement (at most 5).

    Before 2008 the daily EFFR spiked around holidays, month- and quarter-ends (12% of
    days more than 10 bp off their 5-day median); restarting at each statement keeps a
    rate change from being smeared over the following days. Until the first print after
    a statement (one or two sessions), the latest print plus the decision's change when
    the calendar has it (from 2008-12), else NaN: the bill has repriced, the EFFR not yet.
    NaN also when the latest print is over a week old.
    """
    frame = md.macro["EFFR"].sort_values("known_at", kind="stable")
    values, observed = frame["value"].to_numpy(float), pd.DatetimeIndex(frame.index)
    closes = session_close(index, calendar)
    last = pd.DatetimeIndex(frame["known_at"]).searchsorted(closes, side="right") - 1
    held = meetings["known_at"].searchsorted(closes, side="right") - 1
    since = pd.DatetimeIndex(meetings["date"])[held.clip(0)].where(held >= 0)
    decided = np.where(held >= 0, meetings["change_bps"].to_numpy(float)[held.clip(0)], 0.0)
    window = np.full((len(index), 5), np.nan)
    for k in range(5):
        pos = last - k
        ok = (pos >= 0) & ~np.asarray(observed[pos.clip(0)] <= since)
        window[:, k] = np.where(ok, values[pos.clip(0)], np.nan)
    latest = np.where(last >= 0, values[last.clip(0)], np.nan) + decided / 100
    empty = np.isnan(window).all(axis=1)
    rate = np.where(empty, latest, np.nanmedian(np.where(empty[:, None], 0.0, window), axis=1))
    age = (index - observed[last.clip(0)]).days.to_numpy()
    return np.where((last >= 0) & (age <= MACRO_MAX_AGE_DAYS), rate, np.nan)


def _strip_on(md: MarketData, index: pd.DatetimeIndex, calendar: str) -> pd.DataFrame:
    """Implied rate of every contract month as settled and published by each close.

    NaN where the latest known settlement is more than `FUTURES_MAX_AGE_DAYS` old.
    """
    closes = session_close(index, calendar)
    strip = {}
    # without a futures table (a user's own data) every value comes from the proxy
    futures = md.events.get("fed_funds_futures", pd.DataFrame(columns=["contract_month"]))
    for month, rows in futures.groupby("contract_month", sort=True):
        rows = rows.sort_values("known_at", kind="stable")
        pos = pd.DatetimeIndex(rows["known_at"]).searchsorted(closes, side="right") - 1
        take = pos.clip(0)
        age = (index - pd.DatetimeIndex(rows["date"])[take]).days
        fresh = (pos >= 0) & np.asarray(age <= FUTURES_MAX_AGE_DAYS)
        strip[str(month)] = np.where(fresh, rows["implied_rate"].to_numpy(float)[take], np.nan)
    out = pd.DataFrame(strip, index=index, columns=sorted(strip), dtype=float)
    out.columns.name = "contract_month"
    return out


def _meetings(md: MarketData) -> pd.DataFrame:
    """FOMC meetings (``date``, ``known_at``, ``change_bps``, ``scheduled``, ``held``) by
    statement time. ``scheduled``: on the calendar before it happened (not an inter-meeting
    action); ``held``: not a cancelled meeting (a scheduled meeting that was replaced, e.g.
    2020-03-18 by 2020-03-15, whose ``known_at`` is its replacing statement's)."""
    frame = md.event("fomc_meetings")
    if frame.empty:
        raise ValueError("fomc_meetings holds no meeting: the next FOMC meeting is unknown")
    unscheduled = frame["date"].dt.strftime("%Y-%m-%d").isin(UNSCHEDULED_MEETINGS)
    status = frame["status"] if "status" in frame.columns else pd.Series("", index=frame.index)
    out = frame[["date", "known_at", "change_bps"]].assign(
        scheduled=~unscheduled.to_numpy(), held=(status != "cancelled").to_numpy()
    )
    return out.sort_values("known_at", kind="stable").reset_index(drop=True)


def _next_meetings(
    planned: pd.DataFrame, closes: pd.DatetimeIndex
) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Position in ``planned`` and date of the first meeting whose statement is after each
    close (so on a meeting day, whose statement is at 14:00 ET, the following meeting)."""
    pos = pd.DatetimeIndex(planned["known_at"]).searchsorted(closes, side="right")
    dates = pd.DatetimeIndex(planned["date"], tz="UTC")
    if len(dates) == 0:
        return pos, pd.DatetimeIndex([pd.NaT] * len(closes), tz="UTC")
    return pos, dates[np.minimum(pos, len(dates) - 1)].where(pos < len(dates))


@register("cuts_priced", "25 bp Fed cuts priced per fed funds futures month: (EFFR - implied)/0.25")
def cuts_priced(md: MarketData, *, symbol: str = "SPY") -> pd.DataFrame:
    """Cuts priced by each contract month: (EFFR - implied rate) / 0.25, one column a month.

    Per session of ``symbol`` from the first session with a known settlement: EFFR as
    last published by the close (the previous day's rate) minus the contract's implied
    average rate (100 - settlement, the previous session's settlement), in 25 bp steps;
    positive = cuts priced, negative = hikes. NaN once a settlement is stale (expired).
    Columns are the contract months present in the data (``YYYY-MM``).
    """
    index, calendar = bars(md, symbol)
    strip = _strip_on(md, index, calendar)
    quoted = np.flatnonzero(strip.notna().any(axis=1).to_numpy())
    strip = strip.iloc[quoted[0] :] if len(quoted) else strip.iloc[:0]
    effr = _macro_on(md, "EFFR", strip.index, calendar, MACRO_MAX_AGE_DAYS)
    return strip.rsub(effr, axis=0) / (STEP_BP / 100)


# --- next-meeting odds per session ---------------------------------------------------------
def _fedwatch_changes(
    index: pd.DatetimeIndex,
    closes: pd.DatetimeIndex,
    next_meeting: pd.DatetimeIndex,
    strip: pd.DataFrame,
    effr: np.ndarray,
    meetings: pd.DataFrame,
) -> np.ndarray:
    """FedWatch expected change (bp) at the next meeting; NaN where futures cannot say."""
    out = np.full(len(index), np.nan)
    scheduled = {month_of(d) for d in meetings.loc[meetings["scheduled"], "date"]}
    extra = meetings.loc[~meetings["scheduled"]]
    months = pd.Series(next_meeting.strftime("%Y-%m"), index=index)
    for i in np.flatnonzero(months.isin(strip.columns).to_numpy() & ~next_meeting.isna()):
        implied = strip.iloc[i].dropna().to_dict()
        if months.iloc[i] not in implied:
            continue
        # an inter-meeting move counts once it happened (it was not on any calendar before)
        busy = scheduled | {month_of(d) for d in extra.loc[extra["known_at"] <= closes[i], "date"]}
        try:
            odds = fedwatch(next_meeting[i], implied, meeting_months=busy, current_rate=effr[i])
        except ValueError:
            continue  # e.g. a last-day meeting without a meeting-free next month
        out[i] = odds.expected_change_bp
    return out


def _bill_proxy_changes(
    index: pd.DatetimeIndex,
    policy: np.ndarray,
    bill: np.ndarray,
    floor: np.ndarray,
    meetings: pd.DataFrame,
    next_pos: np.ndarray,
) -> np.ndarray:
    """Proxy expected change (bp) at the next meeting from the 3-month bill (see docstring)."""
    planned = meetings["scheduled"].to_numpy()
    dates = pd.DatetimeIndex(meetings["date"])
    weight = np.zeros(len(index))
    pos = next_pos.copy()
    for _ in range(4):  # at most three meetings fit in 91 days
        ok = pos < len(dates)
        take = np.minimum(pos, len(dates) - 1)
        tau = (dates[take] - index).days.to_numpy() + 1  # the new rate applies the day after
        w = np.clip((BILL_HORIZON_DAYS - tau) / BILL_HORIZON_DAYS, 0.0, None)
        weight += np.where(ok & planned[take], w, 0.0)
        pos = pos + 1
    change = (bill - policy) / np.where(weight > 0, np.maximum(weight, MIN_HORIZON_WEIGHT), np.nan)
    change = np.where(np.isfinite(floor), np.maximum(change, -floor), change)
    return change * 100.0 + 0.0  # + 0.0 turns the -0.0 of a zero floor into 0.0


ODDS_COLUMNS = [
    "next_meeting",
    "method",
    "effr",
    "expected_change_bp",
    "prob_cut",
    "prob_hold",
    "prob_hike",
    "cuts_priced_2y",
]


@register("rate_cut_odds", "P(cut at the next FOMC meeting) per session: FedWatch, else bill proxy")
def rate_cut_odds(md: MarketData, *, symbol: str = "SPY") -> pd.DataFrame:
    """Odds of a cut at the next FOMC meeting, per session of ``symbol`` (from EFFR's start).

    Columns: ``next_meeting`` (date of the next scheduled meeting whose statement is not
    out by the close; inter-meeting actions such as 2020-03-23 never are one, a cancelled
    meeting is one until the announcement replacing it: 2020-03-18 until the 2020-03-15
    statement), ``method``, ``effr`` (percent, as published), ``expected_change_bp``,
    ``prob_cut`` / ``prob_hold`` / ``prob_hike`` (25 bp step split, sum to 1) and
    ``cuts_priced_2y`` ((EFFR - 2-year yield) / 0.25, context only).

    ``method = "fedwatch"``: `fedwatch` on the strip of settlements known at the close
    whenever the next meeting's month contract and an anchor are quoted (bundled data:
    2026-06-17 .. 2026-08-04). The same code serves any period once the futures table
    holds the contracts (e.g. updated from a live source).

    ``method = "proxy"`` otherwise: a proxy, not market odds. The 3-month bill (DGS3MO,
    converted to EFFR's act/360 basis) prices the average policy rate over 91 days;
    assuming the same expected change c at each scheduled meeting in that horizon, a
    change taking effect on day tau moves the average by c (91 - tau) / 91, so
    c = (bill - policy rate) / sum_meetings (91 - tau) / 91 (the sum floored at 0.5, so a
    meeting near the horizon's end cannot amplify bill noise more than 2x). The policy
    rate is the EFFR robust to its pre-2008 spikes (`_policy_rate`: median of the prints
    since the last statement). No cut below a zero lower limit of the target range is
    priced (DFEDTARL, known from the statement that set it: from the 2008-12-16 close,
    so not on the eve of that meeting). Bills trade rich in flights to quality (2007-08)
    and under the zero bound, so read the proxy as a direction. On the eve of the 140
    meetings 2009-2026 whose decision the calendar records, its expected change
    correlates 0.94 with the decision and has the sign of all 29 moves. ``method = "none"`` where neither is computable: stale inputs,
    or the session or two after a pre-2008 meeting (decision not in the calendar yet,
    EFFR not yet printed).

    The bundled check file (``fomc_implied_probabilities``) uses another convention:
    it chains meeting-month contracts from the target-range midpoint (r_start of each
    meeting = r_end of the previous one, rounded to 4 dp), never using meeting-free
    months as anchors, and it states odds against the current range; each row is dated
    the day after the settlement it uses. Here: METHODS.md anchors, odds against
    r_start. On the 2026-07-31 settlements (check rows of 2026-08-03) the September
    meeting reads P(hike) 0.7286 here (r_start = August contract 3.635) against 0.8144
    there (midpoint 3.625); tests/signals/test_fed_odds.py pins both.
    """
    index, calendar = bars(md, symbol)
    effr = _macro_on(md, "EFFR", index, calendar, MACRO_MAX_AGE_DAYS)
    known = np.flatnonzero(effr.notna().to_numpy())
    if len(known) == 0:  # nothing published yet: no rows, typed columns
        empty = {"next_meeting": pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")}
        return (
            pd.DataFrame(empty, index=index[:0])
            .reindex(columns=ODDS_COLUMNS)
            .astype({c: float for c in ODDS_COLUMNS[2:]})
        )
    index = index[known[0] :]
    effr = effr.loc[index].to_numpy()
    closes = session_close(index, calendar)

    meetings = _meetings(md)
    # the calendar (a cancelled meeting stays on it until the announcement replacing it)
    planned = meetings.loc[meetings["scheduled"]].reset_index(drop=True)
    next_pos, next_meeting = _next_meetings(planned, closes)
    decisions = meetings.loc[meetings["held"]].reset_index(drop=True)

    strip = _strip_on(md, index, calendar)
    futures = _fedwatch_changes(index, closes, next_meeting, strip, effr, meetings)
    bill = _macro_on(md, "DGS3MO", index, calendar, MACRO_MAX_AGE_DAYS).to_numpy()
    floor = _macro_on(md, "DFEDTARL", index, calendar, MACRO_MAX_AGE_DAYS).to_numpy()
    policy = _policy_rate(md, index, calendar, decisions)
    proxy = _bill_proxy_changes(index, policy, bill * MONEY_MARKET_BASIS, floor, planned, next_pos)
    two_year = _macro_on(md, "DGS2", index, calendar, MACRO_MAX_AGE_DAYS).to_numpy()

    change = np.where(np.isnan(futures), proxy, futures)
    method = np.where(~np.isnan(futures), "fedwatch", np.where(np.isnan(proxy), "none", "proxy"))
    cut, hold, hike = _split(change)
    return pd.DataFrame(
        {
            "next_meeting": next_meeting,
            "method": pd.array(method, dtype="str"),
            "effr": effr,
            "expected_change_bp": change,
            "prob_cut": cut,
            "prob_hold": hold,
            "prob_hike": hike,
            "cuts_priced_2y": (effr - two_year * MONEY_MARKET_BASIS) / (STEP_BP / 100),
        },
        index=index,
    )


# --- odds swings, tagged with Fed communications -------------------------------------------
SWING_COLUMNS = ["start", "end", "detected", "sessions", "from", "to", "change"]


def _check_swing_params(points: float, days: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int | float) or math.isnan(points):
        raise ValueError(f"points must be a number of percentage points, got {points!r}")
    if not 0 < points <= 100:
        raise ValueError(f"points must be in (0, 100] percentage points, got {points}")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise ValueError(f"days must be a whole number of sessions >= 1, got {days!r}")


def find_swings(
    odds_pct: pd.Series, *, points: float, days: int, groups: pd.Series | None = None
) -> pd.DataFrame:
    """Moves of at least ``points`` within ``days`` sessions, largest first, never overlapping.

    ``odds_pct``: odds in percent (0..100) per session. Every pair of sessions at most
    ``days`` apart, inside one run of equal ``groups`` labels without NaN, whose difference
    reaches ``points`` is a candidate; candidates are taken by size (then shorter, then
    earlier) while they share no session interval with one already taken (touching ends
    allowed: 80 -> 30 -> 80 is two swings). Columns: ``start``, ``end``, ``detected``
    (first session at which the move from ``start`` reached ``points``: the earliest a
    strategy could react), ``sessions``, ``from``, ``to``, ``change`` (percentage points).
    The selection is descriptive: which moves are maximal is known once the window passed.
    """
    _check_swing_params(points, days)
    values = odds_pct.to_numpy(dtype=float)
    n = len(values)
    labels = np.zeros(n, dtype=object) if groups is None else groups.to_numpy(dtype=object)
    if len(labels) != n:
        raise ValueError(f"groups has {len(labels)} rows, odds_pct {n}")
    if n < 2:
        return pd.DataFrame(columns=SWING_COLUMNS)
    nan = np.isnan(values)
    run = np.cumsum(np.r_[True, nan[1:] | nan[:-1] | (labels[1:] != labels[:-1])])
    pairs = [np.empty((0, 2), dtype=int)]
    for lag in range(1, min(days, n - 1) + 1):
        i = np.arange(n - lag)
        j = i + lag
        ok = (run[i] == run[j]) & ~nan[i] & ~nan[j]
        ok &= np.abs(values[j] - values[i]) >= points - _EPS
        pairs.append(np.column_stack([i[ok], j[ok]]))
    cand = np.concatenate(pairs)
    size = np.abs(values[cand[:, 1]] - values[cand[:, 0]])
    order = np.lexsort((cand[:, 0], cand[:, 1] - cand[:, 0], -size))
    taken = np.zeros(n, dtype=bool)  # taken[k]: the step from session k to k + 1
    rows = []
    for a, b in cand[order]:
        if taken[a:b].any():
            continue
        taken[a:b] = True
        reached = np.abs(values[a + 1 : b + 1] - values[a]) >= points - _EPS
        rows.append(
            {
                "start": odds_pct.index[a],
                "end": odds_pct.index[b],
                "detected": odds_pct.index[a + 1 + int(np.argmax(reached))],
                "sessions": int(b - a),
                "from": values[a],
                "to": values[b],
                "change": values[b] - values[a],
            }
        )
    out = pd.DataFrame(rows, columns=SWING_COLUMNS)
    return out.sort_values("start", kind="stable").reset_index(drop=True)


COMMUNICATION_COLUMNS = ["known_at", "date", "kind", "title", "speaker", "score"]


def _communications(md: MarketData) -> pd.DataFrame:
    """Dated Fed communications scored by `signals.fed_speak.communications`; columns
    `COMMUNICATION_COLUMNS`."""
    comms = communications(md).reset_index(drop=True)
    if "score" not in comms.columns:
        comms = comms.assign(score=np.nan)
    return comms[COMMUNICATION_COLUMNS].sort_values("known_at", kind="stable", ignore_index=True)


def _label(row: pd.Series) -> str:
    who = row["speaker"] if isinstance(row["speaker"], str) else "Fed"
    return f"{row['known_at']:%Y-%m-%d} {row['kind']}: {who} - {row['title']}"


def tag_communications(
    swings: pd.DataFrame, comms: pd.DataFrame, closes: pd.Series
) -> pd.DataFrame:
    """Add to ``swings`` the communications known in each swing's window.

    The window runs from the close of the session before ``start`` to the close of
    ``end`` (``closes``: close instant per session): futures settle after the NYSE close,
    so news on the start day can still move the next session's odds. Adds
    ``communications`` (tuple of "YYYY-MM-DD kind: speaker - title"),
    ``n_communications`` and ``comm_score`` (mean score of the scored ones, else NaN).
    """
    sessions = pd.DatetimeIndex(closes.index)
    known = pd.DatetimeIndex(comms["known_at"])
    labels, counts, scores = [], [], []
    for start, end in zip(swings["start"], swings["end"], strict=True):
        pos = sessions.get_loc(start)
        inside = known <= closes.loc[end]
        if pos > 0:
            inside &= known > closes.iloc[pos - 1]
        window = comms[inside]
        labels.append(tuple(_label(row) for _, row in window.iterrows()))
        counts.append(len(window))
        scored = window["score"].dropna()
        scores.append(float(scored.mean()) if len(scored) else np.nan)
    return swings.assign(communications=labels, n_communications=counts, comm_score=scores)


def odds_swings(
    md: MarketData, *, points: float = 30.0, days: int = 10, symbol: str = "SPY"
) -> pd.DataFrame:
    """Swings of `rate_cut_odds`' ``prob_cut``: ``points`` percentage points or more within
    ``days`` sessions, about one meeting and from one method (the odds jump when the next
    meeting rolls over or the method changes; neither is a swing); see `find_swings`.

    One row per swing: ``start``, ``end``, ``detected``, ``sessions``, ``from``, ``to``,
    ``change`` (percentage points), ``next_meeting``, ``method``, then the Fed
    communications known in its window (`tag_communications`): ``communications``,
    ``n_communications``, ``comm_score``. A swing is usable from ``detected``'s close.

    Not a signal: which of overlapping moves is kept (the largest first) depends on the
    odds after ``detected``, so this is a hindsight list of episodes for analysis and
    plots. Strategies use `odds_swing_events`, detected in real time.
    """
    _check_swing_params(points, days)
    odds = rate_cut_odds(md, symbol=symbol)
    groups = odds["method"] + " " + odds["next_meeting"].dt.strftime("%Y-%m-%d").fillna("")
    swings = find_swings(odds["prob_cut"] * 100, points=points, days=days, groups=groups)
    at_start = odds.loc[pd.DatetimeIndex(swings["start"]), ["next_meeting", "method"]]
    swings = swings.assign(**{c: at_start[c].to_numpy() for c in at_start.columns})
    closes = pd.Series(session_close(odds.index, md.calendar(symbol)), index=odds.index)
    return tag_communications(swings, _communications(md), closes)


def detect_swings(
    odds_pct: pd.Series, groups: pd.Series | None, *, points: float, days: int
) -> pd.DataFrame:
    """Odds swings a trader could flag in real time, one row per detection.

    Session t is an event when ``odds_pct`` (0..100) has moved by ``points`` or more from
    any of the previous ``days`` sessions of the same ``groups`` run (no NaN between),
    and no event fired in the ``days`` sessions before t. Columns: ``detected``,
    ``start`` (the session the largest such move is measured from), ``from``, ``to`` and
    ``change`` (percentage points, signed). Uses only values up to t.
    """
    _check_swing_params(points, days)
    values = odds_pct.to_numpy(dtype=float)
    n = len(values)
    labels = np.asarray(groups if groups is not None else np.zeros(n), dtype=object)
    nan = np.isnan(values)
    run = np.cumsum(np.r_[True, nan[1:] | nan[:-1] | (labels[1:] != labels[:-1])])
    best = np.zeros(n)
    best_lag = np.zeros(n, dtype=np.int64)
    for lag in range(1, min(days, n - 1) + 1):
        move = np.zeros(n)
        same = (run[lag:] == run[:-lag]) & ~nan[lag:] & ~nan[:-lag]
        move[lag:] = np.where(same, values[lag:] - values[:-lag], 0.0)
        better = np.abs(move) > np.abs(best)
        best = np.where(better, move, best)
        best_lag = np.where(better, lag, best_lag)
    last: int | np.intp
    events, last = [], -(days + 1)
    for i in np.flatnonzero(np.abs(best) >= points - 1e-9):
        if i - last > days:
            events.append(i)
            last = i
    at = np.asarray(events, dtype=np.int64)
    start = at - best_lag[at]
    return pd.DataFrame(
        {
            "detected": odds_pct.index[at],
            "start": odds_pct.index[start],
            "from": values[start],
            "to": values[at],
            "change": best[at],
        }
    )


@register("odds_swing_events", "Cut-odds swings detected in real time (>= points in <= days)")
def odds_swing_events(
    md: MarketData, *, points: float = 30.0, days: int = 10, symbol: str = "SPY"
) -> pd.DataFrame:
    """Rate-cut odds swings as a trader sees them: indexed by the session they are detected.

    `detect_swings` on `rate_cut_odds`' ``prob_cut`` (percentage points) within one
    method and one next meeting (a meeting rollover or a method change is not a swing),
    with the Fed communications known between the close before ``start`` and the
    detection session's close (`tag_communications`). Columns: ``start``, ``from``,
    ``to``, ``change``, ``next_meeting``, ``method``, ``communications``,
    ``n_communications``, ``comm_score``. Point in time: everything in a row is known at
    its session's close.
    """
    odds = rate_cut_odds(md, symbol=symbol)
    odds = odds.loc[odds["prob_cut"].notna()]
    groups = odds["method"] + " " + odds["next_meeting"].dt.strftime("%Y-%m-%d").fillna("")
    found = detect_swings(odds["prob_cut"] * 100, groups, points=points, days=days)
    at = pd.DatetimeIndex(found["detected"])
    found = found.assign(
        end=at,
        next_meeting=odds.loc[at, "next_meeting"].to_numpy(),
        method=odds.loc[at, "method"].to_numpy(),
    )
    closes = pd.Series(session_close(odds.index, md.calendar(symbol)), index=odds.index)
    tagged = tag_communications(found, _communications(md), closes)
    return tagged.set_index("detected").drop(columns="end")
