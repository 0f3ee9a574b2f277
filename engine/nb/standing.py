"""Standing targets: a weights strategy's target stands until the strategy changes it.

Compiled rules shared by the event loop (``engine.nb.loop``) and the vectorbt
callbacks (``engine.nb.vector``), so both simulators pursue targets identically:

- a decision sets the asset's standing weight and marks it *pending*;
- at every bar where the asset trades, a pending target is ordered (sales before
  purchases within the bar, all sized from the value before the bar's first trade);
- a sale, a full purchase, or one that rounds to nothing reaches the target;
- a purchase cut (or rejected) for lack of cash stays pending while another asset
  still has a pending sale, i.e. cash is on its way from a market that has not
  opened yet (across calendars the purchase waits for the sale that funds it);
  with no sale to come the shortfall is the fees' and slippage's, and the target
  counts as reached;
- after a failed attempt the asset is retried only once there is more cash than
  there was then (no order is sent that could only fail again);
- a sale whose proceeds cannot cover its fees is rejected and not retried.

Units: weights are fractions of portfolio value, units of the asset, cash in quote
currency.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.enums import FillStatus, OrderOutcome, OrderReason
from engine.nb.fills import is_close, round_down

FILLED = int(FillStatus.FILLED)
REJECTED = int(FillStatus.REJECTED)
OUT_FILLED = int(OrderOutcome.FILLED)
OUT_CUT = int(OrderOutcome.CUT)
OUT_REJECTED = int(OrderOutcome.REJECTED)
NO_REASON = int(OrderReason.NONE)
CASH = int(OrderReason.CASH)
FEES = int(OrderReason.FEES)
NO_FAILURE = -np.inf


@njit(cache=True)
def decide(
    weight: np.ndarray, pending: np.ndarray, fail_cash: np.ndarray, j: int, w: float
) -> None:
    """A new decision for asset ``j``: pursue ``w`` from now on."""
    weight[j] = w
    pending[j] = True
    fail_cash[j] = NO_FAILURE


@njit(cache=True)
def may_attempt(fail_cash: float, cash: float) -> bool:
    """False while an earlier attempt failed for lack of cash and there is no more now."""
    if fail_cash == NO_FAILURE:
        return True
    return cash > fail_cash and not is_close(cash, fail_cash)


@njit(cache=True)
def sale_pending(
    weight: np.ndarray,
    pending: np.ndarray,
    pos: np.ndarray,
    val_price: np.ndarray,
    value: float,
    skip: int,
) -> bool:
    """True when an asset other than ``skip`` still has a pending target below what it
    holds (a sale that will raise cash once its market trades)."""
    for k in range(weight.shape[0]):
        if k == skip or not pending[k] or np.isnan(val_price[k]):
            continue
        if weight[k] * value - pos[k] * val_price[k] < 0.0:
            return True
    return False


@njit(cache=True)
def settle(
    requested: float,
    filled: float,
    status: int,
    granularity: float,
    more_cash_coming: bool,
    shrink: float,
) -> tuple[int, int, bool]:
    """(outcome, reason, still pending) of one target order; outcome -1 = nothing to record.

    ``requested`` and ``filled`` are signed units; ``status`` is the fill status of
    ``engine.nb.fills`` (vectorbt uses the same codes). An order that rounds to no
    whole unit reaches its target; a purchase that could not afford one is rejected.
    ``shrink`` is the fraction of a purchase that fees and slippage alone take when it
    spends the cash exactly (``fee_shrink``): a purchase short by no more than that is
    filled, not cut (the costs come out of the target's value).
    """
    want = round_down(abs(requested), granularity)
    if want <= 0.0 or is_close(want, 0.0):
        return -1, NO_REASON, False  # nothing to trade at this granularity
    done = abs(filled)
    if status == FILLED and done > 0.0 and (done >= want or is_close(done, want)):
        return OUT_FILLED, NO_REASON, False
    if requested < 0.0:  # sales are not cash-limited: only fees can stop them
        if status == REJECTED:
            return OUT_REJECTED, FEES, False
        return -1, NO_REASON, False
    if status == FILLED and done > 0.0:
        floor = round_down(abs(requested) * (1.0 - shrink), granularity)
        if done >= floor or is_close(done, floor):
            return OUT_FILLED, NO_REASON, False
        return OUT_CUT, CASH, more_cash_coming
    return OUT_REJECTED, CASH, more_cash_coming


@njit(cache=True)
def fee_shrink(fees: float, slippage: float, fixed_fees: float, cash: float) -> float:
    """Fraction of a purchase that costs take when it spends all of ``cash``: units
    ``(cash - fixed) / (price (1 + slippage) (1 + fees))`` instead of ``cash / price``."""
    if cash <= 0.0:
        return 0.0
    kept = max(cash - fixed_fees, 0.0) / cash / ((1.0 + slippage) * (1.0 + fees))
    return 1.0 - kept + 1e-12
