"""Codes and record layouts shared by the compiled kernels and Python: one source.

Like vectorbt's ``portfolio/enums.py``: the integer codes numba compares against
(order types, order and fill statuses), the structured dtype of a fill record, and
the groups of arrays the bar loop takes (``engine.nb.loop.run_bars``). numba reads
``IntEnum`` members as compile-time constants and named tuples as typed structs, so
Python and the kernels cannot drift apart.

Units: prices in the asset's quote currency, sizes in units of the asset (signed:
+ buy, - sell), fees in quote currency, fractions where named so.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np


class OrderType(IntEnum):
    """Kind of an explicit order (placed from an event hook)."""

    MARKET = 0
    LIMIT = 1
    STOP = 2
    STOP_LIMIT = 3
    TRAILING_STOP = 4


class OrderStatus(IntEnum):
    """State of an explicit order in the book."""

    PENDING = 0
    DONE = 1
    CANCELLED = 2


class FillStatus(IntEnum):
    """Outcome of one attempted fill (``engine.nb.fills``)."""

    FILLED = 0
    IGNORED = 1
    REJECTED = 2


# one fill: the bar it traded at, the asset column, signed units, the fill price, the
# fee and the explicit order's id (-1 for a target-weight rebalance)
fill_dt = np.dtype(
    [
        ("bar", np.int64),
        ("col", np.int64),
        ("size", np.float64),
        ("price", np.float64),
        ("fees", np.float64),
        ("order_id", np.int64),
    ],
    align=True,
)
TARGET_ORDER_ID = -1


class MarketArrays(NamedTuple):
    """What the loop trades and values at, (n, m) float arrays (``engine.plan``).

    ``fill_price`` is NaN where the asset cannot trade; ``val_price`` is the price at
    fill time (fill price of a tradable asset, last close of a closed one);
    ``close_val`` the last known close; ``slippage`` a fraction per bar and asset.
    """

    fill_price: np.ndarray
    val_price: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close_val: np.ndarray
    tradable: np.ndarray
    slippage: np.ndarray


class TargetArrays(NamedTuple):
    """Target weights sent, in bar order: ``weight[k]`` of column ``col[k]`` at ``bar[k]``."""

    bar: np.ndarray
    col: np.ndarray
    weight: np.ndarray


class CostParams(NamedTuple):
    """Scalars of one run: ``fees`` (fraction of notional), ``fixed_fees`` (quote currency
    per fill), ``granularity`` (unit step, NaN = fractional), ``drift`` (weight distance
    that skips a rebalance), ``borrow`` (fraction of short notional per bar)."""

    fees: float
    fixed_fees: float
    granularity: float
    drift: float
    borrow: float


class BookArrays(NamedTuple):
    """Explicit orders, one element each (units NaN = close the position)."""

    col: np.ndarray
    kind: np.ndarray
    units: np.ndarray
    limit: np.ndarray
    stop: np.ndarray
    trail: np.ndarray
    active_from: np.ndarray
    status: np.ndarray
    ref: np.ndarray


class LoopState(NamedTuple):
    """The portfolio between calls, mutated in place: ``cash`` (1 element), ``pos`` and
    ``last_val`` per asset, ``target_next`` (index of the first target not yet sent) and
    ``n_records`` (fills written so far), both 1 element."""

    cash: np.ndarray
    pos: np.ndarray
    last_val: np.ndarray
    target_next: np.ndarray
    n_records: np.ndarray


class LoopOutput(NamedTuple):
    """Per bar: ``equity``, ``cash``, ``pos`` (n, m); ``records`` the fills (``fill_dt``)."""

    equity: np.ndarray
    cash: np.ndarray
    pos: np.ndarray
    records: np.ndarray
