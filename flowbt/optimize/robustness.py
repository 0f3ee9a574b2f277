"""Is the chosen parameter point robust, or a lone spike in the search results?

Thesis: an optimum whose nearest neighbours in parameter space keep most of its objective sits
on a plateau; the edge it found does not depend on the exact parameter values. An optimum whose
neighbours fall away is a spike, more likely a fit to the sample's noise. An optimum on the
edge of the searched range may continue beyond it: the search did not bracket it.

Neighbourhood of the best trial, ``neighbourhood="grid"`` (a grid search): every other
trial, failed trials (NaN objective) excluded, such that

- for each *numeric* parameter, its value is within one step of the best's value in that
  parameter's sorted distinct searched values (rank distance <= 1). A grid gives the adjacent
  grid points, diagonals included: 8 neighbours inside a 2-D grid. A random search, where
  every value is distinct, gives the trials with the nearest searched values, i.e. adjacent
  ranks. The searched values are those of *all* rows, failed trials included, since a failed
  grid point was still searched and the trials beyond it are two steps away;
- for each *categorical* parameter (non-numeric or bool dtype), its value equals the best's.
  A NaN value (e.g. a conditional parameter the best did not use) matches only NaN.

``neighbourhood="nearest"`` (random and optuna searches): the rank rule above almost never
holds for continuous draws in two or more parameters (each trial's values are adjacent in
rank to the best's in every parameter only by chance), so a random search's best came out
"isolated" with 0 neighbours. Here the neighbourhood is the ``k`` trials nearest to the best
in parameter space, each numeric parameter scaled to [0, 1] over its searched range (min-max
of all rows), Euclidean distance, categorical parameters equal as above, failed trials
excluded; ``k`` defaults to ``3**d - 1`` (the neighbours a grid point has in ``d`` numeric
parameters), at most `MAX_NEAREST`. Ties at the k-th distance are broken by row order.

``plateau_ratio`` is the share of the best objective the neighbours keep:
``1 - shortfall / |best|``, where the shortfall is how much worse the neighbours' median is
than the best, in the objective's units (worse meaning lower, or higher when
``higher_is_better=False``). For a positive higher-is-better objective (Sharpe, total return)
it is exactly ``neighbour_median / best``. The plain quotient would run backwards for a
negative objective such as max drawdown (a negative fraction, higher = better): neighbours
at -0.40 against a best of -0.10 would give 4.0. The shortfall form gives -2.0, and -0.12
gives 0.8. The same holds for a positive lower-is-better cost such as volatility. NaN when
the best objective is 0 or there are no neighbours. Verdict: ``"isolated"`` without
neighbours, else ``"plateau"`` when ``plateau_ratio >= 0.5`` (the neighbours keep at least
half), else ``"spike"`` (also when the ratio is NaN: a zero best has nothing to keep).
``neighbour_min`` is the plain minimum of the neighbours' objective values, whatever the
direction.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

MAX_NEAREST = 26  # the nearest-neighbour neighbourhood: at most this many trials (3-D grid's)
PLATEAU_RATIO = 0.5  # neighbours keeping at least this share of the best objective: a plateau
MIN_EDGE_VALUES = 3  # a parameter searched at fewer distinct values has no interior


@dataclass(frozen=True)
class Robustness:
    """The neighbourhood of the chosen trial; objective values in the objective's units."""

    on_edge: tuple[str, ...]  # numeric params (>= 3 searched values) whose best is min or max
    neighbours: int  # trials in the neighbourhood, the best excluded
    neighbour_median: float  # NaN if no neighbours
    neighbour_min: float  # NaN if no neighbours
    plateau_ratio: float  # share of the best objective kept, see the module docstring
    verdict: str  # "plateau" | "spike" | "isolated"


