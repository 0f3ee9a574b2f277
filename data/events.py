"""Publication instants of dated events (Fed communications, earnings, futures), and the
FOMC calendar corrections applied when the vendor event tables load.

Each event table carries a ``known_at`` column (UTC) computed here, so
`MarketData.as_of` and the signals can keep only what had been published.

FOMC calendar. ``fomc_meetings`` lists one row per policy announcement (dated by the
statement day, the last day of a meeting) plus the schedule ahead; ``fomc_statements``
one row per statement text. Checked against the FOMC's published historical calendar
(federalreserve.gov, "Meeting calendars and information"), the vendor tables have errors
that are corrected at load time by the explicit table `EVENT_CORRECTIONS`, never in the
bundled files; every correction applied is reported as a `Quirk` in `MarketData.quirks`
(rule: a row is redated or added only where the published calendar says so; outcome
columns a correction cannot source stay empty, never invented). Inter-meeting actions are
listed in `UNSCHEDULED_MEETINGS` (never on a calendar before they happened); a scheduled
meeting that was not held is a ``cancelled`` row (`CANCELLED_MEETINGS`), on the calendar
until the announcement that replaced it.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from data.errors import DataError
from data.publication import ET, PublicationLag, known_at, lag_for, set_fomc_announcements
from data.validate import Quirk

# Minutes come out three weeks after the decision at 14:00 ET; where the Fed moved
# the release because the third Wednesday/Thursday fell on a holiday, the real date:
MINUTES_RELEASES: dict[str, str] = {
    "2024-11-07": "2024-11-26",  # three weeks later was Thanksgiving
    "2025-12-10": "2025-12-30",  # released before the New Year's Eve/Day break
}
# Inter-meeting (unscheduled) FOMC actions: nobody knew of them before they happened.
UNSCHEDULED_MEETINGS: frozenset[str] = frozenset(
    [
        "2001-01-03",
        "2001-04-18",
        "2001-09-17",
        "2007-08-10",  # conference calls listed among meetings (liquidity, discount rate)
        "2007-08-17",
        "2008-01-22",
        "2008-03-11",
        "2008-10-08",
        "2010-05-09",
        "2020-03-03",
        "2020-03-15",  # held in place of the scheduled 17-18 March meeting
        "2020-03-23",  # 08:00 ET announcement (Treasury/MBS purchases "in the amounts needed")
    ]
)
# Scheduled meetings that were not held -> the (unscheduled) announcement that replaced
# them; the cancellation is known from that announcement's release.
CANCELLED_MEETINGS: dict[str, str] = {"2020-03-18": "2020-03-15"}
# Statements released later than the usual 14:15 ET (to 2012) / 14:00 ET (from 2013):
# the real Eastern release time. Only later times are listed (an earlier real release,
# e.g. 2020-03-23 at 08:00, keeps the usual time: late, never early).
STATEMENT_RELEASES: dict[str, time] = {
    "2020-03-15": time(17, 0),  # Sunday, "For release at 5:00 p.m. EDT"
}
SCHEDULE_HORIZON = pd.Timedelta(days=365)  # the FOMC publishes its calendar about a year ahead
_BUNDLED_EVENTS = Path(__file__).resolve().parent / "bundled" / "events"


class EventCorrection(NamedTuple):
    """One load-time correction of a vendor event table against the FOMC's calendar."""

    table: str  # "fomc_meetings" or "fomc_statements"
    action: Literal["redate", "add"]
    date: str  # the vendor's date (redate) or the added row's date (add)
    new_date: str | None  # redate: the published date
    status: str | None  # add: the row's status
    reason: str


