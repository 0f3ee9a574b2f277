"""The compiled bar loop: shared cash, explicit orders, target-weight rebalancing.

One call advances the portfolio over bars ``[start, stop)`` and mutates the
state arrays in place, so the Python simulator can stop at a strategy's event
bars, let the strategy place orders, and resume. A weights-only strategy runs
in one call with no Python in the loop.

Per bar ``i`` (all prices in quote currency, units of the asset):

1. valuation prices: ``val_price[i, j]`` when known (the fill-time price of a
   tradable asset, else its last close), forward-filled;
2. explicit orders active at ``i`` on tradable assets are checked against the
   bar (market at the fill price, limit/stop/stop-limit/trailing stop against
   open/high/low, a gap through the trigger fills at the open);
3. the targets sent at bar ``i`` (a sparse list in bar order) rebalance to
   those weights of the portfolio value at the valuation prices, sells before
   buys (orders sorted by value, as vectorbt's ``call_seq='auto'``); all
   targets of a bar use the value from before the bar's first trade;
4. short positions pay ``borrow`` (fraction of short notional per bar of the
   asset) at the asset's own close;
5. equity = cash + sum(units * last known close).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.execution import FILLED, is_close, trade_units

# order kinds (keep in sync with engine.orders.OrderType)
MARKET = 0
LIMIT = 1
STOP = 2
STOP_LIMIT = 3
TRAILING_STOP = 4

# order-book status
PENDING = 0
DONE = 1
CANCELLED = 2

# columns of the fill record array
REC_BAR, REC_COL, REC_SIZE, REC_PRICE, REC_FEES, REC_ORDER = 0, 1, 2, 3, 4, 5
REC_FIELDS = 6


@njit(cache=True)
def _insert_argsort(values: np.ndarray, idx: np.ndarray) -> None:
    # Same ordering as vectorbt's insert_argsort_nb: ascending, NaN last, stable.
    for j in range(1, len(values)):
        v = values[j]
        k = idx[j]
        i = j - 1
        while i >= 0 and (values[i] > v or np.isnan(values[i])):
            values[i + 1] = values[i]
            idx[i + 1] = idx[i]
            i -= 1
        values[i + 1] = v
        idx[i + 1] = k


@njit(cache=True)
def _trigger_price(
    kind: int,
    units: float,
    limit: float,
    stop: float,
    ref: float,
    trail: float,
    o: float,
    h: float,
    lo: float,
    fill_price: float,
) -> tuple[float, bool]:
    """Price at which an explicit order fills on this bar (NaN = no fill) and whether a
    stop-limit's stop was triggered (it then rests as a limit order)."""
    buy = units > 0.0
    if kind == MARKET:
        return fill_price, False
    if kind == LIMIT:
        if buy:
            if o <= limit:
                return o, False
            if lo <= limit:
                return limit, False
        else:
            if o >= limit:
                return o, False
            if h >= limit:
                return limit, False
        return np.nan, False
    if kind == STOP or kind == TRAILING_STOP:  # noqa: SIM109 (plain compares in numba)
        level = stop
        if kind == TRAILING_STOP:
            level = ref * (1.0 - trail) if not buy else ref * (1.0 + trail)
        if buy:
            if o >= level:
                return o, False
            if h >= level:
                return level, False
        else:
            if o <= level:
                return o, False
            if lo <= level:
                return level, False
        return np.nan, False
    if kind == STOP_LIMIT:
        # Triggered at the open (gap) or intrabar at the stop; fills only if the limit
        # is reachable from the trigger price, else rests as a limit order.
        if buy:
            if o >= stop:
                return (o if o <= limit else np.nan), True
            if h >= stop:
                return (min(stop, limit) if limit >= stop else np.nan), True
        else:
            if o <= stop:
                return (o if o >= limit else np.nan), True
            if lo <= stop:
                return (max(stop, limit) if limit <= stop else np.nan), True
        return np.nan, False
    return np.nan, False


@njit(cache=True)
def _snap(x: float) -> float:
    """0.0 when ``x`` is zero within tolerance (cash or units left as float dust)."""
    return 0.0 if is_close(x, 0.0) else x


@njit(cache=True)
def _record(
    records: np.ndarray,
    n_records: np.ndarray,
    i: int,
    j: int,
    filled: float,
    price: float,
    fee: float,
    order_id: int,
) -> None:
    """Append one fill record (bar, asset column, signed units, price, fee, order id)."""
    k = n_records[0]
    records[k, REC_BAR] = i
    records[k, REC_COL] = j
    records[k, REC_SIZE] = filled
    records[k, REC_PRICE] = price
    records[k, REC_FEES] = fee
    records[k, REC_ORDER] = order_id
    n_records[0] = k + 1


