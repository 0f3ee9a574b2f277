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


class OrderOutcome(IntEnum):
    """What an order record says happened: filled in full, filled in part (cut), or not."""

    FILLED = 0
    CUT = 1
    REJECTED = 2


class OrderReason(IntEnum):
    """Why an order was cut or rejected (NONE for a full fill)."""

    NONE = 0
    CASH = 1  # a buy needed more cash than the account held
    FEES = 2  # a sale's proceeds could not cover its fees


# one order: the bar it traded (or tried to) at, the asset column, the signed units
# filled (0 when rejected) and requested, the fill price (NaN when rejected), the fee,
# the explicit order's id (-1 for a target-weight order), outcome and reason codes
order_dt = np.dtype(
    [
        ("bar", np.int64),
        ("col", np.int64),
        ("size", np.float64),
        ("requested", np.float64),
        ("price", np.float64),
        ("fees", np.float64),
        ("order_id", np.int64),
        ("outcome", np.int64),
        ("reason", np.int64),
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
    """Target-weight decisions in bar order: from bar ``bar[k]`` on, column ``col[k]``
    pursues ``weight[k]`` (until a later decision for that column)."""

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


class StandingTargets(NamedTuple):
    """The target each asset is pursuing (``engine.nb.standing``), per asset, mutated in
    place: ``weight`` (the last decision, NaN = none yet), ``pending`` (True until the
    target is reached) and ``fail_cash`` (cash when an attempt last failed for lack of
    it, -inf = none: the next attempt waits until there is more cash)."""

    weight: np.ndarray
    pending: np.ndarray
    fail_cash: np.ndarray


class LoopState(NamedTuple):
    """The portfolio between calls, mutated in place: ``cash`` (1 element), ``pos`` and
    ``last_val`` per asset, ``target_next`` (index of the first decision not yet read)
    and ``n_records`` (order records written so far), both 1 element, and the
    standing targets."""

    cash: np.ndarray
    pos: np.ndarray
    last_val: np.ndarray
    target_next: np.ndarray
    n_records: np.ndarray
    standing: StandingTargets


class LoopOutput(NamedTuple):
    """Per bar: ``equity``, ``cash``, ``pos`` (n, m); ``records`` the orders (``order_dt``)."""

    equity: np.ndarray
    cash: np.ndarray
    pos: np.ndarray
    records: np.ndarray


class BatchPlan(NamedTuple):
    """What every trial of a batch (``engine.nb.batch``) shares besides the market:
    ``decision`` (loop row -> bar row whose decision stands, grid only), ``on_grid``,
    ``lag`` (1 = next-open fills), ``every_bar`` (re-decide each tradable bar),
    ``max_leverage``, ``init_cash``, ``read_rows`` (loop row ending each period),
    ``windows`` (W x 2 period ranges), ``keep_returns`` and, to count the days a trial
    held off its targets as ``Result.off_target_days`` does, ``close_rows`` (bar row ->
    loop row of its close), ``close_ffill`` (bar rows x assets, last close known),
    ``bar_day`` (UTC day number of each bar) and ``off_target_gap``."""

    decision: np.ndarray
    on_grid: bool
    lag: int
    every_bar: bool
    max_leverage: float
    init_cash: float
    read_rows: np.ndarray
    windows: np.ndarray
    keep_returns: bool
    close_rows: np.ndarray
    close_ffill: np.ndarray
    bar_day: np.ndarray
    off_target_gap: float


class BatchOutput(NamedTuple):
    """Per trial, written in place: ``records`` (its scratch order buffer), ``windows``
    (W x 7 window statistics), ``counts`` (filled, cut, rejected orders, days off target,
    longest run of them), ``moments``
    (skew, raw kurtosis) and ``returns`` (periods; a 1-row placeholder unless kept)."""

    records: np.ndarray
    windows: np.ndarray
    counts: np.ndarray
    moments: np.ndarray
    returns: np.ndarray
