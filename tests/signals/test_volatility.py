"""VIX/VIX3M ratio on real sessions, spell detection, and point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signals.volatility import inversion_spells, vix_inversion, vix_term_structure
from tests.signals.pit import assert_point_in_time, sample_times


def test_ratio_on_2020_03_16_by_hand(bundle):
    vix = bundle.price("VIX").loc["2020-03-16", "close"]
    vix3m = bundle.price("VIX3M").loc["2020-03-16", "close"]
    assert (vix, vix3m) == (82.69, 67.7)
    assert vix_term_structure(bundle).loc["2020-03-16", "ratio"] == 82.69 / 67.7


def test_ratio_is_nan_without_vix3m(bundle):
    ts = vix_term_structure(bundle)
    assert ts.loc[:"2009-09-17", "ratio"].isna().all()
    assert ts["ratio"].first_valid_index() == pd.Timestamp("2009-09-18", tz="UTC")


def _series(values):
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), tz="UTC"))


def test_spells_on_a_constructed_series():
    ratio = _series([0.9, 1.1, 1.3, 1.2, 0.95, np.nan, 1.05, 0.8, 1.01, 1.02])
    spells = inversion_spells(ratio)
    assert spells["length"].tolist() == [3, 1, 2]
    assert spells["start"].tolist() == list(ratio.index[[1, 6, 8]])
    assert spells["end"].tolist() == list(ratio.index[[3, 6, 9]])
    assert spells["peak_ratio"].tolist() == [1.3, 1.05, 1.02]
    assert spells["peak_date"].tolist() == list(ratio.index[[2, 6, 9]])
    assert spells["ongoing"].tolist() == [False, False, True]
    assert inversion_spells(ratio, min_length=2)["length"].tolist() == [3, 2]
    assert inversion_spells(ratio, threshold=1.25)["length"].tolist() == [1]


def test_a_ratio_of_exactly_one_is_not_inverted():
    assert inversion_spells(_series([1.0, 1.0])).empty
    assert list(inversion_spells(_series([]))) == [
        "start",
        "end",
        "length",
        "peak_ratio",
        "peak_date",
        "ongoing",
    ]


def test_covid_spell_and_per_session_state_agree(bundle):
    state = vix_inversion(bundle)
    spells = inversion_spells(state["ratio"])
    covid = spells.loc[spells["start"] == pd.Timestamp("2020-02-24", tz="UTC")].iloc[0]
    assert covid["start"] <= pd.Timestamp("2020-03-16", tz="UTC") <= covid["end"]
    last = state.loc[covid["end"]]
    assert last["spell_day"] == covid["length"]
    assert last["spell_peak"] == covid["peak_ratio"]
    assert state.loc["2020-03-16", "spell_day"] == 16  # sessions since 2020-02-24
    # every spell of the table shows up as a run in the state, with the same lengths
    ends = state["spell_day"][(state["spell_day"] > 0) & (state["spell_day"].shift(-1) == 0)]
    assert sorted(ends.tolist()) == sorted(spells.loc[~spells["ongoing"], "length"].tolist())


TIMES = [
    *sample_times("2020-02-20", "2020-04-01", n=4, seed=2),
    *sample_times("2010-01-01", "2026-07-01", n=6, seed=3),
]


@pytest.mark.parametrize("fn", [vix_term_structure, vix_inversion], ids=["ratio", "inversion"])
def test_point_in_time(bundle, fn):
    assert_point_in_time(fn, bundle, TIMES)
