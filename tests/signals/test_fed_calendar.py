"""`rate_cut_odds` follows the FOMC calendar as published: in early 2020 the next meeting
is the scheduled 17-18 March meeting (tentative schedule of 2019-05-20), never the
unscheduled announcement of 2020-03-23; after the 2020-03-15 statement, which replaced
the March meeting, the next one is 28-29 April."""

from __future__ import annotations

import pandas as pd
import pytest

from signals.fed import rate_cut_odds
from tests.signals.pit import assert_point_in_time

ET = "America/New_York"
MM = 360 / 365  # Treasury yields (act/365) to EFFR's money-market basis (act/360)


@pytest.fixture(scope="module")
def odds(bundle):
    return rate_cut_odds(bundle)


def _utc(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def test_next_meeting_on_2020_02_14_is_march_18(odds):
    assert odds.loc["2020-02-14", "next_meeting"] == _utc("2020-03-18")


def test_next_meeting_through_march_2020(odds):
    before = odds.loc["2020-01-30":"2020-03-13", "next_meeting"]
    assert (before == _utc("2020-03-18")).all()  # through both inter-meeting cuts' eves
    after = odds.loc["2020-03-16":"2020-04-28", "next_meeting"]
    assert (after == _utc("2020-04-29")).all()  # March 15 took the March meeting's place


def test_proxy_weights_the_march_18_meeting_by_hand(bundle, odds):
    # 2020-02-14 close: the five EFFR prints known (02-07 .. 02-13) are all 1.58; the bill
    # of the day; 2020-03-18 and 2020-04-29 take effect 34 and 76 days ahead
    prints = bundle.macro["EFFR"].loc["2020-02-07":"2020-02-13", "value"]
    assert len(prints) == 5 and (prints == 1.58).all()
    bill = float(bundle.macro["DGS3MO"].loc["2020-02-14", "value"]) * MM
    weight = (91 - 34) / 91 + (91 - 76) / 91
    change = (bill - 1.58) / weight * 100
    row = odds.loc["2020-02-14"]
    assert row["method"] == "proxy"
    assert row["expected_change_bp"] == pytest.approx(change)  # -2.74 bp
    assert row["prob_cut"] == pytest.approx(-change / 25)


def test_march_2020_odds_are_point_in_time(bundle):
    times = [
        pd.Timestamp("2020-02-14 16:30", tz=ET),
        pd.Timestamp("2020-03-03 12:00", tz=ET),
        pd.Timestamp("2020-03-15 16:59", tz=ET),  # before the Sunday statement
        pd.Timestamp("2020-03-15 17:01", tz=ET),
        pd.Timestamp("2020-03-23 12:00", tz=ET),
    ]
    assert_point_in_time(rate_cut_odds, bundle, times)
