"""The point-in-time helper itself: it passes honest signals and catches look-ahead."""

from __future__ import annotations

import pytest

from tests.signals.pit import assert_point_in_time, sample_times

TIMES = sample_times("2019-01-01", "2021-01-01", n=6)


def test_passes_a_trailing_mean(bundle):
    assert_point_in_time(lambda md: md.price("SPY")["close"].rolling(5).mean(), bundle, TIMES)


def test_catches_a_centred_window(bundle):
    def peeking(md):
        return md.price("SPY")["close"].rolling(5, center=True).mean()

    with pytest.raises(AssertionError, match="differs from the full run"):
        assert_point_in_time(peeking, bundle, TIMES)


def test_catches_a_macro_value_used_before_publication(bundle):
    def by_observation_date(md):
        index = md.price("SPY").index
        return md.series("WALCL").reindex(index, method="ffill")

    with pytest.raises(AssertionError, match="differs from the full run"):
        assert_point_in_time(by_observation_date, bundle, TIMES)


def test_refuses_a_vacuous_pass(bundle):
    with pytest.raises(AssertionError, match="no value was compared"):
        assert_point_in_time(lambda md: md.price("SPY")["close"] * float("nan"), bundle, TIMES)