EVENT_CORRECTIONS: tuple[EventCorrection, ...] = (
    EventCorrection(
        "fomc_meetings",
        "redate",
        "2007-06-18",
        "2007-06-28",
        None,
        "meeting of June 27-28, 2007 (statement June 28: target kept at 5-1/4%); "
        "the vendor dates it June 18",
    ),
    EventCorrection(
        "fomc_statements",
        "redate",
        "2007-06-18",
        "2007-06-28",
        None,
        "the text is the statement of June 28, 2007 (meeting of June 27-28); "
        "the vendor dates it June 18",
    ),
    EventCorrection(
        "fomc_meetings",
        "add",
        "2008-09-16",
        None,
        "held_statement_released",
        "scheduled meeting of September 16, 2008 (target kept at 2%) missing; "
        "no statement text in the bundle, outcome columns empty like every row before 2008-12",
    ),
    EventCorrection(
        "fomc_meetings",
        "add",
        "2008-10-08",
        None,
        "held_statement_released",
        "inter-meeting cut of October 8, 2008 (50 bp to 1-1/2%, coordinated with five "
        "central banks; conference call of October 7) missing; outcome columns empty",
    ),
    EventCorrection(
        "fomc_meetings",
        "add",
        "2020-03-18",
        None,
        "cancelled",
        "scheduled meeting of March 17-18, 2020 (tentative schedule of 2019-05-20) missing; "
        "replaced by the unscheduled meeting of March 15, known from that statement",
    ),
)


def _redate(frame: pd.DataFrame, fix: EventCorrection) -> pd.DataFrame | None:
    old = pd.Timestamp(fix.date, tz="UTC")
    new = pd.Timestamp(fix.new_date, tz="UTC")
    hit = frame["date"] == old
    if not hit.any() or (frame["date"] == new).any():
        return None  # already right (a rebuilt vendor table): nothing to do
    out = frame.copy()
    out.loc[hit, "date"] = new
    return out


def _add(frame: pd.DataFrame, fix: EventCorrection) -> pd.DataFrame | None:
    day = pd.Timestamp(fix.date, tz="UTC")
    if (frame["date"] == day).any():
        return None
    row: dict[str, list[object]] = {c: [np.nan] for c in frame.columns if c != "date"}
    row["date"] = [day]
    if "status" in frame.columns:
        row["status"] = [fix.status]
    added = pd.DataFrame(row).astype(frame.dtypes.to_dict())
    return pd.concat([frame, added], ignore_index=True)


def correct_events(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Quirk]]:
    """``frame`` with the `EVENT_CORRECTIONS` of table ``name`` applied, sorted by date,
    and one `Quirk` per correction applied (a correction already true is skipped)."""
    quirks = []
    for fix in EVENT_CORRECTIONS:
        if fix.table != name:
            continue
        fixed = _redate(frame, fix) if fix.action == "redate" else _add(frame, fix)
        if fixed is None:
            continue
        frame = fixed
        day = fix.new_date or fix.date
        rule = (
            f"redated {fix.date} -> {fix.new_date} per the FOMC calendar"
            if fix.action == "redate"
            else f"added {fix.date} ({fix.status}) per the FOMC calendar"
        )
        quirks.append(Quirk(symbol=name, rule=rule, rows=1, first=day, last=day, detail=fix.reason))
    if quirks:
        frame = frame.sort_values("date", kind="stable", ignore_index=True)
    return frame, quirks


def _statement_known_at(dates: pd.Series) -> pd.Series:
    """FOMC statements: 14:15 ET until 2012, 14:00 ET from 2013 (`STATEMENT_RELEASES`
    where the real release was later)."""
    days = pd.DatetimeIndex(dates).tz_localize(None).normalize()
    minutes = np.where(days.year < 2013, 14 * 60 + 15, 14 * 60)
    for day, at in STATEMENT_RELEASES.items():
        minutes = np.where(days == pd.Timestamp(day), at.hour * 60 + at.minute, minutes)
    wall = days + pd.to_timedelta(minutes, unit="min")
    return pd.Series(wall.tz_localize(ET).tz_convert("UTC").as_unit("ns"), index=dates.index)


