"""CTA trigger levels on real SPY closes, the flip property, vol-target flows, point in time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signals.cta import (
    LOOKBACKS,
    cta_position,
    cta_trigger_levels,
    trend_score_frame,
    trend_scores,
    vol_target_exposure,
)
from tests.signals.pit import assert_point_in_time, sample_times


@pytest.fixture(scope="module")
def spy(bundle) -> pd.Series:
    return bundle.price("SPY")["close"]


@pytest.fixture(scope="module")
def levels(bundle) -> pd.DataFrame:
    return cta_trigger_levels(bundle)


@pytest.mark.parametrize("day", ["2020-03-16", "2022-06-16", "2026-08-20"])
def test_trigger_is_the_mean_of_the_last_k_minus_1_closes(spy, levels, day):
    closes = spy.loc[:day].tolist()
    for k in LOOKBACKS:
        by_hand = math.fsum(closes[-(k - 1) :]) / (k - 1)
        assert levels.loc[day, f"trigger_{k}"] == pytest.approx(by_hand, rel=1e-12)


def _tomorrow(close: pd.Series, price: float) -> pd.Series:
    nxt = close.index[-1] + pd.Timedelta(days=1)
    return pd.concat([close, pd.Series([price], index=[nxt])])


@settings(max_examples=40, deadline=None)
@given(day=st.integers(300, 8000), k=st.sampled_from(LOOKBACKS), eps=st.floats(1e-6, 0.05))
def test_a_close_at_the_trigger_flips_that_lookback(spy, levels, day, k, eps):
    history = spy.iloc[day - 300 : day + 1]
    trigger = levels[f"trigger_{k}"].iloc[day]
    column = f"s_{k}"

    def score(price: float) -> float:
        return trend_score_frame(_tomorrow(history, price), [k])[column].iloc[-1]

    assert score(trigger * (1 + eps)) > 0
    assert score(trigger * (1 - eps)) < 0
    assert abs(score(trigger)) < 1e-9
    assert (
        np.sign(
            trend_score_frame(_tomorrow(history, trigger * (1 + eps)), [k], method="sign")[
                column
            ].iloc[-1]
        )
        == 1
    )


@settings(max_examples=30, deadline=None)
@given(day=st.integers(300, 8000))
def test_a_close_at_the_flip_level_flips_the_position(bundle, spy, day):
    history = spy.iloc[day - 300 : day + 1]
    flip = cta_trigger_levels(bundle, method="sign")["flip_level"].iloc[day]

    def score(price: float) -> float:
        frame = trend_score_frame(_tomorrow(history, price), method="sign")
        return float(frame.iloc[-1].mean())

    assert score(flip * (1 + 1e-7)) >= 0 > score(flip * (1 - 1e-7))


def test_scaled_flip_level_zeroes_the_score_at_todays_vol(bundle, spy, levels):
    day = spy.index.get_loc(pd.Timestamp("2022-06-16", tz="UTC"))
    flip = levels["flip_level"].iloc[day]
    sigma = np.log(spy).diff().iloc[day - 59 : day + 1].std()
    closes = spy.iloc[: day + 1].tolist() + [flip]
    total = 0.0
    for k in LOOKBACKS:
        ma = math.fsum(closes[-k:]) / k
        total += np.clip((flip - ma) / (sigma * flip * math.sqrt(k)), -1, 1) / len(LOOKBACKS)
    assert abs(total) < 1e-9
    lo = levels.iloc[day][[f"trigger_{k}" for k in LOOKBACKS]]
    assert lo.min() <= flip <= lo.max()


def test_position_is_the_clipped_vol_scaled_score(bundle):
    pos = cta_position(bundle, target_vol=0.10, max_leverage=2.0).dropna()
    scores = trend_scores(bundle).dropna()
    assert pos["position"].between(-1, 1).all() and (pos["leverage"] <= 2.0).all()
    np.testing.assert_allclose(pos["score"], scores.loc[pos.index].mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(
        pos["position"], (pos["score"] * pos["leverage"]).clip(-1, 1), atol=1e-12
    )
    with pytest.raises(ValueError, match="weights"):
        cta_position(bundle, weights=[0.5, 0.5])


def test_vol_target_exposure_by_hand_on_2020_02_24(bundle, spy):
    out = vol_target_exposure(bundle, target_vol=0.10, max_leverage=2.0, window=20)
    logs = np.log(spy.loc[:"2020-02-24"].to_numpy())
    vol = np.std(np.diff(logs)[-20:], ddof=1) * math.sqrt(252)
    assert out.loc["2020-02-24", "realised_vol"] == pytest.approx(vol, rel=1e-10)
    assert out.loc["2020-02-24", "exposure"] == pytest.approx(0.10 / vol, rel=1e-10)
    previous = out.loc["2020-02-21", "exposure"]
    assert out.loc["2020-02-24", "flow"] == pytest.approx(0.10 / vol - previous, rel=1e-10)
    assert out.loc["2020-02-24", "flow"] < 0  # volatility rose, the funds sold
    assert (out["exposure"].dropna() <= 2.0).all()
    usd = vol_target_exposure(bundle, aum=1e9)
    np.testing.assert_allclose(usd["flow_usd"], usd["flow"] * 1e9)


TIMES = sample_times("1995-01-01", "2026-08-01", n=8, seed=4)


@pytest.mark.parametrize(
    "fn",
    [
        trend_scores,
        cta_position,
        cta_trigger_levels,
        vol_target_exposure,
        lambda md: vol_target_exposure(md, symbol="BTC-USD", halflife=10),
    ],
    ids=["scores", "position", "triggers", "vol_target", "vol_target_btc_ewma"],
)
def test_point_in_time(bundle, fn):
    assert_point_in_time(fn, bundle, TIMES)
