"""The FOMC calendar against the FOMC's published meeting calendar, and the load-time
corrections of the vendor tables (each explicit, listed in `data.events`, reported as a
quirk).

Published facts used here (federalreserve.gov FOMC calendars; the tentative 2020 schedule
announced 2019-05-20): scheduled meetings end on the statement day; 2007: Jan 30-31,
Mar 20-21, May 9, Jun 27-28, Aug 7, Sep 18, Oct 30-31, Dec 11; 2008: Jan 29-30, Mar 18,
Apr 29-30, Jun 24-25, Aug 5, Sep 16, Oct 28-29, Dec 15-16 (plus the inter-meeting cut of
Oct 8); 2020: Jan 28-29, Mar 17-18, Apr 28-29, Jun 9-10, Jul 28-29, Sep 15-16, Nov 4-5,
Dec 15-16. The March 17-18, 2020 meeting was replaced by the unscheduled meeting of
Sunday March 15 (statement released 17:00 ET); March 3 and March 23, 2020 were
unscheduled announcements. Eight scheduled meetings a year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.bundle import BUNDLE_DIR
from data.events import UNSCHEDULED_MEETINGS, meetings_as_of

ET = "America/New_York"

SCHEDULED = {
    2007: ["01-31", "03-21", "05-09", "06-28", "08-07", "09-18", "10-31", "12-11"],
    2008: ["01-30", "03-18", "04-30", "06-25", "08-05", "09-16", "10-29", "12-16"],
    2020: ["01-29", "03-18", "04-29", "06-10", "07-29", "09-16", "11-05", "12-16"],
}


def _et(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=ET).tz_convert("UTC")


def _days(frame: pd.DataFrame) -> list[str]:
    return list(frame["date"].dt.strftime("%Y-%m-%d"))


def _scheduled(table: pd.DataFrame, year: int) -> list[str]:
    """Meetings of ``year`` that were on the calendar (held or cancelled, not inter-meeting)."""
    days = _days(table)
    return [d for d in days if d.startswith(str(year)) and d not in UNSCHEDULED_MEETINGS]


@pytest.mark.parametrize("year", sorted(SCHEDULED))
def test_scheduled_meetings_match_the_published_calendar(bundle, year):
    table = bundle.event("fomc_meetings")
    assert _scheduled(table, year) == [f"{year}-{d}" for d in SCHEDULED[year]]


def test_eight_scheduled_meetings_every_year(bundle):
    # every year with a statement after every meeting (from 2000) up to the last full year
    table = bundle.event("fomc_meetings")
    counts = {year: len(_scheduled(table, year)) for year in range(2000, 2027)}
    assert counts == dict.fromkeys(range(2000, 2027), 8)


def test_calendar_as_of_mid_february_2020_is_the_published_schedule(bundle):
    seen = meetings_as_of(bundle.event("fomc_meetings"), _et("2020-02-14 16:00"))
    ahead = seen[(seen["status"] == "scheduled") & (seen["date"].dt.year == 2020)]
    assert _days(ahead) == [f"2020-{d}" for d in SCHEDULED[2020][1:]]
    assert "2020-03-23" not in _days(seen)  # an unscheduled announcement, not on any calendar
    march = ahead.iloc[0]
    assert np.isnan(march["change_bps"])
    # the expected statement time, not when it was in fact cancelled (unknown in February)
    assert march["known_at"] == _et("2020-03-18 14:00")


def test_march_2020_meeting_is_cancelled_by_the_march_15_statement(bundle):
    table = bundle.event("fomc_meetings").set_index("date")
    row = table.loc[pd.Timestamp("2020-03-18", tz="UTC")]
    assert row["status"] == "cancelled"
    assert row["known_at"] == _et("2020-03-15 17:00")  # the statement that replaced it
    assert np.isnan(row["change_bps"]) and np.isnan(row["target_lower_after"])
    from data.events import CANCELLED_MEETINGS

    assert CANCELLED_MEETINGS == {"2020-03-18": "2020-03-15"}

    before = meetings_as_of(table.reset_index(), _et("2020-03-15 16:59")).set_index("date")
    assert before.loc[pd.Timestamp("2020-03-18", tz="UTC"), "status"] == "scheduled"
    assert pd.Timestamp("2020-03-15", tz="UTC") not in before.index
    after = meetings_as_of(table.reset_index(), _et("2020-03-15 17:01")).set_index("date")
    assert after.loc[pd.Timestamp("2020-03-18", tz="UTC"), "status"] == "cancelled"
    assert after.loc[pd.Timestamp("2020-03-15", tz="UTC"), "change_bps"] == -100
    following = after[after["status"] == "scheduled"].index[0]
    assert following == pd.Timestamp("2020-04-29", tz="UTC")


def test_march_23_2020_is_unscheduled(bundle):
    assert "2020-03-23" in UNSCHEDULED_MEETINGS
    table = bundle.event("fomc_meetings")
    assert "2020-03-23" not in _days(meetings_as_of(table, _et("2020-03-20 16:00")))
    assert "2020-03-23" in _days(meetings_as_of(table, _et("2020-03-23 16:00")))


def test_statement_release_instants(bundle):
    known = bundle.event("fomc_statements").set_index("date")["known_at"]
    assert known.loc["2007-06-28"] == _et("2007-06-28 14:15")
    assert known.loc["2020-03-15"] == _et("2020-03-15 17:00")  # Sunday, 5:00 p.m. EDT
    assert known.loc["2020-03-18":"2020-03-18"].empty  # no statement: the meeting was cancelled
    meetings = bundle.event("fomc_meetings").set_index("date")["known_at"]
    assert meetings.loc["2020-03-15"] == _et("2020-03-15 17:00")


def test_june_2007_statement_is_dated_june_28(bundle):
    # the text is the June 28, 2007 statement ("Economic growth appears to have been
    # moderate during the first half of this year"); the vendor dated it June 18
    statements = bundle.event("fomc_statements")
    assert "2007-06-18" not in _days(statements)
    june = statements[statements["date"] == pd.Timestamp("2007-06-28", tz="UTC")]
    assert "moderate during the first half of this year" in " ".join(june["text"].iloc[0].split())
    assert "2007-06-28" not in _days(bundle.as_of("2007-06-27").event("fomc_statements"))
    assert "2007-06-28" in _days(bundle.as_of("2007-06-28").event("fomc_statements"))


def test_2008_meetings_missing_from_the_vendor_table_are_added(bundle):
    table = bundle.event("fomc_meetings").set_index("date")
    sep = table.loc[pd.Timestamp("2008-09-16", tz="UTC")]
    assert sep["status"] == "held_statement_released"
    assert sep["known_at"] == _et("2008-09-16 14:15")
    assert np.isnan(sep["change_bps"])  # like every row before the 2008-12-16 range
    oct_ = table.loc[pd.Timestamp("2008-10-08", tz="UTC")]
    assert oct_["status"] == "held_statement_released" and "2008-10-08" in UNSCHEDULED_MEETINGS
    assert "2008-09-16" in _days(meetings_as_of(table.reset_index(), _et("2008-08-06 12:00")))


def test_corrections_are_load_time_listed_and_reported(bundle):
    """The bundled parquet is the vendor's; every difference of the loaded table is one
    listed correction, each reported in ``md.quirks``."""
    from data.events import EVENT_CORRECTIONS

    for name in ("fomc_meetings", "fomc_statements"):
        raw = set(pd.read_parquet(BUNDLE_DIR / "events" / f"{name}.parquet")["date"].dt.date)
        loaded = set(bundle.event(name)["date"].dt.date)
        listed = [c for c in EVENT_CORRECTIONS if c.table == name]
        removed = {pd.Timestamp(c.date).date() for c in listed if c.action == "redate"}
        added = {pd.Timestamp(c.new_date or c.date).date() for c in listed}
        assert raw - loaded == removed
        assert loaded - raw == added
        quirks = [q for q in bundle.quirks if q.symbol == name]
        assert len(quirks) == len(listed) > 0
        for q, c in zip(quirks, listed, strict=True):
            assert q.rows == 1 and q.first == (c.new_date or c.date) and c.reason in q.detail
    assert "2007-06-18" in {
        str(d)
        for d in pd.read_parquet(BUNDLE_DIR / "events" / "fomc_meetings.parquet")["date"].dt.date
    }  # the vendor file itself is untouched
