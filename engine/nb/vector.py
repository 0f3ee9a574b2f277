"""Compiled callbacks that make vectorbt's ``Portfolio.from_order_func`` pursue standing
targets exactly as the event loop does (``engine.nb.standing``).

vectorbt keeps the books (cash, positions, fills, fees, slippage); these callbacks only
decide, from vectorbt's own state, which asset to order at each bar and record what
happened:

- ``pre_segment``: the bar's valuation prices, new decisions, the target weight of
  every pending asset that trades at this bar (NaN otherwise), and the call order
  (sales first, vectorbt's ``sort_call_seq_nb``);
- ``order``: a ``TargetPercent`` order at the fill price, or none (not pending, not
  tradable, waiting for more cash, inside the drift band);
- ``post_order``: settles the target (reached or still pending) and appends an
  ``engine.enums.order_dt`` record; a full buffer sets ``overflow`` and the caller
  runs again with more room.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from vectorbt.portfolio import nb as vbt_nb
from vectorbt.portfolio.enums import Direction, NoOrder, SizeType

from engine.enums import TARGET_ORDER_ID
from engine.nb.fills import is_close
from engine.nb.standing import decide, fee_shrink, may_attempt, sale_pending, settle

TARGET_PERCENT = SizeType.TargetPercent
BOTH = Direction.Both


@njit(cache=True)
def _snap(x: float) -> float:
    return 0.0 if is_close(x, 0.0) else x


@njit(cache=True)
def pre_segment(
    c: Any,  # vectorbt SegmentContext
    decisions: np.ndarray,
    val_price: np.ndarray,
    tradable: np.ndarray,
    weight: np.ndarray,
    pending: np.ndarray,
    fail_cash: np.ndarray,
    size_out: np.ndarray,
    order_value_out: np.ndarray,
) -> tuple[np.ndarray]:
    i = c.i
    for col in range(c.from_col, c.to_col):
        v = val_price[i, col]
        if not np.isnan(v):
            c.last_val_price[col] = v
        d = decisions[i, col]
        if not np.isnan(d):
            decide(weight, pending, fail_cash, col, d)
        size_out[col] = weight[col] if pending[col] and tradable[i, col] else np.nan
    vbt_nb.sort_call_seq_nb(c, size_out, TARGET_PERCENT, BOTH, order_value_out)
    return (size_out,)


@njit(cache=True)
def order(
    c: Any,  # vectorbt OrderContext
    size_out: np.ndarray,
    fill_price: np.ndarray,
    slippage: np.ndarray,
    pending: np.ndarray,
    fail_cash: np.ndarray,
    fees: float,
    fixed_fees: float,
    granularity: float,
    drift: float,
) -> Any:  # a vectorbt Order
    col = c.col
    w = size_out[col]
    if np.isnan(w):
        return NoOrder
    val = _snap(c.value_now)
    vp = c.val_price_now
    if val <= 0.0 or np.isnan(vp) or not may_attempt(fail_cash[col], _snap(c.cash_now)):
        size_out[col] = np.nan  # no order: nothing to settle after it
        return NoOrder
    if drift > 0.0 and abs(w - _snap(c.position_now) * vp / val) <= drift:
        pending[col] = False  # within the drift band: reached
        size_out[col] = np.nan
        return NoOrder
    return vbt_nb.order_nb(
        size=w,
        price=fill_price[c.i, col],
        size_type=TARGET_PERCENT,
        direction=BOTH,
        fees=fees,
        fixed_fees=fixed_fees,
        slippage=slippage[c.i, col],
        min_size=0.0,
        size_granularity=granularity,
    )


@njit(cache=True)
def post_order(
    c: Any,  # vectorbt PostOrderContext
    size_out: np.ndarray,
    weight: np.ndarray,
    pending: np.ndarray,
    fail_cash: np.ndarray,
    granularity: float,
    fees: float,
    fixed_fees: float,
    slippage: np.ndarray,
    records: np.ndarray,
    n_records: np.ndarray,
) -> None:
    col = c.col
    w = size_out[col]
    if np.isnan(w):
        return
    val = _snap(c.value_before)
    units = w * val / c.val_price_before - _snap(c.position_before)
    res = c.order_result
    filled = res.size if res.side == 0 else -res.size
    if np.isnan(filled):
        filled = 0.0
    coming = units > 0.0 and sale_pending(
        weight, pending, c.last_position, c.last_val_price, val, col
    )
    shrink = fee_shrink(fees, slippage[c.i, col], fixed_fees, _snap(c.cash_before))
    outcome, reason, still = settle(units, filled, res.status, granularity, coming, shrink)
    if outcome >= 0:
        k = n_records[0]
        if k < records.shape[0]:
            rec = records[k]
            rec["bar"] = c.i
            rec["col"] = col
            rec["size"] = filled
            rec["requested"] = units
            traded = res.status == 0 and filled != 0.0  # not a zero-size "fill" (quirk)
            rec["price"] = res.price if traded else np.nan
            rec["fees"] = res.fees if traded else 0.0
            rec["order_id"] = TARGET_ORDER_ID
            rec["outcome"] = outcome
            rec["reason"] = reason
        n_records[0] = k + 1  # counts past the end: the caller sees the overflow
    if still:
        fail_cash[col] = _snap(c.cash_now)
    else:
        pending[col] = False
