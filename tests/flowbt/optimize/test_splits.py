"""Walk-forward and CPCV split layouts: hand-worked small cases, the paths matrix of
Lopez de Prado's N=6, k=2 example, purge/embargo, invariants and bad input."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from bt_helpers import PROPERTY
from hypothesis import given
from hypothesis import strategies as st

from flowbt.optimize.splits import Fold, cpcv_layout, walk_forward_folds


def r(start: int, stop: int) -> list[int]:
    return list(range(start, stop))


def trains(folds: list[Fold] | tuple[Fold, ...]) -> list[list[int]]:
    return [f.train.tolist() for f in folds]


def windows_of(folds: list[Fold] | tuple[Fold, ...]) -> list[list[int]]:
    return [f.test.tolist() for f in folds]


def leaks(fold: Fold, purge: int, embargo: int) -> list[int]:
    """Training bars with a test bar within ``purge`` bars after or ``embargo`` bars before."""
    test = set(fold.test.tolist())
    return [
        t
        for t in fold.train.tolist()
        if any(t + d in test for d in range(1, purge + 1))
        or any(t - d in test for d in range(1, embargo + 1))
    ]


# --- walk-forward: hand-worked -----------------------------------------------------------


def test_walk_forward_default_rolling_splits_into_equal_segments():
    # 10 bars, 4 folds -> 5 segments of 2: [0,1] [2,3] [4,5] [6,7] [8,9]
    folds = walk_forward_folds(10, 4)
    assert windows_of(folds) == [[2, 3], [4, 5], [6, 7], [8, 9]]
    assert trains(folds) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert all(f.test_groups == () for f in folds)


def test_walk_forward_default_anchored_trains_from_bar_zero():
    folds = walk_forward_folds(10, 4, anchored=True)
    assert windows_of(folds) == [[2, 3], [4, 5], [6, 7], [8, 9]]
    assert trains(folds) == [[0, 1], [0, 1, 2, 3], r(0, 6), r(0, 8)]


def test_walk_forward_purge_drops_the_last_training_bars_before_each_test_window():
    assert trains(walk_forward_folds(10, 4, purge=1)) == [[0], [2], [4], [6]]
    assert trains(walk_forward_folds(10, 4, anchored=True, purge=1)) == [
        [0],
        [0, 1, 2],
        r(0, 5),
        r(0, 7),
    ]
    # purge leaves the test windows alone
    assert windows_of(walk_forward_folds(10, 4, purge=1)) == [[2, 3], [4, 5], [6, 7], [8, 9]]


def test_walk_forward_uneven_segments_follow_array_split():
    # 11 bars in 3 segments: sizes 4, 4, 3
    folds = walk_forward_folds(11, 2)
    assert windows_of(folds) == [r(4, 8), r(8, 11)]
    assert trains(folds) == [r(0, 4), r(4, 8)]


def test_walk_forward_explicit_window_sizes_end_at_the_last_bar():
    # 12 bars, 3 tests of 2 ending at bar 11 -> tests start at 6; rolling trains 4 bars each
    folds = walk_forward_folds(12, 3, train_bars=4, test_bars=2)
    assert windows_of(folds) == [[6, 7], [8, 9], [10, 11]]
    assert trains(folds) == [r(2, 6), r(4, 8), r(6, 10)]
    anchored = walk_forward_folds(12, 3, train_bars=4, test_bars=2, anchored=True)
    assert windows_of(anchored) == [[6, 7], [8, 9], [10, 11]]
    assert trains(anchored) == [r(0, 6), r(0, 8), r(0, 10)]
    purged = walk_forward_folds(12, 3, train_bars=4, test_bars=2, purge=2)
    assert trains(purged) == [[2, 3], [4, 5], [6, 7]]


def test_walk_forward_one_window_size_given_derives_the_other():
    # test_bars only: training is everything before the first test window (10 - 2*3 = 4 bars)
    folds = walk_forward_folds(10, 2, test_bars=3)
    assert windows_of(folds) == [[4, 5, 6], [7, 8, 9]]
    assert trains(folds) == [r(0, 4), r(3, 7)]
    # train_bars only: the 11 - 4 = 7 remaining bars give tests of 7 // 3 = 2, starting at 5
    folds = walk_forward_folds(11, 3, train_bars=4)
    assert windows_of(folds) == [[5, 6], [7, 8], [9, 10]]
    assert trains(folds) == [r(1, 5), r(3, 7), r(5, 9)]


def test_walk_forward_embargo_removes_nothing_since_training_precedes_testing():
    plain = walk_forward_folds(12, 3, anchored=True, purge=1)
    embargoed = walk_forward_folds(12, 3, anchored=True, purge=1, embargo=5)
    assert trains(embargoed) == trains(plain) == [r(0, 2), r(0, 5), r(0, 8)]


def test_fold_arrays_are_int64_and_read_only():
    fold = walk_forward_folds(10, 4)[0]
    assert fold.train.dtype == np.int64 and fold.test.dtype == np.int64
    with pytest.raises(ValueError):
        fold.train[0] = 5


# --- CPCV: hand-worked --------------------------------------------------------------------


def test_cpcv_six_groups_two_tested_gives_fifteen_folds_and_five_paths():
    lay = cpcv_layout(12, 6, 2)
    assert [g.tolist() for g in lay.groups] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert len(lay.folds) == 15 and lay.n_paths == 5
    assert [f.test_groups for f in lay.folds[:6]] == [
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (0, 5),
        (1, 2),
    ]
    assert lay.folds[14].test_groups == (4, 5)
    assert lay.folds[1].test.tolist() == [0, 1, 4, 5]
    assert lay.folds[1].train.tolist() == [2, 3, 6, 7, 8, 9, 10, 11]
    # folds testing each group: g0 0-4; g1 0,5-8; g2 1,5,9-11; g3 2,6,9,12,13;
    # g4 3,7,10,12,14; g5 4,8,11,13,14 -> path p takes the p-th of each
    expected = [
        [0, 0, 1, 2, 3, 4],
        [1, 5, 5, 6, 7, 8],
        [2, 6, 9, 9, 10, 11],
        [3, 7, 10, 12, 12, 13],
        [4, 8, 11, 13, 14, 14],
    ]
    assert lay.paths.tolist() == expected


def test_cpcv_every_path_covers_every_group_once_and_uses_each_fold_of_a_group_once():
    lay = cpcv_layout(12, 6, 2)
    for path in lay.paths:
        pieces = [
            lay.groups[g].tolist() for g, i in enumerate(path) if g in lay.folds[i].test_groups
        ]
        assert sum(pieces, []) == r(0, 12)
    for g in range(6):
        testing_g = [i for i, f in enumerate(lay.folds) if g in f.test_groups]
        assert sorted(lay.paths[:, g].tolist()) == testing_g  # each used once across the paths
    # each fold supplies its k=2 test groups: it appears exactly twice in the matrix
    assert np.bincount(lay.paths.ravel()).tolist() == [2] * 15


def test_cpcv_purge_and_embargo_single_test_group():
    # groups [0-2] [3-5] [6-8] [9-11]; purge drops the bar before a test group,
    # embargo the bar after it
    lay = cpcv_layout(12, 4, 1, purge=1, embargo=1)
    assert windows_of(lay.folds) == [r(0, 3), r(3, 6), r(6, 9), r(9, 12)]
    assert trains(lay.folds) == [
        r(4, 12),  # 3 embargoed
        [0, 1, 7, 8, 9, 10, 11],  # 2 purged, 6 embargoed
        [0, 1, 2, 3, 4, 10, 11],  # 5 purged, 9 embargoed
        r(0, 8),  # 8 purged
    ]
    assert lay.n_paths == 1 and lay.paths.tolist() == [[0, 1, 2, 3]]


def test_cpcv_purge_and_embargo_around_each_of_two_test_groups():
    lay = cpcv_layout(12, 4, 2, purge=1, embargo=2)
    by_groups = {f.test_groups: f.train.tolist() for f in lay.folds}
    assert by_groups[(1, 2)] == [0, 1, 11]  # test 3-8: 2 purged, 9 and 10 embargoed
    assert by_groups[(0, 2)] == [11]  # 3, 4 and 9, 10 embargoed, 5 purged
    assert by_groups[(0, 3)] == [5, 6, 7]  # 3, 4 embargoed, 8 purged


def test_cpcv_uneven_groups_follow_array_split():
    lay = cpcv_layout(10, 3, 1)
    assert [g.tolist() for g in lay.groups] == [r(0, 4), r(4, 7), r(7, 10)]
    assert trains(lay.folds)[1] == [0, 1, 2, 3, 7, 8, 9]


# --- invariants ---------------------------------------------------------------------------


@st.composite
def walk_forward_cases(draw: st.DrawFn) -> tuple[int, int, dict[str, object]]:
    n_folds = draw(st.integers(1, 6))
    purge = draw(st.integers(0, 4))
    kw: dict[str, object] = {
        "anchored": draw(st.booleans()),
        "purge": purge,
        "embargo": draw(st.integers(0, 4)),
    }
    if draw(st.booleans()):  # default layout: every segment longer than the purge
        seg = draw(st.integers(purge + 2, 20))
        return (n_folds + 1) * seg + draw(st.integers(0, n_folds)), n_folds, kw
    train_bars, test_bars = draw(st.integers(purge + 2, 20)), draw(st.integers(2, 10))
    kw |= {"train_bars": train_bars, "test_bars": test_bars}
    return n_folds * test_bars + train_bars + draw(st.integers(0, 10)), n_folds, kw


@PROPERTY
@given(walk_forward_cases())
def test_walk_forward_invariants(case: tuple[int, int, dict[str, object]]):
    n_bars, n_folds, kw = case
    folds = walk_forward_folds(n_bars, n_folds, **kw)
    assert len(folds) == n_folds
    tests = np.concatenate([f.test for f in folds])
    # consecutive, non-overlapping test windows covering the end of the sample
    assert tests.tolist() == r(int(folds[0].test[0]), n_bars)
    for f in folds:
        assert np.all(np.diff(f.train) == 1)
        assert np.intersect1d(f.train, f.test).size == 0
        assert f.train[-1] == f.test[0] - 1 - kw["purge"]
        assert leaks(f, kw["purge"], kw["embargo"]) == []
        if kw["anchored"]:
            assert f.train[0] == 0
        elif "train_bars" in kw:
            assert len(f.train) == kw["train_bars"] - kw["purge"]
    if "train_bars" not in kw:  # the first training window and the tests span the data
        assert folds[0].train[0] == 0


@st.composite
def cpcv_cases(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    n_groups = draw(st.integers(2, 7))
    k_test = draw(st.integers(1, n_groups - 1))
    purge, embargo = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    size = draw(st.integers(purge + embargo + 1, 8))  # a training group survives both
    n_bars = n_groups * size + draw(st.integers(0, n_groups - 1))
    return n_bars, n_groups, k_test, purge, embargo


@PROPERTY
@given(cpcv_cases())
def test_cpcv_invariants(case: tuple[int, int, int, int, int]):
    n_bars, n, k, purge, embargo = case
    lay = cpcv_layout(n_bars, n, k, purge=purge, embargo=embargo)
    assert np.concatenate(lay.groups).tolist() == r(0, n_bars)
    assert lay.n_paths == math.comb(n - 1, k - 1) == lay.paths.shape[0]
    assert lay.paths.shape == (math.comb(n - 1, k - 1), n)
    assert [f.test_groups for f in lay.folds] == list(combinations(range(n), k))
    for f in lay.folds:
        assert f.test.tolist() == np.concatenate([lay.groups[g] for g in f.test_groups]).tolist()
        assert np.intersect1d(f.train, f.test).size == 0
        # exactly the non-test bars clear of purge before and embargo after every test bar
        outside = sorted(set(range(n_bars)) - set(f.test.tolist()))
        leaking = leaks(Fold(np.array(outside), f.test), purge, embargo)
        assert f.train.tolist() == [t for t in outside if t not in leaking]
    for g in range(n):
        column = lay.paths[:, g].tolist()
        assert column == [i for i, f in enumerate(lay.folds) if g in f.test_groups]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "needle"),
    [
        ((10, 9), {}, "got 1 (n_bars=10, n_folds=9)"),
        ((10, 0), {}, "at least 1 fold"),
        ((10, 4), {"purge": -1}, "purge=-1"),
        ((10, 4), {"embargo": -2}, "embargo=-2"),
        ((10, 4), {"purge": 2}, "no training bars left"),
        ((12, 3), {"train_bars": 4, "test_bars": 3}, "need 13 bars, got 12"),
        ((12, 3), {"train_bars": 1, "test_bars": 3}, "at least 2 bars per window"),
        ((3, 1), {}, "at least 2 bars per window, got 1 (n_bars=3, n_folds=1); fix: use more bars"),
    ],
)
def test_walk_forward_bad_input_says_how_to_fix_it(args, kwargs, needle):
    with pytest.raises(ValueError, match="; fix: ") as err:
        walk_forward_folds(*args, **kwargs)
    assert needle in str(err.value)


def test_walk_forward_suggested_fold_count_works():
    with pytest.raises(ValueError, match="--folds 4"):
        walk_forward_folds(10, 9)
    assert len(walk_forward_folds(10, 4)) == 4


@pytest.mark.parametrize(
    ("args", "kwargs", "needle"),
    [
        ((12, 4, 0), {}, "1 <= k_test < n_groups"),
        ((12, 4, 4), {}, "1 <= k_test < n_groups"),
        ((12, 1, 1), {}, "1 <= k_test < n_groups"),
        ((3, 4, 1), {}, "at least one bar per group"),
        ((12, 4, 1), {"purge": -1}, "purge=-1"),
        ((4, 2, 1), {"purge": 2, "embargo": 2}, "no training bars left"),
    ],
)
def test_cpcv_bad_input_says_how_to_fix_it(args, kwargs, needle):
    with pytest.raises(ValueError, match="; fix: ") as err:
        cpcv_layout(*args, **kwargs)
    assert needle in str(err.value)
