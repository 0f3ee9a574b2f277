"""``run``: the one place that chooses between the two simulators.

``mode="event"`` runs the compiled event loop (``engine.simulator``), the reference
for fidelity (explicit orders, event hooks, borrow, drift thresholds);
``mode="vector"`` runs the same plan through vectorbt (``engine.vector``). Both
execute one plan (``engine.plan``), so they agree to 1e-9 where both apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from engine.bars import Bars
from engine.config import BacktestConfig
from engine.result import Result
from engine.simulator import run_event
from engine.vector import run_vector
from strategies.base import Strategy

Mode = Literal["event", "vector"]
MODES: tuple[str, ...] = ("event", "vector")


def check_mode(mode: str) -> Mode:
    """``mode`` if it names a simulator, else ``ValueError`` listing them."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode  # type: ignore[return-value]


def run(
    strategy: Strategy | None,
    bars: Bars,
    config: BacktestConfig | None = None,
    mode: str = "event",
    *,
    weights: np.ndarray | None = None,
    params_for_manifest: Mapping[str, Any] | None = None,
) -> Result:
    """Backtest ``strategy`` (or raw ``weights``, shape (n, m)) on ``bars`` in ``mode``."""
    simulate = run_event if check_mode(mode) == "event" else run_vector
    return simulate(
        strategy, bars, config, weights=weights, params_for_manifest=params_for_manifest
    )
