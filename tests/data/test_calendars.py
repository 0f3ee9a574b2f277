"""Calendars and multi-asset alignment: forward-filled prices are never tradable."""

from __future__ import annotations

import pandas as pd

from data.calendars import calendar_for, infer_calendar, periods_per_year, session_close


def test_calendar_defaults():
    assert calendar_for("SPY") == "XNYS"
    assert calendar_for("005930.KS") == "XKRX"
    assert calendar_for("BTC-USD") == "24/7" and calendar_for("BTC/USDT") == "24/7"
    assert periods_per_year("24/7") == 365 and periods_per_year("XNYS") == 252


def test_infer_calendar_from_weekends():
    assert infer_calendar(pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")) == "24/7"
    assert infer_calendar(pd.bdate_range("2024-01-01", periods=10, tz="UTC")) == "XNYS"


def test_session_close_instants():
    day = pd.DatetimeIndex(["2024-01-05", "2024-07-05"], tz="UTC")
    assert list(session_close(day, "XNYS").hour) == [21, 20]  # 16:00 New York, EST vs EDT
    assert list(session_close(day, "XKRX").hour) == [6, 6]  # 15:30 Seoul
    assert session_close(day, "24/7")[0] == pd.Timestamp("2024-01-06", tz="UTC")


def test_align_union_with_tradable_mask(bundle):
    md = bundle.between("2021-11-05", "2021-11-09")
    aligned = md.align(["SPY", "BTC-USD"])
    assert len(aligned.close) == 5  # Fri..Tue, union of 3 SPY sessions and 5 BTC days
    weekend = pd.Timestamp("2021-11-06", tz="UTC")
    assert not aligned.tradable.loc[weekend, "SPY"] and aligned.tradable.loc[weekend, "BTC-USD"]
    friday_close = md.price("SPY").loc["2021-11-05", "close"]
    assert aligned.close.loc[weekend, "SPY"] == friday_close  # valued at the last known price
    assert pd.isna(aligned.open.loc[weekend, "SPY"])
    assert aligned.tradable["BTC-USD"].all()


def test_align_at_close_orders_seoul_new_york_and_utc_days(bundle):
    md = bundle.between("2024-03-04", "2024-03-04")
    aligned = md.align(["005930.KS", "SPY", "BTC-USD"], at="close")
    first = aligned.tradable.idxmax()
    assert first["005930.KS"] < first["SPY"] < first["BTC-USD"]