def _minutes_known_at(dates: pd.Series) -> pd.Series:
    days = pd.DatetimeIndex(dates).tz_localize(None).normalize()
    release = [
        pd.Timestamp(MINUTES_RELEASES.get(str(d.date()), d + pd.Timedelta(days=21))) for d in days
    ]
    lag = PublicationLag(at=time(14, 0))
    return pd.Series(known_at(pd.DatetimeIndex(release), lag), index=dates.index)


def _meetings_known_at(frame: pd.DataFrame) -> pd.Series:
    """Statement instants; a cancelled meeting is settled by its replacing statement."""
    dates = frame["date"]
    days = dates.dt.strftime("%Y-%m-%d")
    replaced = days.map(CANCELLED_MEETINGS)
    if "status" in frame.columns:
        replaced = replaced.where(frame["status"] == "cancelled")
    settled = pd.to_datetime(replaced.fillna(days), format="%Y-%m-%d").dt.tz_localize("UTC")
    return _statement_known_at(settled)


def event_known_at(name: str, frame: pd.DataFrame) -> pd.Series:
    """``known_at`` (UTC) of every row of the event table ``name``."""
    dates = frame["date"]
    if name == "fomc_statements":
        return _statement_known_at(dates)
    if name == "fomc_meetings":
        return _meetings_known_at(frame)
    if name == "fomc_minutes":
        return _minutes_known_at(dates)
    if name == "sp500_constituents":
        # membership is known from the day a company was added (survivorship: removed
        # members are absent); rows without a date count from the snapshot date
        filled = dates.fillna(pd.Timestamp("2026-08-08", tz="UTC"))
        return pd.Series(pd.DatetimeIndex(filled).as_unit("ns"), index=frame.index)
    return pd.Series(known_at(pd.DatetimeIndex(dates), lag_for(name)), index=frame.index)


@lru_cache(maxsize=1)
def fomc_announcements() -> pd.DatetimeIndex:
    """Release instants (UTC, sorted, unique) of every FOMC policy announcement in the
    bundled tables: the corrected statements and the meetings held (not the schedule
    ahead, not cancelled meetings). Used to time the target range (`data.publication`)."""
    parts = []
    for name in ("fomc_statements", "fomc_meetings"):
        path = _BUNDLED_EVENTS / f"{name}.parquet"
        if not path.exists():  # never time the target range without its calendar
            raise DataError(
                "bundled FOMC table missing: the target range cannot be timed",
                file=path,
                hint="reinstall flowbt or run `python -m data.bundle_build`",
            )
        columns = ["date", "status"] if name == "fomc_meetings" else ["date"]
        raw = pd.read_parquet(path, columns=columns)
        raw["date"] = raw["date"].dt.as_unit("ns")
        frame, _ = correct_events(name, raw)
        if "status" in frame.columns:
            frame = frame.loc[~frame["status"].isin(["scheduled", "cancelled"])]
        parts.append(pd.DatetimeIndex(event_known_at(name, frame)))
    return parts[0].append(parts[1:]).unique().sort_values().as_unit("ns")


set_fomc_announcements(fomc_announcements)  # the target range is timed by this calendar


def meetings_as_of(frame: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """The FOMC calendar as seen at ``t``: held meetings with outcomes, then the schedule.

    Meetings within a year after ``t`` are listed as ``scheduled`` with their
    outcome blanked and ``known_at`` the statement time the schedule implies (so a
    later cancellation does not show); inter-meeting actions appear only once they
    happened; a cancelled meeting is ``scheduled`` until its replacing announcement.
    """
    known = frame["known_at"] <= t
    ahead = ~known & (frame["date"] <= t + SCHEDULE_HORIZON)
    unscheduled = frame["date"].dt.strftime("%Y-%m-%d").isin(UNSCHEDULED_MEETINGS)
    out = frame.loc[known | (ahead & ~unscheduled)].copy()
    future = out["known_at"] > t
    out.loc[future, ["target_lower_after", "target_upper_after", "change_bps"]] = np.nan
    out.loc[future, "status"] = "scheduled"
    out.loc[future, "known_at"] = _statement_known_at(out.loc[future, "date"])
    return out
