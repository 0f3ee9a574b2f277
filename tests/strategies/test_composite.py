"""The composite book: its target is the share-weighted sum of its sleeves' targets,
checked against each sleeve run on its own, on real New York closes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import flowbt
from data.calendars import session_close
from strategies.composite import DEFAULT_SLEEVES, Composite
from strategies.registry import get_strategy

WINDOW = {"start": "2019-01-02", "end": "2021-12-31"}


def at_new_york_closes(frame: pd.DataFrame) -> pd.DataFrame:
    """A run's targets re-indexed by close instant (single-calendar runs are indexed by
    session date)."""
    index = pd.DatetimeIndex(frame.index)
    if (index == index.normalize()).all():
        frame = frame.set_axis(session_close(index, "XNYS"))
    return frame


def test_book_target_is_the_share_weighted_sum_of_its_sleeves(bundle):
    book = flowbt.backtest("composite", bundle, **WINDOW)
    target = book.target_weights
    want = pd.DataFrame(0.0, index=target.index, columns=target.columns)
    begins = []
    for spec in DEFAULT_SLEEVES:
        alone = flowbt.backtest(spec.strategy, bundle, **WINDOW).target_weights
        alone = at_new_york_closes(alone)
        begins.append(alone.index[0])
        # the sleeve's standing target at each of the book's bars (its last decision)
        on_book = alone.reindex(alone.index.union(target.index)).ffill().reindex(target.index)
        want[alone.columns] += spec.weight * on_book.fillna(0.0).to_numpy()
    closes = session_close(pd.DatetimeIndex(pd.to_datetime(
        ["2019-05-08", "2020-03-16", "2020-03-23", "2021-01-04", "2021-06-30"]).tz_localize("UTC")),
        "XNYS")  # fmt: skip
    for when in closes:
        assert when in target.index
        np.testing.assert_allclose(target.loc[when], want.loc[when], atol=1e-12)
    # from the first bar every sleeve also has on its own (the book's merged calendar can
    # open earlier, e.g. with a crypto midnight before the first New York close)
    common = target.index >= max(begins)
    assert common.mean() > 0.99
    np.testing.assert_allclose(target[common].to_numpy(), want[common].to_numpy(), atol=1e-12)
    assert target.abs().sum(axis=1).max() <= 1.0 + 1e-12
    assert (target.diff().abs().sum(axis=1) > 0).sum() > 20  # the window switches


def test_book_holds_its_blend_and_both_simulators_agree(bundle):
    ev = flowbt.backtest("composite", bundle, **WINDOW)
    vec = flowbt.backtest("composite", bundle, mode="vector", **WINDOW)
    np.testing.assert_allclose(ev.equity, vec.equity, rtol=1e-9)
    assert ev.orders["status"].tolist() == vec.orders["status"].tolist()
    assert ev.stats()["longest_off_target_days"] <= 5


def test_sleeve_shares_and_names_are_checked():
    with pytest.raises(ValidationError, match="sum to 1.2"):
        Composite({"sleeves": [{"strategy": "cta_trend", "weight": 0.6}] * 2})
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        Composite({"sleeves": [{"strategy": "nope", "weight": 0.5}]})
    with pytest.raises(ValidationError, match="another composite"):
        Composite({"sleeves": [{"strategy": "composite", "weight": 0.5}]})
    book = get_strategy("composite")()
    assert [s.name for _, s in book.sleeves] == [s.strategy for s in DEFAULT_SLEEVES]
    assert sum(w for w, _ in book.sleeves) == pytest.approx(1.0)
