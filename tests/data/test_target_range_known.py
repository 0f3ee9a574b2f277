"""When the target range (DFEDTARU/DFEDTARL) and IORB became known: at the FOMC
announcement that set them, never the day before a value announced on its own effective
day.

Published facts: the range was introduced by the statement of 2008-12-16 (14:15 ET) and
FRED dates its first row 2008-12-16; the 2015-12-16 and 2016-12-14 hikes are dated on the
statement day, later moves on the day after the statement (14:00 ET); the cut of Sunday
2020-03-15 was released at 17:00 ET and is effective 2020-03-16.
"""

from __future__ import annotations

import pandas as pd
import pytest

from data.publication import known_at, lag_for

ET = "America/New_York"
ANNOUNCED = ("DFEDTARU", "DFEDTARL", "IORB")


def _et(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=ET).tz_convert("UTC")


@pytest.mark.parametrize(
    ("name", "obs", "expected"),
    [
        ("DFEDTARL", "2008-12-16", "2008-12-16 14:15"),  # introduced that afternoon
        ("DFEDTARU", "2008-12-16", "2008-12-16 14:15"),
        ("DFEDTARU", "2008-12-17", "2008-12-16 14:15"),  # the day after the statement
        ("DFEDTARU", "2008-12-18", "2008-12-18 00:00"),  # standing value: its own day
        ("DFEDTARU", "2015-12-16", "2015-12-16 14:00"),  # hike dated on the statement day
        ("DFEDTARU", "2016-12-14", "2016-12-14 14:00"),
        ("DFEDTARU", "2020-03-16", "2020-03-15 17:00"),  # Sunday statement, 5 p.m.
        ("DFEDTARU", "2020-03-14", "2020-03-14 00:00"),
        ("DFEDTARU", "2024-09-19", "2024-09-18 14:00"),  # effective the day after
        ("IORB", "2024-09-19", "2024-09-18 14:00"),
    ],
)
def test_target_range_is_known_at_its_announcement(bundle, name, obs, expected):
    assert bundle.macro[name].loc[obs, "known_at"] == _et(expected)
    # the same rule without the bundle loader (the FRED cache path calls this)
    assert known_at(pd.DatetimeIndex([obs]), lag_for(name))[0] == _et(expected)


@pytest.mark.parametrize("name", ANNOUNCED)
def test_every_change_is_known_at_a_statement_on_its_day_or_the_day_before(bundle, name):
    frame = bundle.macro[name]
    statements = set(
        pd.DatetimeIndex(bundle.event("fomc_statements")["known_at"]).as_unit("ns").asi8
    )
    values = frame["value"]
    changed = values.ne(values.shift())  # the first row is a change (nothing before it)
    for day, at in frame.loc[changed, "known_at"].items():
        assert at.as_unit("ns").value in statements, (
            f"{name} {day.date()}: known {at}, not at a statement"
        )
        local = at.tz_convert(ET).tz_localize(None).normalize()
        assert local in (pd.Timestamp(day.date()), pd.Timestamp(day.date()) - pd.Timedelta("1D"))
    known = pd.DatetimeIndex(frame["known_at"])
    assert known.is_monotonic_increasing
    end_of_day = (frame.index.tz_localize(None) + pd.Timedelta("1D")).tz_localize(ET)
    assert (known < end_of_day).all()  # nothing is known after its effective day
    start_of_eve = (frame.index.tz_localize(None) - pd.Timedelta("1D")).tz_localize(ET)
    assert (known >= start_of_eve).all()


@pytest.mark.parametrize(
    ("name", "when", "expected"),
    [
        ("DFEDTARL", "2008-12-16 14:14", None),
        ("DFEDTARL", "2008-12-16 14:15", 0.0),
        ("DFEDTARU", "2015-12-16 13:59", 0.25),
        ("DFEDTARU", "2015-12-16 14:00", 0.50),
        ("DFEDTARU", "2020-03-15 16:59", 1.25),
        ("DFEDTARU", "2020-03-15 17:00", 0.25),
    ],
)
def test_as_of_sees_the_range_from_its_announcement(bundle, name, when, expected):
    seen = bundle.as_of(_et(when)).macro[name]["value"]
    if expected is None:
        assert seen.empty
    else:
        assert seen.iloc[-1] == expected


def test_the_eve_of_the_2008_12_16_meeting_knows_no_range(bundle):
    assert bundle.as_of("2008-12-15").macro["DFEDTARL"].empty
    assert bundle.as_of("2008-12-15").macro["DFEDTARU"].empty
    bars = bundle.price("SPY").loc["2008-12-15":"2008-12-16"].index
    seen = bundle.series_on("DFEDTARL", bars)
    assert seen.isna().iloc[0] and seen.iloc[1] == 0.0  # the 16:00 close follows 14:15


def test_lag_describes_the_announcement_rule():
    for name in ANNOUNCED:
        text = lag_for(name).describe()
        assert "FOMC" in text and "announce" in text
