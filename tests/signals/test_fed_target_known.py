"""The bill proxy on the eve of the 2008-12-16 meeting: the target range introduced by
that meeting's statement (14:15 ET on 2008-12-16) is not known at the 2008-12-15 close, so
it cannot floor the cut odds priced that day."""

from __future__ import annotations

import pandas as pd
import pytest

from data.market import MarketData
from signals.fed import rate_cut_odds
from tests.signals.pit import assert_point_in_time

ET = "America/New_York"
MM = 360 / 365  # Treasury yields (act/365) to EFFR's money-market basis (act/360)


@pytest.fixture(scope="module")
def odds(bundle):
    return rate_cut_odds(bundle)


def test_eve_of_the_range_prices_a_cut_by_hand(bundle, odds):
    # 2008-12-15 close: EFFR prints 12-08 .. 12-12 (the last published 12-15 09:00), all
    # after the 2008-10-29 statement: median 0.13; the bill of the day 0.03; meetings
    # 2008-12-16 and 2009-01-28 take effect 2 and 45 days ahead (2009-03-18: beyond 91)
    prints = bundle.macro["EFFR"].loc["2008-12-08":"2008-12-12", "value"]
    assert list(prints) == [0.12, 0.13, 0.11, 0.14, 0.15]
    bill = float(bundle.macro["DGS3MO"].loc["2008-12-15", "value"])
    assert bill == 0.03
    weight = (91 - 2) / 91 + (91 - 45) / 91
    change = (bill * MM - 0.13) / weight * 100
    row = odds.loc["2008-12-15"]
    assert row["method"] == "proxy"
    assert row["next_meeting"] == pd.Timestamp("2008-12-16", tz="UTC")
    assert row["expected_change_bp"] == pytest.approx(change)  # -6.77 bp, not floored at 0
    assert row["prob_cut"] == pytest.approx(-change / 25)  # 0.27
    assert row["prob_cut"] > 0


def test_eve_does_not_depend_on_the_target_range(bundle, odds):
    macro = {**bundle.macro, "DFEDTARL": bundle.macro["DFEDTARL"].iloc[:0]}
    without = rate_cut_odds(MarketData(bundle.prices, macro, bundle.events, bundle.info))
    pd.testing.assert_frame_equal(without.loc[:"2008-12-15"], odds.loc[:"2008-12-15"])
    # once the range is known (from the 2008-12-16 close) it floors the proxy at zero
    assert odds.loc["2008-12-18", "expected_change_bp"] == 0.0
    assert without.loc["2008-12-18", "expected_change_bp"] < 0


def test_range_introduction_is_point_in_time(bundle):
    times = [
        pd.Timestamp("2008-12-15 16:30", tz=ET),
        pd.Timestamp("2008-12-16 14:14", tz=ET),  # before the statement
        pd.Timestamp("2008-12-16 16:30", tz=ET),
        pd.Timestamp("2015-12-15 16:30", tz=ET),  # eve of the hike dated on its statement day
        pd.Timestamp("2015-12-16 16:30", tz=ET),
    ]
    assert_point_in_time(rate_cut_odds, bundle, times)