def _check(results: pd.DataFrame, best: Hashable, params: Sequence[str], objective: str) -> None:
    if not params:
        raise ValueError("no params (robustness); fix: name the searched parameter columns")
    missing = [c for c in [*params, objective] if c not in results.columns]
    if missing:
        raise ValueError(
            f"columns {missing} not in the results (robustness); "
            f"fix: pick from {list(results.columns)}"
        )
    if not results.index.is_unique:
        raise ValueError(
            "the results' index repeats labels (robustness); fix: one label per trial, "
            "e.g. results.reset_index(drop=True)"
        )
    if best not in results.index:
        raise ValueError(
            f"best = {best!r} is not a row label of the results (robustness); "
            "fix: pass the index label of the chosen trial (e.g. results[objective].idxmax())"
        )
    if not is_numeric_dtype(results[objective]) or is_bool_dtype(results[objective]):
        raise ValueError(
            f"objective {objective!r} is not numeric (robustness); fix: name a metric column"
        )
    if pd.isna(results.at[best, objective]):
        raise ValueError(
            f"the best trial {best!r} has a NaN {objective!r}, a failed trial (robustness); "
            "fix: choose among trials with an objective"
        )


def robustness(
    results: pd.DataFrame,
    best: Hashable,
    params: Sequence[str],
    objective: str,
    *,
    higher_is_better: bool = True,
    neighbourhood: Literal["grid", "nearest"] = "grid",
    k: int | None = None,
) -> Robustness:
    """The neighbourhood of trial ``best`` (a row label of ``results``): one row per trial, a
    column per parameter in ``params`` and the ``objective`` column. ``neighbourhood``:
    "grid" (adjacent searched values) or "nearest" (the ``k`` nearest trials in scaled
    parameter space). See the module docstring."""
    _check(results, best, params, objective)
    if neighbourhood not in ("grid", "nearest"):
        raise ValueError(
            f"neighbourhood {neighbourhood!r} is unknown (robustness); fix: 'grid' or 'nearest'"
        )
    if k is not None and k < 1:
        raise ValueError(f"k = {k} (robustness); fix: k >= 1 neighbours")
    near = np.array(results[objective].notna(), dtype=bool)  # a writable copy
    on_edge: list[str] = []
    scaled: list[np.ndarray] = []  # numeric params in [0, 1], for "nearest"
    for p in params:
        col, b = results[p], results.at[best, p]
        if is_numeric_dtype(col) and not is_bool_dtype(col) and not pd.isna(b):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            grid = np.unique(values[~np.isnan(values)])  # sorted distinct searched values
            near &= ~np.isnan(values)
            if neighbourhood == "grid":
                step = np.abs(np.searchsorted(grid, values) - np.searchsorted(grid, float(b)))
                near &= step <= 1
            else:
                width = grid[-1] - grid[0]
                scaled.append((values - float(b)) / width if width > 0 else np.zeros_like(values))
            if len(grid) >= MIN_EDGE_VALUES and float(b) in (grid[0], grid[-1]):
                on_edge.append(p)
        else:
            near &= (col.isna() if pd.isna(b) else col == b).to_numpy(dtype=bool)
    near[results.index.get_loc(best)] = False  # a unique index: an int position
    if neighbourhood == "nearest" and scaled:  # categorical only: every equal trial stays
        want = k if k is not None else min(3 ** len(scaled) - 1, MAX_NEAREST)
        distance = np.sqrt(np.sum(np.square(scaled), axis=0))  # NaN rows are not near
        order = np.flatnonzero(near)[np.argsort(distance[near], kind="stable")]
        near = np.zeros(len(near), dtype=bool)
        near[order[:want]] = True
    objs = results.loc[near, objective].to_numpy(dtype=np.float64)
    best_obj = float(results.at[best, objective])
    if len(objs) == 0:
        return Robustness(tuple(on_edge), 0, np.nan, np.nan, np.nan, "isolated")
    median = float(np.median(objs))
    sign = 1.0 if higher_is_better else -1.0
    shortfall = sign * (best_obj - median)  # > 0 when the neighbours do worse than the best
    ratio = 1.0 - shortfall / abs(best_obj) if best_obj != 0.0 else np.nan
    verdict = "plateau" if ratio >= PLATEAU_RATIO else "spike"
    return Robustness(tuple(on_edge), len(objs), median, float(objs.min()), ratio, verdict)
