"""The 10-year yield trend against the raw DGS10 rows, capital_scarcity, and point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.market import MarketData
from signals._align import rolling_zscore
from signals.liquidity import capital_scarcity
from signals.rates import yield_trend
from signals.registry import get_signal
from tests.signals.pit import assert_point_in_time, sample_times


def test_level_and_change_by_hand(bundle: MarketData) -> None:
    dgs10 = bundle.macro["DGS10"]["value"]
    trend = yield_trend(bundle)
    # published at 16:00 ET the same day: the SPY close of 2024-03-08 sees that day's yield
    assert trend.loc["2024-03-08", "yield"] == dgs10["2024-03-08"] == 4.09
    # 91 days before Friday 2024-03-08 is Friday 2023-12-08, a session
    assert trend.loc["2024-03-08", "change_bp"] == pytest.approx((4.09 - dgs10["2023-12-08"]) * 100)
    # 91 days before Monday 2024-03-11 is Monday 2023-12-11
    want = (dgs10["2024-03-11"] - dgs10["2023-12-11"]) * 100
    assert trend.loc["2024-03-11", "change_bp"] == pytest.approx(want)


def test_the_yield_is_not_seen_before_its_publication(bundle: MarketData) -> None:
    frame = bundle.macro["DGS10"]
    known = pd.Timestamp(frame.loc["2024-03-08", "known_at"])
    assert known == pd.Timestamp("2024-03-08 16:00", tz="America/New_York")
    as_of = yield_trend(bundle.as_of(known - pd.Timedelta(minutes=1)))
    assert pd.Timestamp("2024-03-08", tz="UTC") not in as_of.index  # SPY's bar not closed yet
    assert as_of["yield"].iloc[-1] == frame.loc["2024-03-07", "value"]


def test_is_capital_scarcitys_yield_trend_before_z_scoring(bundle: MarketData) -> None:
    trend = yield_trend(bundle)["change_bp"] / 100
    want = capital_scarcity(bundle)["yield_z"]
    got = rolling_zscore(trend, 3 * 365, 250)
    both = want.notna()
    assert both.sum() > 5000
    np.testing.assert_allclose(got[both], want[both], rtol=1e-9, atol=1e-12)


def test_registered_with_parameters(bundle: MarketData) -> None:
    spec = get_signal("yield_trend")
    assert spec.module == "signals.rates"
    short = spec(bundle, series="DGS2", days=28)
    dgs2 = bundle.macro["DGS2"]["value"]
    assert short.loc["2024-03-08", "change_bp"] == pytest.approx(
        (dgs2["2024-03-08"] - dgs2["2024-02-09"]) * 100
    )
    with pytest.raises(ValueError, match="days must be"):
        yield_trend(bundle, days=0)
    with pytest.raises(ValueError, match="unknown yield series 'DGS7'"):
        yield_trend(bundle, series="DGS7")


def test_point_in_time(bundle: MarketData) -> None:
    assert_point_in_time(
        lambda md: yield_trend(md), bundle, sample_times("2009-01-01", "2026-06-01", n=10)
    )
