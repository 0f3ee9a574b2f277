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
3. target-weight decisions taking effect at bar ``i`` (a sparse list in bar order)
   become the assets' standing targets; every pending standing target of an
   asset that trades at ``i`` is ordered to its weight of the portfolio value at
   the valuation prices, sells before buys (orders sorted by value, as
   vectorbt's ``call_seq='auto'``), all from the value before the bar's first
   trade; a target stays pending until reached (``engine.nb.standing``);
4. short positions pay ``borrow`` (fraction of short notional per bar of the
   asset) at the asset's own close;
5. equity = cash + sum(units * last known close).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.enums import (
    TARGET_ORDER_ID,
    BookArrays,
    CostParams,
    LoopOutput,
    LoopState,
    MarketArrays,
    OrderStatus,
    OrderType,
    TargetArrays,
)
from engine.nb.fills import FILLED, REJECTED, is_close, trade_units
from engine.nb.standing import (
    CASH,
    FEES,
    OUT_FILLED,
    OUT_REJECTED,
    decide,
    fee_shrink,
    may_attempt,
    sale_pending,
    settle,
)

# plain ints from the one source (engine.enums): compile-time constants here
MARKET = int(OrderType.MARKET)
LIMIT = int(OrderType.LIMIT)
STOP = int(OrderType.STOP)
STOP_LIMIT = int(OrderType.STOP_LIMIT)
TRAILING_STOP = int(OrderType.TRAILING_STOP)
PENDING = int(OrderStatus.PENDING)
DONE = int(OrderStatus.DONE)


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
    requested: float,
    price: float,
    fee: float,
    order_id: int,
    outcome: int,
    reason: int,
) -> None:
    """Append one order record (``engine.enums.order_dt``)."""
    k = n_records[0]
    rec = records[k]
    rec["bar"] = i
    rec["col"] = j
    rec["size"] = filled
    rec["requested"] = requested
    rec["price"] = price
    rec["fees"] = fee
    rec["order_id"] = order_id
    rec["outcome"] = outcome
    rec["reason"] = reason
    n_records[0] = k + 1


@njit(cache=True)
def run_bars(
    start: int,
    stop: int,
    market: MarketArrays,
    targets: TargetArrays,
    costs: CostParams,
    book: BookArrays,
    state: LoopState,
    out: LoopOutput,
    borrow_close: np.ndarray | None,
) -> int:
    """Advance the portfolio over bars [start, stop); see the module docstring.

    The groups are described in ``engine.enums``. ``borrow_close`` (n, m) is the close
    where the asset's bar closes at this row (NaN elsewhere), or None when there is no
    borrow cost (the borrow step is then pruned at compile time). ``state`` and ``out``
    are mutated in place, so a run may stop at an event bar and resume. Returns the bar
    it stopped before: ``stop``, or earlier when ``out.records`` could run out of room
    in the next bar (the caller grows it and resumes there).
    """
    fill_price = market.fill_price
    val_price = market.val_price
    open_ = market.open
    high = market.high
    low = market.low
    close_val = market.close_val
    tradable = market.tradable
    slippage = market.slippage
    target_bar = targets.bar
    target_col = targets.col
    target_weight = targets.weight
    fees = costs.fees
    fixed_fees = costs.fixed_fees
    granularity = costs.granularity
    drift = costs.drift
    borrow = costs.borrow
    book_col = book.col
    book_kind = book.kind
    book_units = book.units
    book_limit = book.limit
    book_stop = book.stop
    book_trail = book.trail
    book_from = book.active_from
    book_status = book.status
    book_ref = book.ref
    cash = state.cash
    pos = state.pos
    last_val = state.last_val
    target_next = state.target_next
    n_records = state.n_records
    standing = state.standing.weight
    pending = state.standing.pending
    fail_cash = state.standing.fail_cash
    equity_out = out.equity
    cash_out = out.cash
    pos_out = out.pos
    records = out.records
    m = pos.shape[0]
    order_val = np.empty(m)
    seq = np.empty(m, dtype=np.int64)
    n_targets = target_bar.shape[0]
    t = target_next[0]
    n_book = book_col.shape[0]
    first_pending = 0
    n_pending = 0
    for j in range(m):
        if pending[j]:
            n_pending += 1
    for i in range(start, stop):
        while first_pending < n_book and book_status[first_pending] != PENDING:
            first_pending += 1  # skip the settled prefix: O(open orders) per bar
        busy = first_pending < n_book or n_pending > 0 or (t < n_targets and target_bar[t] == i)
        if busy and n_records[0] + m + n_book - first_pending > records.shape[0]:
            target_next[0] = t
            return i  # this bar could overflow the record buffer
        for j in range(m):
            v = val_price[i, j]
            if not np.isnan(v):
                last_val[j] = v

        # explicit orders (placed by event hooks), in submission order
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
                _record(records, n_records, i, j, filled, units, price, fee, b, OUT_FILLED, 0)
            elif status == REJECTED:
                why = CASH if units > 0.0 else FEES
                _record(records, n_records, i, j, 0.0, units, np.nan, 0.0, b, OUT_REJECTED, why)

        # standing targets: new decisions, then every pending target that can trade
        while t < n_targets and target_bar[t] == i:
            j = target_col[t]
            if not pending[j]:
                n_pending += 1
            decide(standing, pending, fail_cash, j, target_weight[t])
            t += 1
        if n_pending > 0:
            value = cash[0]
            for j in range(m):
                if pos[j] != 0.0:
                    value += pos[j] * last_val[j]
            for j in range(m):
                seq[j] = j
                w = standing[j] if pending[j] and tradable[i, j] else np.nan
                order_val[j] = w * value - pos[j] * last_val[j]
            _insert_argsort(order_val, seq)
            for q in range(m):
                j = seq[q]
                if not pending[j] or not tradable[i, j]:
                    continue
                w = standing[j]
                c0 = _snap(cash[0])
                p0 = _snap(pos[j])
                val = _snap(value)
                vp = last_val[j]
                if val <= 0.0 or np.isnan(vp) or not may_attempt(fail_cash[j], c0):
                    continue
                if drift > 0.0 and abs(w - p0 * vp / val) <= drift:
                    pending[j] = False  # within the drift band: reached
                    n_pending -= 1
                    continue
                units = w * val / vp - p0
                c1, p1, filled, price, fee, status = trade_units(
                    c0, p0, units, fill_price[i, j], fees, fixed_fees, slippage[i, j], granularity
                )
                if status == FILLED:
                    cash[0] = c1
                    pos[j] = p1
                coming = units > 0.0 and sale_pending(standing, pending, pos, last_val, val, j)
                shrink = fee_shrink(fees, slippage[i, j], fixed_fees, c0)
                outcome, reason, still = settle(units, filled, status, granularity, coming, shrink)
                if outcome >= 0:
                    _record(
                        records, n_records, i, j, filled, units, price, fee,
                        TARGET_ORDER_ID, outcome, reason,
                    )  # fmt: skip
                if still:
                    fail_cash[j] = _snap(cash[0])
                else:
                    pending[j] = False
                    n_pending -= 1

        if borrow_close is not None:  # None (no borrow cost): pruned at compile time
            for j in range(m):
                if pos[j] < 0.0 and not np.isnan(borrow_close[i, j]):
                    cash[0] -= -pos[j] * borrow_close[i, j] * borrow

        eq = cash[0]
        for j in range(m):
            if pos[j] != 0.0:
                eq += pos[j] * close_val[i, j]
            pos_out[i, j] = pos[j]
        equity_out[i] = eq
        cash_out[i] = cash[0]
    target_next[0] = t
    return stop
