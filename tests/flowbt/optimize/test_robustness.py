"""Robustness of the chosen parameter point on hand-made search results with answers worked
out by hand: plateau, spike, edge, categorical parameters, failed trials, random search and
objectives where the plain quotient would run backwards."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flowbt.optimize.robustness import robustness

FAST = [5, 10, 15, 20, 25]
SLOW = [50.0, 100.0, 150.0, 200.0, 250.0]


def _grid(objective, **extra) -> pd.DataFrame:
    """A 5 x 5 grid of (fast, slow) with ``objective(i, j)`` at grid indices (i, j), rows
    shuffled and labelled 100.. so that a row label is not a row position."""
    rows = [
        {"fast": f, "slow": s, "sharpe": objective(i, j), "n_trades": 7, **extra}
        for i, f in enumerate(FAST)
        for j, s in enumerate(SLOW)
    ]
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    df.index = range(100, 100 + len(df))
    return df


def _label(df: pd.DataFrame, **where) -> int:
    mask = np.logical_and.reduce([df[k] == v for k, v in where.items()])
    (label,) = df.index[mask]
    return int(label)


def _peak(i: int, j: int) -> float:
    return 2.0 - 0.1 * ((i - 2) ** 2 + (j - 2) ** 2)


def test_a_smooth_peak_in_the_middle_is_a_plateau_with_eight_neighbours():
    """Centre 2.0; 4 edge-adjacent neighbours at 1.9 and 4 diagonal at 1.8: median 1.85."""
    df = _grid(_peak)
    r = robustness(df, _label(df, fast=15, slow=150.0), ["fast", "slow"], "sharpe")
    assert r.neighbours == 8
    assert r.neighbour_median == pytest.approx(1.85)
    assert r.neighbour_min == pytest.approx(1.8)
    assert r.plateau_ratio == pytest.approx(1.85 / 2.0)
    assert (r.on_edge, r.verdict) == ((), "plateau")


def test_a_single_high_point_on_a_flat_grid_is_a_spike():
    df = _grid(lambda i, j: 2.0 if (i, j) == (2, 2) else 0.2)
    r = robustness(df, _label(df, fast=15, slow=150.0), ["fast", "slow"], "sharpe")
    assert (r.neighbours, r.neighbour_median, r.neighbour_min) == (8, 0.2, 0.2)
    assert r.plateau_ratio == pytest.approx(0.1)
    assert r.verdict == "spike"


def test_best_on_the_edge_of_one_param_is_named_and_has_a_smaller_neighbourhood():
    """fast = 25 is the largest fast searched: 2 fast values x 3 slow values - the best = 5.
    ``flag`` has two searched values only, so being at its maximum is no edge."""
    df = _grid(lambda i, j: 1.0 + 0.1 * i - 0.1 * abs(j - 2))
    df["flag"] = (df["slow"] >= 150.0).astype(int)
    r = robustness(df, _label(df, fast=25, slow=150.0), ["fast", "slow", "flag"], "sharpe")
    assert r.on_edge == ("fast",)
    # flag == 1 for slow >= 150 and 0 below: within one step either way, so all 5 count
    assert r.neighbours == 5
    assert r.neighbour_median == pytest.approx(1.3)  # 1.2, 1.3, 1.2 (fast 20); 1.3, 1.3
    assert r.verdict == "plateau"


def test_categorical_and_bool_params_must_equal_the_best():
    """The same grid for two kinds and both long_only values. The other kinds' rows are much
    better but never neighbours: 8 neighbours, all of kind "a" and long_only True."""
    grids = []
    for kind, lift in [("a", 0.0), ("b", 5.0)]:
        for long_only, lift2 in [(True, 0.0), (False, 3.0)]:
            g = _grid(lambda i, j, x=lift + lift2: _peak(i, j) + x, kind=kind, long_only=long_only)
            grids.append(g)
    df = pd.concat(grids, ignore_index=True)
    best = _label(df, fast=15, slow=150.0, kind="a", long_only=True)
    r = robustness(df, best, ["fast", "slow", "kind", "long_only"], "sharpe")
    assert r.neighbours == 8
    assert r.neighbour_median == pytest.approx(1.85)
    assert r.on_edge == ()


def test_failed_trials_are_ignored_but_their_values_were_still_searched():
    """Two edge-adjacent neighbours failed: 2 at 1.9 and 4 at 1.8 remain, median 1.8. The
    whole column fast = 20 failed, yet it was searched, so fast = 25 stays two steps away."""
    df = _grid(_peak)
    df.loc[(df["fast"] == 10) & (df["slow"] == 150.0), "sharpe"] = np.nan
    df.loc[(df["fast"] == 15) & (df["slow"] == 200.0), "sharpe"] = np.nan
    best = _label(df, fast=15, slow=150.0)
    r = robustness(df, best, ["fast", "slow"], "sharpe")
    assert (r.neighbours, r.neighbour_median) == (6, pytest.approx(1.8))
    df.loc[df["fast"] == 20, "sharpe"] = np.nan
    r = robustness(df, best, ["fast", "slow"], "sharpe")
    assert r.neighbours == 3  # fast 10 at slow 100 and 200, fast 15 at slow 100
    assert r.on_edge == ()


def test_random_search_neighbours_are_the_nearest_searched_values():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 1.0, 40)
    df = pd.DataFrame({"x": x, "score": np.sin(3.0 * x)})  # peak at x = pi / 6
    best = int(df["score"].idxmax())
    r = robustness(df, best, ["x"], "score")
    order = np.argsort(x)
    pos = int(np.flatnonzero(order == best)[0])
    adjacent = df["score"].to_numpy()[order[[pos - 1, pos + 1]]]
    assert r.neighbours == 2
    assert r.neighbour_median == pytest.approx(adjacent.mean())
    assert r.verdict == "plateau"


@pytest.mark.parametrize(
    ("best", "around", "higher_is_better", "ratio", "verdict"),
    [
        (-0.10, -0.12, True, 0.8, "plateau"),  # max drawdown: a negative fraction
        (-0.10, -0.40, True, -2.0, "spike"),  # the quotient -0.40 / -0.10 = 4 would say plateau
        (0.10, 0.12, False, 0.8, "plateau"),  # volatility: lower is better
        (0.10, 0.40, False, -2.0, "spike"),
        (-1.0, -0.5, False, 0.5, "plateau"),  # a negated Sharpe to minimise: a gain again
    ],
)
def test_the_ratio_is_the_share_kept_for_negative_and_lower_is_better_objectives(
    best, around, higher_is_better, ratio, verdict
):
    df = _grid(lambda i, j: best if (i, j) == (2, 2) else around)
    r = robustness(
        df,
        _label(df, fast=15, slow=150.0),
        ["fast", "slow"],
        "sharpe",
        higher_is_better=higher_is_better,
    )
    assert r.plateau_ratio == pytest.approx(ratio)
    assert r.verdict == verdict


def test_no_neighbours_is_isolated_and_a_zero_best_has_no_ratio():
    df = pd.DataFrame({"w": [1, 5, 9], "kind": ["a", "b", "c"], "sharpe": [1.0, 0.5, 0.4]})
    r = robustness(df, 0, ["w", "kind"], "sharpe")
    assert (r.neighbours, r.verdict) == (0, "isolated")
    assert math.isnan(r.neighbour_median) and math.isnan(r.plateau_ratio)
    assert r.on_edge == ("w",)
    zero = _grid(lambda i, j: 0.0)
    r = robustness(zero, _label(zero, fast=15, slow=150.0), ["fast", "slow"], "sharpe")
    assert r.neighbours == 8 and math.isnan(r.plateau_ratio) and r.verdict == "spike"


@pytest.mark.parametrize(
    ("df", "best", "params", "objective"),
    [
        (pd.DataFrame({"w": [1, 2], "s": [1.0, 2.0]}), 0, [], "s"),
        (pd.DataFrame({"w": [1, 2], "s": [1.0, 2.0]}), 0, ["v"], "s"),
        (pd.DataFrame({"w": [1, 2], "s": [1.0, 2.0]}), 0, ["w"], "sharpe"),
        (pd.DataFrame({"w": [1, 2], "s": [1.0, 2.0]}), 5, ["w"], "s"),
        (pd.DataFrame({"w": [1, 2], "s": [np.nan, 2.0]}), 0, ["w"], "s"),
        (pd.DataFrame({"w": [1, 2], "s": ["x", "y"]}), 0, ["w"], "s"),
        (pd.DataFrame({"w": [1, 2], "s": [1.0, 2.0]}, index=[0, 0]), 0, ["w"], "s"),
    ],
)
def test_bad_input_raises_with_a_fix(df, best, params, objective):
    with pytest.raises(ValueError, match="fix:"):
        robustness(df, best, params, objective)


def _brute_nearest(df: pd.DataFrame, best: int, params: list[str], k: int) -> np.ndarray:
    """The k nearest rows to ``best`` by Euclidean distance on min-max scaled params."""
    scaled = (df[params] - df[params].min()) / (df[params].max() - df[params].min())
    d = np.sqrt(((scaled - scaled.loc[best]) ** 2).sum(axis=1)).drop(index=best)
    return d.sort_values(kind="stable").index[:k].to_numpy()


def test_a_random_2d_search_gets_its_nearest_trials_not_isolated():
    """With continuous draws in 2 parameters the rank rule finds nobody; the nearest rule
    takes the 8 nearest trials in scaled space (a brute-force computation here)."""
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"a": rng.uniform(0, 10, 300), "b": rng.uniform(100, 500, 300)})
    df["score"] = -((df["a"] - 4.0) ** 2) / 10 - ((df["b"] - 300.0) / 100) ** 2 + 3.0
    best = int(df["score"].idxmax())
    assert robustness(df, best, ["a", "b"], "score").verdict == "isolated"
    r = robustness(df, best, ["a", "b"], "score", neighbourhood="nearest")
    want = df.loc[_brute_nearest(df, best, ["a", "b"], 8), "score"]
    assert r.neighbours == 8
    assert r.neighbour_median == pytest.approx(float(np.median(want)))
    assert r.neighbour_min == pytest.approx(float(want.min()))
    assert r.verdict == "plateau"  # a smooth bowl: the neighbours keep most of the best


def test_a_lone_random_spike_is_still_a_spike_with_nearest():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"a": rng.uniform(0, 1, 200), "b": rng.uniform(0, 1, 200)})
    df["score"] = 0.1
    df.loc[17, "score"] = 2.0
    r = robustness(df, 17, ["a", "b"], "score", neighbourhood="nearest", k=5)
    assert (r.neighbours, r.verdict) == (5, "spike")
    assert r.plateau_ratio == pytest.approx(0.1 / 2.0)


def test_nearest_keeps_categorical_equality_and_skips_failed_trials():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.uniform(0, 1, 60), "mode": ["x", "y"] * 30})
    df["score"] = 1.0 - np.abs(df["a"] - 0.5)
    best = int(df.loc[df["mode"] == "x", "score"].idxmax())
    failed = _brute_nearest(df[df["mode"] == "x"], best, ["a"], 1)[0]
    df.loc[failed, "score"] = np.nan
    r = robustness(df, best, ["a", "mode"], "score", neighbourhood="nearest")
    same = df[(df["mode"] == "x") & df["score"].notna()]
    want = same.loc[_brute_nearest(same, best, ["a"], 2), "score"]
    assert r.neighbours == 2 and r.neighbour_median == pytest.approx(float(np.median(want)))


def test_nearest_rejects_bad_options():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "score": [1.0, 2.0, 1.0]})
    with pytest.raises(ValueError, match="fix: 'grid' or 'nearest'"):
        robustness(df, 1, ["a"], "score", neighbourhood="knn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fix: k >= 1"):
        robustness(df, 1, ["a"], "score", neighbourhood="nearest", k=0)
