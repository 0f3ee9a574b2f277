"""From a strategy's target weights to the decisions each simulator pursues.

Point-in-time rule: ``weights[t]`` is decided from data up to bar ``t``'s close.
With ``fill="next_open"`` (default) it takes effect at bar ``t + 1`` and is traded
at the asset's next open; with ``fill="close"`` at bar ``t``'s own close. A decision
stands until the strategy changes it: it is pursued at the asset's tradable bars
until reached (``engine.nb.standing``). Both simulators receive the same decisions
from here (the event engine as a sparse list, vectorbt as the dense matrix), so the
timing and rebalancing rules cannot drift apart between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.nb.prepare import cap_rows, max_gross, order_targets_nb

Fill = Literal["next_open", "close"]
Rebalance = Literal["on_change", "every_bar"]


@dataclass(frozen=True)
class Targets:
    """The decisions of a run: from bar ``bar[k]`` on, column ``col[k]`` pursues
    ``weight[k]``.

    Sorted by bar, then column. A sparse list because most bars of most runs decide
    nothing; ``dense()`` gives the (n, m) matrix with NaN where nothing is decided.
    """

    bar: np.ndarray
    col: np.ndarray
    weight: np.ndarray
    shape: tuple[int, int]

    def __len__(self) -> int:
        return len(self.bar)

    def dense(self) -> np.ndarray:
        out = np.full(self.shape, np.nan)
        out[self.bar, self.col] = self.weight
        return out


def order_targets(
    weights: np.ndarray,
    tradable: np.ndarray,
    fill: Fill = "next_open",
    rebalance: Rebalance = "on_change",
    max_leverage: float = np.inf,
) -> np.ndarray:
    """The decision taking effect at each bar, NaN where there is none.

    ``on_change`` makes a decision only when an asset's weight differs from its last
    decision (one decided while the asset's market is closed stands until it opens);
    ``every_bar`` re-decides on every tradable bar (rebalancing drift). NaN weights
    mean "no decision". Rows whose gross exposure exceeds ``max_leverage`` are
    scaled down first (``cap_leverage``).
    """
    return target_list(weights, tradable, fill, rebalance, max_leverage).dense()


def target_list(
    weights: np.ndarray,
    tradable: np.ndarray,
    fill: Fill = "next_open",
    rebalance: Rebalance = "on_change",
    max_leverage: float = np.inf,
) -> Targets:
    """``order_targets`` as a sparse list (what the event engine reads)."""
    if fill not in ("next_open", "close"):
        raise ValueError(f"fill must be 'next_open' or 'close', got {fill!r}")
    if rebalance not in ("on_change", "every_bar"):
        raise ValueError(f"rebalance must be 'on_change' or 'every_bar', got {rebalance!r}")
    w = cap_leverage(weights, max_leverage)
    t = np.ascontiguousarray(tradable, dtype=np.bool_)
    if w.shape != t.shape:
        raise ValueError(f"weights shape {w.shape} != tradable shape {t.shape}")
    bar, col, weight = order_targets_nb(
        w, t, 1 if fill == "next_open" else 0, rebalance == "every_bar"
    )
    return Targets(bar=bar, col=col, weight=weight, shape=w.shape)


def cap_leverage(weights: np.ndarray, max_leverage: float) -> np.ndarray:
    """Scale down rows whose gross exposure sum(|w|) exceeds ``max_leverage``.

    Also the weights' validation: 2-d, finite or NaN ("no decision").
    """
    if max_leverage <= 0:
        raise ValueError(f"max_leverage must be > 0, got {max_leverage}")
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"weights must be 2-d (bars x assets), got {w.ndim}-d")
    worst = max_gross(w)
    if np.isinf(worst):
        raise ValueError("weights must be finite (or NaN for no decision)")
    if worst <= max_leverage:
        return w  # nothing to scale: no copy
    return cap_rows(w, float(max_leverage))
