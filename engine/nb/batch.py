"""The compiled batch: many weight sets through the bar loop in one parallel call.

Every trial runs the event engine's own bar loop (``engine.nb.loop.run_bars``) on the
shared market arrays, with its own decisions (``order_targets_nb`` of its weights), in
parallel over trials (numba ``prange``). Nothing per bar is kept: each trial leaves the
statistics of a few windows of its equity (sums from which ``engine.stats.summarize``
gives every performance figure), the moments of its returns, its order counts and, on
request, its per-period returns.

Window statistics (``WINDOW_FIELDS`` in ``engine.batch``), per window ``[a, b)`` of
periods: the number of returns, their sum, sum of squares and sum of squared negative
returns, the equity before the window (``base``: the initial cash when ``a = 0``), the
equity at its end (``final``) and the largest drawdown inside it measured from
``base``. Returns are simple returns per period, the first against ``base``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.enums import (
    BatchOutput,
    BatchPlan,
    BookArrays,
    CostParams,
    LoopOutput,
    LoopState,
    MarketArrays,
    OrderOutcome,
    StandingTargets,
    TargetArrays,
)
from engine.nb.loop import run_bars
from engine.nb.prepare import cap_rows, max_gross, order_targets_nb
from engine.stats import add_return, summarize, track_drawdown

N_WINDOW_FIELDS = 7
CUT = int(OrderOutcome.CUT)
REJECTED = int(OrderOutcome.REJECTED)


@njit(cache=True)
def grid_weights(weights: np.ndarray, decision: np.ndarray) -> np.ndarray:
    """Bar-row weights as the decision standing at each loop row (``engine.instants``)."""
    g = decision.shape[0]
    m = weights.shape[1]
    out = np.empty((g, m))
    for r in range(g):
        d = decision[r]
        for j in range(m):
            out[r, j] = weights[d, j] if d >= 0 else np.nan
    return out


@njit(cache=True)
def window_sums(equity: np.ndarray, init_cash: float, a: int, b: int, out: np.ndarray) -> None:
    """The window statistics of ``equity[a:b]`` (per-period values) into ``out``."""
    base = equity[a - 1] if a > 0 else init_cash
    s1 = s2 = s_down = 0.0
    peak = base
    mdd = 0.0
    prev = base
    for i in range(a, b):
        eq = equity[i]
        s1, s2, s_down = add_return(s1, s2, s_down, eq / prev - 1.0)
        peak, mdd = track_drawdown(peak, mdd, eq)
        prev = eq
    out[0] = b - a
    out[1] = s1
    out[2] = s2
    out[3] = s_down
    out[4] = base
    out[5] = prev
    out[6] = mdd


@njit(cache=True)
def return_moments(equity: np.ndarray, init_cash: float) -> tuple[float, float]:
    """Skewness and raw kurtosis (3 for normal) of the per-period returns, two passes
    (the biased moment estimators, as scipy's defaults)."""
    n = equity.shape[0]
    if n < 2:
        return np.nan, np.nan
    total = 0.0
    prev = init_cash
    for i in range(n):
        total += equity[i] / prev - 1.0
        prev = equity[i]
    mean = total / n
    m2 = m3 = m4 = 0.0
    prev = init_cash
    for i in range(n):
        d = equity[i] / prev - 1.0 - mean
        prev = equity[i]
        d2 = d * d
        m2 += d2
        m3 += d2 * d
        m4 += d2 * d2
    m2 /= n
    m3 /= n
    m4 /= n
    if m2 <= 0.0:
        return np.nan, np.nan
    return m3 / m2**1.5, m4 / (m2 * m2)


@njit(cache=True)
def off_target_counts(
    weights: np.ndarray, pos: np.ndarray, equity: np.ndarray, plan: BatchPlan
) -> tuple[int, int]:
    """(days, longest run of consecutive days) on which the invested share held
    (sum |units x last close| / equity at a bar's close) differed from the share in force
    (sum |standing target| of the bar ``lag`` rows earlier, 0 before) by more than
    ``plan.off_target_gap`` at some bar: ``Result.off_target_days`` of the same run.
    ``weights`` are the trial's bar-row decisions (NaN = none), ``pos``/``equity`` the
    loop's outputs on loop rows."""
    n, m = weights.shape
    decided = False
    for i in range(n):
        for j in range(m):
            if not np.isnan(weights[i, j]):
                decided = True
    if not decided:
        return 0, 0
    standing = np.zeros(m)
    gross = np.zeros(n)  # sum |standing target| after each bar's decision
    days = longest = run = 0
    flagged_day = -(2**62)
    day = plan.bar_day[0]
    worst = -1.0
    for i in range(n + 1):
        if i == n or plan.bar_day[i] != day:  # the day ends: was it off target?
            if worst > plan.off_target_gap:
                days += 1
                run = run + 1 if day == flagged_day + 1 else 1
                longest = max(longest, run)
                flagged_day = day
            if i == n:
                break
            day, worst = plan.bar_day[i], -1.0
        total = 0.0
        for j in range(m):
            if not np.isnan(weights[i, j]):
                standing[j] = weights[i, j]
            total += abs(standing[j])
        gross[i] = total
        in_force = gross[i - plan.lag] if i >= plan.lag else 0.0
        r = plan.close_rows[i]
        held = 0.0
        for j in range(m):
            c = plan.close_ffill[i, j]
            if not np.isnan(c):
                held += abs(pos[r, j] * c / equity[r])
        gap = abs(held - in_force)
        if gap > worst:  # a NaN gap (zero equity) never counts, as pandas' max skips it
            worst = gap
    return days, longest


@njit(cache=True)
def _trial(
    c: int,
    weights: np.ndarray,
    plan: BatchPlan,
    market: MarketArrays,
    costs: CostParams,
    book: BookArrays,
    borrow_close: np.ndarray | None,
    out: BatchOutput,
) -> None:
    """Trial ``c``: its weights (bar rows x assets) through the bar loop, its outputs
    into row ``c`` of ``out``."""
    decided = weights  # bar rows, capped as Result.decisions are
    if max_gross(weights) > plan.max_leverage:
        decided = cap_rows(weights, plan.max_leverage)
    w = grid_weights(decided, plan.decision) if plan.on_grid else decided
    bar, col, value = order_targets_nb(w, market.tradable, plan.lag, plan.every_bar)
    targets = TargetArrays(bar, col, value)
    g, m = w.shape
    init_cash = plan.init_cash
    state = LoopState(
        np.array([init_cash]),
        np.zeros(m),
        np.full(m, np.nan),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        StandingTargets(np.full(m, np.nan), np.zeros(m, dtype=np.bool_), np.full(m, -np.inf)),
    )
    records = out.records[c]
    loop = LoopOutput(np.empty(g), np.empty(g), np.empty((g, m)), records)
    n_filled = n_cut = n_rejected = 0
    at = 0
    while at < g:
        at = run_bars(at, g, market, targets, costs, book, state, loop, borrow_close)
        for r in range(state.n_records[0]):
            outcome = records[r]["outcome"]
            if outcome == REJECTED:
                n_rejected += 1
            else:
                n_filled += 1
                if outcome == CUT:
                    n_cut += 1
        state.n_records[0] = 0  # counted: the buffer is reused
    read_rows = plan.read_rows
    n = read_rows.shape[0]
    equity = np.empty(n)
    for i in range(n):
        equity[i] = loop.equity[read_rows[i]]
    windows = plan.windows
    for k in range(windows.shape[0]):
        window_sums(equity, init_cash, windows[k, 0], windows[k, 1], out.windows[c, k])
    skew, kurt = return_moments(equity, init_cash)
    out.moments[c, 0] = skew
    out.moments[c, 1] = kurt
    out.counts[c, 0] = n_filled
    out.counts[c, 1] = n_cut
    out.counts[c, 2] = n_rejected
    days_off, longest_off = off_target_counts(decided, loop.pos, loop.equity, plan)
    out.counts[c, 3] = days_off
    out.counts[c, 4] = longest_off
    if plan.keep_returns:
        prev = init_cash
        for i in range(n):
            out.returns[c, i] = equity[i] / prev - 1.0
            prev = equity[i]


@njit(cache=True, parallel=True)
def run_batch_nb(
    weights: np.ndarray,
    plan: BatchPlan,
    market: MarketArrays,
    costs: CostParams,
    book: BookArrays,
    borrow_close: np.ndarray | None,
    out: BatchOutput,
) -> None:
    """Trial ``c`` runs ``weights[c]`` (bar rows x assets) on the shared market; its
    outputs land in row ``c`` of ``out`` (``engine.enums.BatchOutput``)."""
    for c in prange(weights.shape[0]):
        _trial(int(c), weights[c], plan, market, costs, book, borrow_close, out)


@njit(cache=True)
def summarize_windows(sums: np.ndarray, ppy: float) -> np.ndarray:
    """``engine.stats.summarize`` of each row of window statistics (rows x 7) -> rows x 8."""
    out = np.empty((sums.shape[0], 8))
    for r in range(sums.shape[0]):
        s = sums[r]
        vals = summarize(int(s[0]), s[1], s[2], s[3], s[5], s[4], s[6], ppy)
        for k in range(8):
            out[r, k] = vals[k]
    return out