@njit(cache=True)
def run_bars(
    start: int,
    stop: int,
    fill_price: np.ndarray,
    val_price: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close_val: np.ndarray,
    close: np.ndarray | None,
    tradable: np.ndarray,
    target_bar: np.ndarray,
    target_col: np.ndarray,
    target_weight: np.ndarray,
    target_next: np.ndarray,
    fees: float,
    fixed_fees: float,
    slippage: np.ndarray,
    granularity: float,
    drift: float,
    borrow: float,
    book_col: np.ndarray,
    book_kind: np.ndarray,
    book_units: np.ndarray,
    book_limit: np.ndarray,
    book_stop: np.ndarray,
    book_trail: np.ndarray,
    book_from: np.ndarray,
    book_status: np.ndarray,
    book_ref: np.ndarray,
    cash: np.ndarray,
    pos: np.ndarray,
    last_val: np.ndarray,
    equity_out: np.ndarray,
    cash_out: np.ndarray,
    pos_out: np.ndarray,
    records: np.ndarray,
    n_records: np.ndarray,
) -> None:
    """Advance the portfolio over bars [start, stop); see the module docstring.

    Arrays of shape (n, m): fill_price (NaN where no fill possible), val_price,
    open_/high/low, close_val (last known close), close (NaN where the asset's bar
    does not close at this row; None when there is no borrow cost), tradable,
    slippage (fraction per bar and asset). ``target_*`` list the target weights
    sent, in bar order (``engine.targets.Targets``); ``target_next`` (1 element)
    is the index of the first one not yet reached. ``book_*`` describe
    explicit orders (units signed, NaN units = close the position). ``cash`` is a
    1-element array, ``pos``/``last_val`` per asset; all mutated in place.
    """
    m = pos.shape[0]
    order_val = np.empty(m)
    seq = np.empty(m, dtype=np.int64)
    target = np.empty(m)  # this bar's target weights, NaN = no order
    n_targets = target_bar.shape[0]
    t = target_next[0]
    n_book = book_col.shape[0]
    first_pending = 0
    for i in range(start, stop):
        for j in range(m):
            v = val_price[i, j]
            if not np.isnan(v):
                last_val[j] = v

        # explicit orders (placed by event hooks), in submission order
        while first_pending < n_book and book_status[first_pending] != PENDING:
            first_pending += 1  # skip the settled prefix: O(open orders) per bar
        for b in range(first_pending, n_book):
            if book_status[b] != PENDING or book_from[b] > i:
                continue
            j = book_col[b]
            if not tradable[i, j]:
                continue
            kind = book_kind[b]
            units = book_units[b]
            if np.isnan(units):
                units = -pos[j]
                if units == 0.0:
                    # a market "close" with nothing to close is done; a protective
                    # stop/limit "close" waits for the position it protects
                    if kind == MARKET:
                        book_status[b] = DONE
                    continue
            if kind == TRAILING_STOP and np.isnan(book_ref[b]):
                book_ref[b] = open_[i, j]
            px, triggered = _trigger_price(
                kind,
                units,
                book_limit[b],
                book_stop[b],
                book_ref[b],
                book_trail[b],
                open_[i, j],
                high[i, j],
                low[i, j],
                fill_price[i, j],
            )
            if kind == STOP_LIMIT and triggered:
                book_kind[b] = LIMIT
            if kind == TRAILING_STOP:
                if units > 0.0:
                    book_ref[b] = min(book_ref[b], low[i, j])
                else:
                    book_ref[b] = max(book_ref[b], high[i, j])
            if np.isnan(px):
                continue
            slip = (
                slippage[i, j] if (kind == MARKET or kind == STOP or kind == TRAILING_STOP) else 0.0  # noqa: SIM109
            )
            c1, p1, filled, price, fee, status = trade_units(
                _snap(cash[0]), _snap(pos[j]), units, px, fees, fixed_fees, slip, granularity
            )
            book_status[b] = DONE
            if status == FILLED:
                cash[0] = c1
                pos[j] = p1
                _record(records, n_records, i, j, filled, price, fee, b)

        # target-weight rebalancing
        if t < n_targets and target_bar[t] == i:
            target[:] = np.nan
            while t < n_targets and target_bar[t] == i:
                target[target_col[t]] = target_weight[t]
                t += 1
            value = cash[0]
            for j in range(m):
                if pos[j] != 0.0:
                    value += pos[j] * last_val[j]
            for j in range(m):
                seq[j] = j
                order_val[j] = target[j] * value - pos[j] * last_val[j]
            _insert_argsort(order_val, seq)
            for q in range(m):
                j = seq[q]
                w = target[j]
                if np.isnan(w) or not tradable[i, j]:
                    continue
                c0 = _snap(cash[0])
                p0 = _snap(pos[j])
                val = _snap(value)
                vp = last_val[j]
                if val <= 0.0 or np.isnan(vp):
                    continue
                if drift > 0.0 and abs(w - p0 * vp / val) <= drift:
                    continue
                units = w * val / vp - p0
                c1, p1, filled, price, fee, status = trade_units(
                    c0, p0, units, fill_price[i, j], fees, fixed_fees, slippage[i, j], granularity
                )
                if status == FILLED:
                    cash[0] = c1
                    pos[j] = p1
                    _record(records, n_records, i, j, filled, price, fee, -1)

        if close is not None:  # None (no borrow cost): pruned at compile time
            for j in range(m):
                if pos[j] < 0.0 and not np.isnan(close[i, j]):
                    cash[0] -= -pos[j] * close[i, j] * borrow

        eq = cash[0]
        for j in range(m):
            if pos[j] != 0.0:
                eq += pos[j] * close_val[i, j]
            pos_out[i, j] = pos[j]
        equity_out[i] = eq
        cash_out[i] = cash[0]
    target_next[0] = t
