"""Net liquidity against the raw FRED files, the publication shift, and point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signals.liquidity import (
    capital_scarcity,
    liquidity_drain,
    net_liquidity,
    net_liquidity_weekly,
)
from tests.signals.pit import assert_point_in_time, sample_times

WED = "2022-06-15"


@pytest.fixture(scope="module")
def raw(shared_data):
    def read(name):
        return pd.read_csv(shared_data / "macro" / f"{name}.csv", index_col="date")["value"]

    return {n: read(n) for n in ("WALCL", "WTREGEN", "RRPONTSYD")}


def test_wednesday_by_hand_from_the_raw_files(bundle, raw):
    # RRPONTSYD is in billions, the other two in millions
    expected = raw["WALCL"][WED] - raw["WTREGEN"][WED] - 1000 * raw["RRPONTSYD"][WED]
    assert expected == 8932420.0 - 656870.0 - 2162924.0
    row = net_liquidity_weekly(bundle).loc[WED]
    assert row["net_liquidity"] == expected
    assert row["known_at"] == pd.Timestamp("2022-06-16 16:30", tz="America/New_York")


def test_publication_shift_on_bars(bundle, raw):
    nl = net_liquidity(bundle)["net_liquidity"]
    # Thursday's close (16:00) precedes the H.4.1 (16:30): last week's balance sheet,
    # and Wednesday's reverse repo (published Thursday 09:00)
    thursday = raw["WALCL"]["2022-06-08"] - raw["WTREGEN"]["2022-06-08"]
    assert nl["2022-06-16"] == thursday - 1000 * raw["RRPONTSYD"]["2022-06-15"]
    friday = raw["WALCL"][WED] - raw["WTREGEN"][WED]
    assert nl["2022-06-17"] == friday - 1000 * raw["RRPONTSYD"]["2022-06-16"]


def test_crypto_bars_see_the_release_the_same_utc_day(bundle, raw):
    # the 2022-06-16 UTC day closes at 00:00 UTC = 20:00 ET, after the 16:30 release
    nl = net_liquidity(bundle, symbol="BTC-USD")
    assert nl.loc["2022-06-16", "walcl"] == raw["WALCL"][WED]
    assert nl.loc["2022-06-15", "walcl"] == raw["WALCL"]["2022-06-08"]


def test_reverse_repo_is_zero_before_daily_operations(bundle, raw):
    assert not raw["RRPONTSYD"].index.str.startswith("2010-06").any()
    row = net_liquidity_weekly(bundle).loc["2010-06-16"]
    assert row["rrp"] == 0.0
    assert row["net_liquidity"] == raw["WALCL"]["2010-06-16"] - raw["WTREGEN"]["2010-06-16"]
    assert net_liquidity(bundle).loc["2010-06-18", "rrp"] == 0.0


def test_four_week_change_looks_back_28_calendar_days(bundle):
    drain = liquidity_drain(bundle)
    nl = drain["net_liquidity"]
    assert drain.loc["2022-06-17", "change_4w"] == nl["2022-06-17"] - nl["2022-05-20"]
    # 2022-07-15 minus 28 days is Friday 2022-06-17, a session
    assert drain.loc["2022-07-15", "change_4w"] == nl["2022-07-15"] - nl["2022-06-17"]
    z = drain["z_13w"].dropna()
    assert z.index[0] > pd.Timestamp("2003-12-01", tz="UTC") and np.isfinite(z).all()


def test_capital_scarcity_is_the_mean_of_its_parts(bundle):
    cs = capital_scarcity(bundle)
    parts = cs[["drain_z", "yield_z", "credit_z"]]
    both = cs["composite"].notna()
    assert both.sum() > 4000
    np.testing.assert_allclose(cs.loc[both, "composite"], parts[both].mean(axis=1))
    assert cs["composite"].first_valid_index() > pd.Timestamp("2007-04-11", tz="UTC")


# H.4.1 Thursdays around the release (16:00, 16:45 ET) plus random instants
TIMES = [
    pd.Timestamp("2022-06-16 16:00", tz="America/New_York"),
    pd.Timestamp("2022-06-16 16:45", tz="America/New_York"),
    *sample_times("2008-01-01", "2026-08-01", n=6, seed=1),
]


@pytest.mark.parametrize(
    "fn",
    [
        net_liquidity,
        lambda md: net_liquidity(md, symbol="BTC-USD"),
        net_liquidity_weekly,
        liquidity_drain,
        capital_scarcity,
    ],
    ids=["net_liquidity", "net_liquidity_btc", "weekly", "drain", "scarcity"],
)
def test_point_in_time(bundle, fn):
    assert_point_in_time(fn, bundle, TIMES)
