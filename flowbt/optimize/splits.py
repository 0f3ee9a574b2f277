"""Split layouts for out-of-sample validation: walk-forward and combinatorial purged k-fold
cross-validation (CPCV; Lopez de Prado, *Advances in Financial Machine Learning*, ch. 7, 12).

Units: every number here counts **bar positions** (``0 .. n_bars - 1``), never calendar days.

Point in time: a training set never contains a bar within ``purge`` bars *before* a test block
(its features and labels overlap the test period) nor within ``embargo`` bars *after* one
(serial correlation would leak the test outcome back into training).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
MIN_WINDOW = 2  # bars: a window of one bar holds no return


@dataclass(frozen=True, eq=False)
class Fold:
    """One split: sorted, disjoint, read-only int64 bar positions.

    ``train`` is fitted in-sample, ``test`` traded out-of-sample; ``test_groups`` names the
    CPCV groups in ``test`` (``()`` for walk-forward). Compared by identity (arrays inside).
    """

    train: IntArray
    test: IntArray
    test_groups: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class CpcvLayout:
    """CPCV: ``N`` contiguous groups, the ``C(N, k)`` folds testing each ``k`` of them (in
    ``itertools.combinations`` order), and the backtest paths stitched from their test sets.

    ``paths[p, g]`` is the index in ``folds`` of the fold whose test set supplies group ``g``
    on path ``p``: each group is tested in ``C(N-1, k-1)`` folds and path ``p`` takes the
    ``p``-th of them, so every path covers every bar exactly once, out of sample.
    """

    groups: tuple[IntArray, ...]
    folds: tuple[Fold, ...]
    paths: IntArray

    @property
    def n_paths(self) -> int:
        """``C(N-1, k-1) = k / N * C(N, k)``."""
        return int(self.paths.shape[0])


def _frozen(a: IntArray) -> IntArray:
    a = np.array(a, dtype=np.int64)
    a.setflags(write=False)
    return a


def _purge(train: IntArray, blocks: list[IntArray], purge: int, embargo: int) -> IntArray:
    """``train`` less ``[first - purge, first)`` and ``(last, last + embargo]`` of each block."""
    keep = np.ones(len(train), dtype=bool)
    for b in blocks:
        first, last = int(b[0]), int(b[-1])
        keep &= ~((train >= first - purge) & (train < first))
        keep &= ~((train > last) & (train <= last + embargo))
    return train[keep]


def _check_gaps(purge: int, embargo: int) -> None:
    if purge < 0 or embargo < 0:
        raise ValueError(
            f"purge and embargo are counts of bars, got purge={purge}, embargo={embargo}; "
            "fix: use --purge 0 or more and --embargo 0 or more"
        )


def walk_forward_folds(
    n_bars: int,
    n_folds: int,
    *,
    train_bars: int | None = None,
    test_bars: int | None = None,
    anchored: bool = False,
    purge: int = 0,
    embargo: int = 0,
) -> list[Fold]:
    """Walk-forward folds: ``n_folds`` consecutive, non-overlapping test windows covering the
    end of the sample, each trained on bars before it (all counts in bar positions).

    Default (``train_bars`` and ``test_bars`` None): ``n_bars`` is cut into ``n_folds + 1``
    equal consecutive segments (``np.array_split``); fold ``i`` trains on segment ``i``
    (rolling) or segments ``0..i`` (``anchored``) and tests on segment ``i + 1``.
    Otherwise the test windows hold ``test_bars`` each (default: the bars after the first
    ``train_bars``, shared evenly) with the last ending at ``n_bars``; rolling training is the
    ``train_bars`` bars before each test window (default: all bars before the first one),
    anchored training is every bar from 0 before it (``train_bars`` is then its minimum).

    ``purge`` drops the last ``purge`` training bars before each test window. ``embargo`` would
    drop training bars just after a test window; training always precedes it here, so none.
    """
    if n_folds < 1:
        raise ValueError(f"walk-forward needs at least 1 fold, got {n_folds}; fix: use --folds 1")
    _check_gaps(purge, embargo)
    where = f"n_bars={n_bars}, n_folds={n_folds}"
    if train_bars is None and test_bars is None:
        segments = np.array_split(np.arange(max(n_bars, 0)), n_folds + 1)
        smallest = min(len(s) for s in segments)
        if smallest < MIN_WINDOW:
            most = n_bars // MIN_WINDOW - 1  # folds that fit: n_folds + 1 windows of MIN_WINDOW
            fix = f"use fewer folds, e.g. --folds {most}" if most >= 1 else "use more bars"
            raise ValueError(
                f"walk-forward needs at least {MIN_WINDOW} bars per window, got {smallest} "
                f"({where}); fix: {fix}"
            )
        tests = segments[1:]
        train_starts = [int(s[0]) for s in segments[:-1]]
    else:
        if test_bars is None:
            test_bars = (n_bars - (train_bars or 0)) // n_folds
        if train_bars is None:
            train_bars = n_bars - n_folds * test_bars
        where += f", train_bars={train_bars}, test_bars={test_bars}"
        if min(train_bars, test_bars) < MIN_WINDOW:
            raise ValueError(
                f"walk-forward needs at least {MIN_WINDOW} bars per window ({where}); "
                f"fix: use --train-bars and --test-bars of {MIN_WINDOW} or more, or fewer folds"
            )
        first = n_bars - n_folds * test_bars
        if first < train_bars:
            raise ValueError(
                f"walk-forward windows need {train_bars + n_folds * test_bars} bars, "
                f"got {n_bars} ({where}); fix: use fewer folds or shorter windows"
            )
        tests = np.split(np.arange(first, n_bars), n_folds)
        train_starts = [int(t[0]) - train_bars for t in tests]
    folds = []
    for i, (test, start) in enumerate(zip(tests, train_starts, strict=True)):
        train = _purge(np.arange(0 if anchored else start, test[0]), [test], purge, embargo)
        if len(train) == 0:
            raise ValueError(
                f"walk-forward fold {i} has no training bars left after purge={purge} "
                f"({where}); fix: use a --purge shorter than the training window"
            )
        folds.append(Fold(train=_frozen(train), test=_frozen(test)))
    return folds


def cpcv_layout(
    n_bars: int, n_groups: int, k_test: int, *, purge: int = 0, embargo: int = 0
) -> CpcvLayout:
    """Combinatorial purged cross-validation over bar positions ``0 .. n_bars - 1``.

    The bars are cut into ``n_groups`` contiguous groups (``np.array_split``); each of the
    ``C(N, k)`` folds tests ``k_test`` groups and trains on the other ``N - k`` minus the bars
    within ``purge`` bars before a test group's first bar and within ``embargo`` bars after its
    last bar. The folds' test sets combine into ``C(N-1, k-1)`` full out-of-sample paths.
    """
    where = f"n_bars={n_bars}, n_groups={n_groups}, k_test={k_test}"
    if not 1 <= k_test < n_groups:
        raise ValueError(
            f"CPCV needs 1 <= k_test < n_groups ({where}); "
            "fix: use --groups 2 or more and --test-groups between 1 and groups - 1"
        )
    if n_groups > n_bars:
        raise ValueError(
            f"CPCV needs at least one bar per group ({where}); fix: use --groups {n_bars} or fewer"
        )
    _check_gaps(purge, embargo)
    groups = tuple(_frozen(g) for g in np.array_split(np.arange(n_bars), n_groups))
    folds = []
    for combo in combinations(range(n_groups), k_test):
        blocks = [groups[g] for g in combo]
        rest = [groups[g] for g in range(n_groups) if g not in combo]
        train = _purge(np.concatenate(rest), blocks, purge, embargo)
        if len(train) == 0:
            raise ValueError(
                f"CPCV fold testing groups {combo} has no training bars left after "
                f"purge={purge}, embargo={embargo} ({where}); "
                "fix: use a smaller --purge/--embargo or more --groups"
            )
        folds.append(Fold(_frozen(train), _frozen(np.concatenate(blocks)), combo))
    # column g: the folds testing group g, in fold order; row p takes the p-th of each
    tested_in = [[i for i, f in enumerate(folds) if g in f.test_groups] for g in range(n_groups)]
    paths = _frozen(np.array(tested_in, dtype=np.int64).T)
    return CpcvLayout(groups=groups, folds=tuple(folds), paths=paths)
