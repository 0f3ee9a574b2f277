"""Fill arithmetic for one order: cash, units, fees, slippage (compiled, arrays in/out).

Conventions (identical to vectorbt's ``buy_nb``/``sell_nb`` with direction "both",
no cash locking, partial fills allowed, so both simulators agree to the cent):

- buy fills at ``price * (1 + slippage)``, sell at ``price * (1 - slippage)``;
- fee = ``fees * notional + fixed_fees`` (``fees`` is a fraction: 0.001 = 10 bps);
- a buy that needs more cash than there is shrinks so that notional plus fee
  spend exactly the cash: ``units = (cash - fixed) / (price * (1 + fees))``;
- sells (and short sales) are not cash-limited; short proceeds go to cash;
- ``granularity`` > 0 rounds units down to a multiple (1.0 = whole units), NaN = fractional;
- floating-point comparisons use relative 1e-9 / absolute 1e-12 tolerance.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.enums import FillStatus

REL_TOL = 1e-9
ABS_TOL = 1e-12
FILLED = int(FillStatus.FILLED)  # plain ints: compile-time constants in numba
IGNORED = int(FillStatus.IGNORED)
REJECTED = int(FillStatus.REJECTED)


@njit(cache=True)
def is_close(a: float, b: float) -> bool:
    if np.isnan(a) or np.isnan(b) or np.isinf(a) or np.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


@njit(cache=True)
def add_exact(a: float, b: float) -> float:
    """a + b, snapped to 0 when the two cancel within tolerance (avoids 1e-17 dust)."""
    if np.sign(a) != np.sign(b):
        if is_close(abs(a), abs(b)):
            return 0.0
    elif is_close(a + b, 0.0):
        return 0.0
    return a + b


@njit(cache=True)
def round_down(size: float, granularity: float) -> float:
    """``size`` rounded down to a multiple of ``granularity`` (NaN = fractional units)."""
    if np.isnan(granularity):
        return size
    return size // granularity * granularity


@njit(cache=True)
def buy(
    cash: float,
    position: float,
    size: float,
    price: float,
    fees: float,
    fixed_fees: float,
    slippage: float,
    granularity: float,
) -> tuple[float, float, float, float, float, int]:
    """Buy ``size`` > 0 units. Returns (cash, position, filled units, fill price, fee, status)."""
    adj_price = price * (1.0 + slippage)
    if cash == 0.0:
        return cash, position, 0.0, np.nan, 0.0, REJECTED
    adj_size = round_down(size, granularity)
    req_cash = adj_size * adj_price
    req_fees = req_cash * fees + fixed_fees
    total_req = req_cash + req_fees
    if is_close(total_req, cash) or total_req < cash:
        final_size = adj_size
        fees_paid = req_fees
        final_req = total_req
    else:
        max_req_cash = add_exact(cash, -fixed_fees) / (1.0 + fees)
        if max_req_cash <= 0.0:
            return cash, position, 0.0, np.nan, 0.0, REJECTED
        max_size = max_req_cash / adj_price
        if not np.isnan(granularity):
            final_size = round_down(max_size, granularity)
            new_req = final_size * adj_price
            fees_paid = new_req * fees + fixed_fees
            final_req = new_req + fees_paid
        else:
            final_size = max_size
            fees_paid = cash - max_req_cash
            final_req = cash
    if is_close(adj_size, 0.0) or final_size <= 0.0 or is_close(final_size, 0.0):
        return cash, position, 0.0, np.nan, 0.0, IGNORED
    return (
        add_exact(cash, -final_req),
        add_exact(position, final_size),
        final_size,
        adj_price,
        fees_paid,
        FILLED,
    )


@njit(cache=True)
def sell(
    cash: float,
    position: float,
    size: float,
    price: float,
    fees: float,
    fixed_fees: float,
    slippage: float,
    granularity: float,
) -> tuple[float, float, float, float, float, int]:
    """Sell or short ``size`` > 0 units. Returns (cash, position, -units, fill price, fee, status)."""
    adj_price = price * (1.0 - slippage)
    size_limit = round_down(size, granularity)
    if is_close(size_limit, 0.0):
        return cash, position, 0.0, np.nan, 0.0, IGNORED
    acq_cash = size_limit * adj_price
    fees_paid = acq_cash * fees + fixed_fees
    final_acq = add_exact(acq_cash, -fees_paid)
    if final_acq < 0.0:
        return cash, position, 0.0, np.nan, 0.0, REJECTED
    return (
        cash + final_acq,
        add_exact(position, -size_limit),
        -size_limit,
        adj_price,
        fees_paid,
        FILLED,
    )


@njit(cache=True)
def trade_units(
    cash: float,
    position: float,
    units: float,
    price: float,
    fees: float,
    fixed_fees: float,
    slippage: float,
    granularity: float,
) -> tuple[float, float, float, float, float, int]:
    """Trade signed ``units`` (> 0 buy, < 0 sell/short) with the conventions above."""
    if np.isnan(units) or np.isnan(price):
        return cash, position, 0.0, np.nan, 0.0, IGNORED
    if units > 0.0:
        return buy(cash, position, units, price, fees, fixed_fees, slippage, granularity)
    return sell(cash, position, -units, price, fees, fixed_fees, slippage, granularity)
