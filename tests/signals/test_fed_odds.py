"""Rate-cut odds: FedWatch arithmetic by hand, against the raw futures rows and the bundled
check file, the bill proxy by hand, point in time, and odds swings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.market import MarketData
from signals.fed import (
    cuts_priced,
    fedwatch,
    find_swings,
    meeting_rates,
    odds_swings,
    rate_cut_odds,
    step_probabilities,
)
from tests.signals.pit import assert_point_in_time, sample_times

ET = "America/New_York"
MM = 360 / 365  # Treasury yields (act/365) to EFFR's money-market basis (act/360)


@pytest.fixture(scope="module")
def odds(bundle):
    return rate_cut_odds(bundle)


@pytest.fixture(scope="module")
def closes(bundle):
    """Raw ZQ closes: settlement date x contract month."""
    futures = bundle.event("fed_funds_futures")
    return futures.pivot(index="date", columns="contract_month", values="close")


def macro(bundle, name, day):
    return float(bundle.macro[name].loc[day, "value"])


# --- FedWatch arithmetic on hand-worked numbers ---------------------------------------------
def test_meeting_mid_month_anchors_on_the_meeting_free_next_month():
    # 16 Sep 2026 (30 days): r_Sep = 16/30 r_start + 14/30 r_end, October has no meeting
    odds = fedwatch(
        "2026-09-16", {"2026-09": 3.50, "2026-10": 3.40}, meeting_months={"2026-09", "2026-11"}
    )
    assert odds.anchor == "next_month"
    assert odds.r_end == 3.40
    assert odds.r_start == pytest.approx((30 * 3.50 - 14 * 3.40) / 16)  # 3.5875
    assert odds.expected_change_bp == pytest.approx(-18.75)
    assert (odds.prob_cut, odds.prob_hold, odds.prob_hike) == pytest.approx((0.75, 0.25, 0.0))


def test_next_month_with_a_meeting_uses_the_previous_month_as_start():
    # 9 Jun 2027 (30 days), July has a meeting, May none: r_start = r_May = 3.50
    implied = {"2027-05": 3.50, "2027-06": 3.43, "2027-07": 3.20}
    odds = fedwatch("2027-06-09", implied, meeting_months={"2027-04", "2027-06", "2027-07"})
    assert odds.anchor == "previous_month"
    assert odds.r_start == 3.50
    assert odds.r_end == pytest.approx((30 * 3.43 - 9 * 3.50) / 21)  # 71.4 / 21 = 3.40
    assert odds.expected_change_bp == pytest.approx(-10.0)
    assert odds.steps == pytest.approx({0: 0.6, -1: 0.4})
    assert (odds.prob_cut, odds.prob_hold, odds.prob_hike) == pytest.approx((0.4, 0.6, 0.0))


def test_a_two_step_cut_splits_between_one_and_two_cuts():
    # 15 of 30 days at 4.00, then r_end: r_Sep = 3.8125 -> r_end = 3.625, -37.5 bp
    odds = fedwatch(
        "2026-09-15", {"2026-08": 4.00, "2026-09": 3.8125}, meeting_months={"2026-09", "2026-10"}
    )
    assert odds.r_end == pytest.approx(3.625)
    assert odds.expected_change_bp == pytest.approx(-37.5)
    assert odds.steps == pytest.approx({-2: 0.5, -1: 0.5})
    assert (odds.prob_cut, odds.prob_hold, odds.prob_hike) == pytest.approx((1.0, 0.0, 0.0))


def test_step_probabilities_for_hikes_and_no_change():
    assert step_probabilities(10.0) == pytest.approx({0: 0.6, 1: 0.4})
    assert step_probabilities(0.0) == {0: 1.0}
    assert step_probabilities(-50.0) == {-2: 1.0}


def test_nearest_meeting_without_neighbours_starts_from_todays_rate():
    odds = fedwatch("2026-07-29", {"2026-07": 3.6}, meeting_months=set(), current_rate=3.63)
    assert odds.anchor == "current_rate" and odds.r_start == 3.63
    assert odds.r_end == pytest.approx((31 * 3.6 - 29 * 3.63) / 2)


def test_missing_contract_or_anchor_fails_clearly():
    with pytest.raises(ValueError, match="no quote for the 2026-09 contract"):
        fedwatch("2026-09-16", {"2026-10": 3.4}, meeting_months=set())
    with pytest.raises(ValueError, match="no meeting-free neighbour month and no rate"):
        fedwatch("2026-09-16", {"2026-09": 3.5, "2026-10": 3.4}, meeting_months={"2026-10"})
    with pytest.raises(ValueError, match="last day"):
        meeting_rates("2026-09-30", 3.5, rate_before=3.6)
    with pytest.raises(ValueError, match="finite"):
        step_probabilities(float("nan"))


# --- real dates, by hand from the raw rows -------------------------------------------------
def test_september_odds_from_the_july_31_settlements(odds, closes):
    # the 2026-07-31 settlement (17:00 ET) is first seen at the 2026-08-03 close; the
    # 2026-09-16 meeting's next month (October) has a meeting, August has none
    aug, sep = 100 - closes.loc["2026-07-31", "2026-08"], 100 - closes.loc["2026-07-31", "2026-09"]
    assert (aug, sep) == pytest.approx((3.635, 3.72))
    r_end = (30 * sep - 16 * aug) / 14
    change = (r_end - aug) * 100
    assert change == pytest.approx(18.2142857)
    row = odds.loc["2026-08-03"]
    assert row["method"] == "fedwatch"
    assert row["next_meeting"] == pd.Timestamp("2026-09-16", tz="UTC")
    assert row["expected_change_bp"] == pytest.approx(change)
    assert row["prob_hike"] == pytest.approx(change / 25)  # 0.7286
    assert (row["prob_cut"], row["prob_hold"]) == pytest.approx((0.0, 1 - change / 25))


def test_july_odds_anchor_on_the_august_contract(odds, closes):
    # 2026-07-01 close sees the 2026-06-30 settlements; July 29 of 31, August has no meeting
    jul, aug = 100 - closes.loc["2026-06-30", "2026-07"], 100 - closes.loc["2026-06-30", "2026-08"]
    r_start = (31 * jul - 2 * aug) / 29
    row = odds.loc["2026-07-01"]
    assert row["next_meeting"] == pd.Timestamp("2026-07-29", tz="UTC")
    assert row["expected_change_bp"] == pytest.approx((aug - r_start) * 100)  # +8.28 bp


def test_meeting_day_close_looks_at_the_following_meeting(odds):
    # the 2026-07-29 statement (14:00 ET) precedes the close
    assert odds.loc["2026-07-28", "next_meeting"] == pd.Timestamp("2026-07-29", tz="UTC")
    assert odds.loc["2026-07-29", "next_meeting"] == pd.Timestamp("2026-09-16", tz="UTC")


# --- the bundled check file (heliar-k, FedWatch-style) ---------------------------------------
def test_check_file_rows_use_the_previous_days_settlements(bundle, closes):
    check = bundle.event("fomc_implied_probabilities")
    check = check.assign(month=pd.to_datetime(check["meeting_date"]).dt.strftime("%Y-%m"))
    for date, settled in [("2026-07-31", "2026-07-30"), ("2026-08-03", "2026-07-31")]:
        rows = check[check["date"] == pd.Timestamp(date, tz="UTC")]
        ours = closes.loc[settled, rows["month"]].to_numpy()
        np.testing.assert_allclose(rows["settlement"].to_numpy(), ours, atol=1e-9)


def test_check_file_is_reproduced_by_chaining_from_the_target_midpoint(bundle):
    """The check file chains meeting-month contracts: r_start of the first meeting is the
    target-range midpoint, each next r_start the previous post-meeting rate rounded to
    4 dp; odds are stated against the current range (cumulative over meetings)."""
    check = bundle.event("fomc_implied_probabilities")
    mid = (macro(bundle, "DFEDTARL", "2026-07-29") + macro(bundle, "DFEDTARU", "2026-07-29")) / 2
    assert mid == 3.625
    for _, rows in check.groupby("date"):
        start = mid
        for _, row in rows.iterrows():
            month = row["meeting_date"][:7]
            odds = fedwatch(
                row["meeting_date"],
                {month: row["implied_rate"]},
                meeting_months=set(),
                current_rate=start,
            )
            assert round(odds.r_end, 4) == pytest.approx(row["post_meeting_rate"], abs=1e-9)
            start = round(odds.r_end, 4)
            steps = step_probabilities((start - mid) * 100)
            hike = sum(p for k, p in steps.items() if k > 0)
            assert hike == pytest.approx(row["prob_hike"], abs=1e-4)
            assert steps.get(0, 0.0) == pytest.approx(row["prob_hold"], abs=1e-4)
            assert row["prob_cut"] == 0.0


def test_documented_difference_from_the_check_file(bundle, odds):
    """Same settlements (2026-07-31), September meeting: the check file (row of 2026-08-03)
    starts from the target midpoint 3.625, `rate_cut_odds` from the August contract 3.635
    (METHODS.md: the meeting-free previous month). That 1 bp start moves r_end by 16/14 bp
    and the odds by 8.6 points; with the midpoint as start `fedwatch` gives theirs."""
    check = bundle.event("fomc_implied_probabilities")
    theirs = check[
        (check["date"] == pd.Timestamp("2026-08-03", tz="UTC"))
        & (check["meeting_date"] == "2026-09-16")
    ].iloc[0]
    assert theirs["prob_hike"] == pytest.approx(0.8144)
    ours = odds.loc["2026-08-03", "prob_hike"]
    assert ours == pytest.approx(0.728571, abs=1e-6)
    midpoint_start = fedwatch(
        "2026-09-16", {"2026-09": 3.72}, meeting_months=set(), current_rate=3.625
    )
    # they round the post-meeting rate to 4 dp before stating odds (3.82857 -> 3.8286)
    assert round(midpoint_start.r_end, 4) == pytest.approx(theirs["post_meeting_rate"])
    assert (round(midpoint_start.r_end, 4) - 3.625) / 0.25 == pytest.approx(theirs["prob_hike"])
    assert midpoint_start.prob_hike == pytest.approx(theirs["prob_hike"], abs=2e-4)


# --- cuts priced per contract month ----------------------------------------------------------
def test_cuts_priced_by_hand(bundle, closes):
    cp = cuts_priced(bundle)
    # the first settlement (2024-07-31, 17:00 ET) is first seen at the 2024-08-01 close,
    # with the 2024-07-31 EFFR published that morning
    assert cp.index[0] == pd.Timestamp("2024-08-01", tz="UTC")
    effr = macro(bundle, "EFFR", "2024-07-31")
    implied = 100 - closes.loc["2024-07-31", "2026-07"]
    assert cp.loc["2024-08-01", "2026-07"] == pytest.approx((effr - implied) / 0.25)  # 7.56
    assert implied != 100 - closes.loc["2024-08-01", "2026-07"]  # so not the same-day close
    # 2026-07-31 close: 2026-07-30 settlement and EFFR
    effr = macro(bundle, "EFFR", "2026-07-30")
    implied = 100 - closes.loc["2026-07-30", "2026-12"]
    assert cp.loc["2026-07-31", "2026-12"] == pytest.approx((effr - implied) / 0.25)  # -1.2
    assert cp.loc["2026-08-05"].isna().all()  # the last settlement (07-31) is stale by then


# --- method column and the bill proxy --------------------------------------------------------
def test_method_switches_with_the_futures_strip(odds):
    assert odds.loc["2026-06-16", "method"] == "proxy"  # next meeting June: no contract
    fedwatch_days = odds.index[odds["method"] == "fedwatch"]
    assert fedwatch_days[0] == pd.Timestamp("2026-06-17", tz="UTC")
    assert fedwatch_days[-1] == pd.Timestamp("2026-08-04", tz="UTC")
    assert odds.loc["2026-08-05", "method"] == "proxy"  # futures end on 2026-07-31
    assert odds.index[0] == pd.Timestamp("2000-07-05", tz="UTC")  # first EFFR print known
    assert set(odds["method"]) == {"proxy", "fedwatch", "none"}
    probs = odds[["prob_cut", "prob_hold", "prob_hike"]]
    valid = odds["method"] != "none"
    assert probs[valid].notna().all().all() and probs[~valid].isna().all().all()
    np.testing.assert_allclose(probs[valid].sum(axis=1), 1.0)


def test_proxy_by_hand_from_the_bill_and_effr(bundle, odds):
    # 2024-08-20: EFFR prints since the 2024-07-31 statement all 5.33; the bill of the day;
    # meetings 2024-09-18 and 2024-11-07 take effect 30 and 80 days ahead
    effr = bundle.macro["EFFR"].loc["2024-08-13":"2024-08-19", "value"]
    assert (effr == 5.33).all()
    bill = macro(bundle, "DGS3MO", "2024-08-20") * MM
    weight = (91 - 30) / 91 + (91 - 80) / 91
    change = (bill - 5.33) / weight * 100
    row = odds.loc["2024-08-20"]
    assert row["method"] == "proxy"
    assert row["expected_change_bp"] == pytest.approx(change)  # -14.2 bp
    assert row["prob_cut"] == pytest.approx(-change / 25)
    assert row["cuts_priced_2y"] == pytest.approx(
        (5.33 - macro(bundle, "DGS2", "2024-08-20") * MM) / 0.25
    )


def test_proxy_right_after_a_cut_uses_the_decision(bundle, odds):
    # 2024-09-19: the latest print (09-18) predates the 50 bp cut, so 5.33 - 0.50; only the
    # 2024-11-07 meeting is in the horizon (50 days ahead): weight 41/91 floored at 0.5
    assert macro(bundle, "EFFR", "2024-09-18") == 5.33
    bill = macro(bundle, "DGS3MO", "2024-09-19") * MM
    change = (bill - 4.83) / 0.5 * 100
    assert odds.loc["2024-09-19", "expected_change_bp"] == pytest.approx(change)  # -19.2


def test_proxy_prices_no_cut_at_the_zero_lower_bound(bundle, odds):
    # 2012-06-14: median of the last five prints 0.17, bill 0.11 -> a cut by the formula,
    # but the target range's lower limit is 0
    prints = bundle.macro["EFFR"].loc["2012-06-07":"2012-06-13", "value"]
    assert prints.median() == 0.17 and macro(bundle, "DFEDTARL", "2012-06-14") == 0.0
    bill = macro(bundle, "DGS3MO", "2012-06-14") * MM
    weight = (91 - 7) / 91 + (91 - 49) / 91  # 2012-06-20 and 2012-08-01
    assert (bill - 0.17) / weight < 0
    row = odds.loc["2012-06-14"]
    assert row["expected_change_bp"] == 0.0 and row["prob_cut"] == 0.0


def with_futures(md, rows):
    """``md`` with extra futures rows (as if updated from a live source)."""
    futures = pd.concat([md.event("fed_funds_futures"), pd.DataFrame(rows)], ignore_index=True)
    return MarketData(md.prices, md.macro, {**md.events, "fed_funds_futures": futures}, md.info)


def test_futures_for_any_period_switch_the_method_to_fedwatch(bundle, odds):
    # a 2024-09-10 quote: September (meeting on the 18th) 5.23, October (no meeting) 5.08
    # -> r_start = (30 * 5.23 - 12 * 5.08) / 18 = 5.33, one full cut priced
    settled = pd.Timestamp("2024-09-10", tz="UTC")
    rows = [
        {
            "date": settled,
            "contract_month": m,
            "close": 100 - r,
            "implied_rate": r,
            "known_at": pd.Timestamp("2024-09-10 17:00", tz=ET).tz_convert("UTC"),
        }
        for m, r in (("2024-09", 5.23), ("2024-10", 5.08))
    ]
    updated = rate_cut_odds(with_futures(bundle, rows))
    row = updated.loc["2024-09-11"]
    assert row["method"] == "fedwatch"
    assert row["expected_change_bp"] == pytest.approx(-25.0)
    assert row["prob_cut"] == pytest.approx(1.0)
    # known after the 09-10 close; stale (over four days old) by 09-16
    assert list(updated.loc["2024-09-10":"2024-09-16", "method"]) == [
        "proxy",
        "fedwatch",
        "fedwatch",
        "fedwatch",
        "proxy",
    ]
    unchanged = updated.index.difference(updated.loc["2024-09-11":"2024-09-13"].index)
    pd.testing.assert_frame_equal(updated.loc[unchanged], odds.loc[unchanged])


def test_without_a_futures_table_every_value_is_the_proxy(bundle, odds):
    events = {k: v for k, v in bundle.events.items() if k != "fed_funds_futures"}
    alone = rate_cut_odds(MarketData(bundle.prices, bundle.macro, events, bundle.info))
    assert "fedwatch" not in set(alone["method"])
    proxy = odds["method"] == "proxy"
    pd.testing.assert_frame_equal(alone[proxy], odds[proxy])


# --- point in time ---------------------------------------------------------------------------
FED_TIMES = [
    pd.Timestamp("2026-07-29 13:00", tz=ET),  # before the statement
    pd.Timestamp("2026-07-29 16:30", tz=ET),  # after the close, before the settlement
    pd.Timestamp("2026-07-30 17:30", tz=ET),  # after the settlement
    pd.Timestamp("2024-09-19 12:00", tz=ET),  # the day after a cut
]


def test_rate_cut_odds_point_in_time(bundle):
    times = FED_TIMES + sample_times("2001-01-01", "2026-08-20", n=3, seed=4)
    assert_point_in_time(rate_cut_odds, bundle, times)


def test_cuts_priced_point_in_time(bundle):
    times = FED_TIMES[:3] + sample_times("2024-08-01", "2026-08-10", n=3, seed=5)
    assert_point_in_time(cuts_priced, bundle, times)


# --- odds swings -----------------------------------------------------------------------------
def test_swings_on_a_constructed_series():
    days = pd.date_range("2025-11-03", periods=10, freq="B", tz="UTC")
    pct = pd.Series([80, 75, 45, 30, 32, 60, 80, 80, 10, 50], index=days, dtype=float)
    groups = pd.Series(["a"] * 8 + ["b"] * 2, index=days)
    swings = find_swings(pct, points=30, days=3, groups=groups)
    expected = pd.DataFrame(
        {
            "start": days[[0, 3, 8]],
            "end": days[[3, 6, 9]],
            "detected": days[[2, 5, 9]],  # 45 is 35 below 80; 60 is exactly 30 above 30
            "sessions": [3, 3, 1],
            "from": [80.0, 30.0, 10.0],
            "to": [30.0, 80.0, 50.0],
            "change": [-50.0, 50.0, 40.0],
        }
    )
    pd.testing.assert_frame_equal(swings, expected)
    # without groups the 80 -> 10 drop across the group change is the largest swing
    ungrouped = find_swings(pct, points=30, days=3)
    assert list(ungrouped["change"]) == [-50.0, 50.0, -70.0, 40.0]
    # a NaN breaks a window: 80 -> 30 across it is no swing
    gap = pct.copy()
    gap.iloc[2] = np.nan
    first = find_swings(gap, points=30, days=3, groups=groups).iloc[0]
    assert (first["start"], first["end"], first["change"]) == (days[3], days[6], 50.0)


def test_swings_on_real_data_carry_the_fed_speak_in_their_window(bundle):
    swings = odds_swings(bundle, points=30, days=10)
    assert (swings["change"].abs() >= 30).all() and (swings["sessions"] <= 10).all()
    # December 2025: the odds of a December cut climb back (the articles' episode)
    dec = swings[swings["next_meeting"] == pd.Timestamp("2025-12-10", tz="UTC")]
    up = dec[dec["change"] > 0].iloc[0]
    assert up["start"] == pd.Timestamp("2025-11-20", tz="UTC")
    assert up["change"] >= 60 and up["method"] == "proxy"
    # communications known from the close before the start to the close of the end
    opens = pd.Timestamp("2025-11-19 16:00", tz=ET)
    ends = pd.Timestamp(f"{up['end']:%Y-%m-%d} 16:00", tz=ET)
    raw = [
        bundle.event(n)["known_at"]
        for n in ("fomc_statements", "fomc_minutes", "fed_speeches_text", "fed_speeches_index")
    ]
    inside = sum(int(((k > opens) & (k <= ends)).sum()) for k in raw)
    assert up["n_communications"] == inside == len(up["communications"]) > 0
    assert any("2025-11-21 speech: Cook" in c for c in up["communications"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": 0, "days": 5}, r"points must be in \(0, 100\]"),
        ({"points": 150, "days": 5}, r"points must be in \(0, 100\]"),
        ({"points": float("nan"), "days": 5}, "points must be a number"),
        ({"points": "30", "days": 5}, "points must be a number"),
        ({"points": 30, "days": 0}, "days must be a whole number of sessions >= 1"),
        ({"points": 30, "days": 2.5}, "days must be a whole number"),
        ({"points": 30, "days": True}, "days must be a whole number"),
    ],
)
def test_bad_swing_parameters_raise(bundle, kwargs, message):
    pct = pd.Series([10.0, 50.0], index=pd.date_range("2025-01-01", periods=2, tz="UTC"))
    with pytest.raises(ValueError, match=message):
        find_swings(pct, **kwargs)
    with pytest.raises(ValueError, match=message):
        odds_swings(bundle, **kwargs)


def test_swing_events_are_point_in_time(bundle):
    from signals.fed import odds_swing_events

    events = odds_swing_events(bundle)
    assert len(events) > 20 and events.index.is_monotonic_increasing
    odds = rate_cut_odds(bundle)
    for at, row in events.head(5).iterrows():  # from/to read off the odds by hand
        assert row["to"] == pytest.approx(100 * odds.loc[at, "prob_cut"])
        assert row["from"] == pytest.approx(100 * odds.loc[row["start"], "prob_cut"])
        assert abs(row["change"]) >= 30 - 1e-9
        assert odds.loc[row["start"], "next_meeting"] == odds.loc[at, "next_meeting"]
    times = sample_times("2008-01-01", "2026-08-01", n=5, seed=3)
    assert_point_in_time(odds_swing_events, bundle, times)


def test_detect_swings_by_hand():
    from signals.fed import detect_swings

    idx = pd.date_range("2024-01-01", periods=8, tz="UTC")
    odds = pd.Series([80.0, 70.0, 45.0, 30.0, 35.0, 60.0, 80.0, 82.0], index=idx)
    out = detect_swings(odds, None, points=30, days=2)
    # 80 -> 45 (-35) on day 2; then 30 -> 60 (+30) on day 5, three days later
    assert out["detected"].tolist() == [idx[2], idx[5]]
    assert out["change"].tolist() == [-35.0, 30.0]
    assert out["start"].tolist() == [idx[0], idx[3]]
    groups = pd.Series(["a"] * 5 + ["b"] * 3, index=idx)  # a new meeting on day 5
    assert detect_swings(odds, groups, points=30, days=2)["detected"].tolist() == [idx[2]]
