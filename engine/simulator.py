"""The event-driven simulator: flowbt's reference for fidelity.

Bars of all assets are processed in time order by the compiled loop
(``engine.nb.loop.run_bars``). Python runs only at the bars a strategy names in
``event_bars``: the loop stops after that bar's close, ``on_event`` sees the
portfolio and may place explicit orders (active from the next bar), and the
loop resumes. Without events a run is one compiled call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.bars import Bars
from engine.config import BacktestConfig, resolve_calendar
from engine.enums import (
    CostParams,
    LoopOutput,
    LoopState,
    MarketArrays,
    StandingTargets,
    TargetArrays,
    order_dt,
)
from engine.instants import Grid
from engine.nb.loop import run_bars
from engine.orders import Order, OrderBook
from engine.plan import ExecutionPlan, market_view, plan_run, strategy_weights
from engine.result import Result, assemble_result
from strategies.base import Strategy


class _Context:
    """The ``EventContext`` a strategy sees at an event bar (after its close)."""

    def __init__(
        self, bar: int, bars: Bars, cash: float, pos: np.ndarray, prices: np.ndarray
    ) -> None:
        self.bar = bar
        self.timestamp = bars.index[bar]
        self.cash = cash
        self.positions: Mapping[str, float] = {s: float(pos[k]) for k, s in enumerate(bars.symbols)}
        self.prices: Mapping[str, float] = {s: float(prices[k]) for k, s in enumerate(bars.symbols)}
        self.equity = cash + sum(q * self.prices[s] for s, q in self.positions.items() if q != 0.0)
        self.placed: list[Order] = []
        self.cancelled: list[str] = []

    def market(self, symbol: str, units: float | None) -> None:
        self.placed.append(Order.market(symbol, units))

    def limit(self, symbol: str, units: float | None, limit: float) -> None:
        self.placed.append(Order.limit_order(symbol, units, limit))

    def stop(self, symbol: str, units: float | None, stop: float) -> None:
        self.placed.append(Order.stop_order(symbol, units, stop))

    def stop_limit(self, symbol: str, units: float | None, stop: float, limit: float) -> None:
        self.placed.append(Order.stop_limit(symbol, units, stop, limit))

    def trailing_stop(self, symbol: str, units: float | None, trail: float) -> None:
        self.placed.append(Order.trailing_stop(symbol, units, trail))

    def place(self, order: Order) -> None:
        self.placed.append(order)

    def cancel(self, symbol: str) -> None:
        self.cancelled.append(symbol)


def simulate_plan(
    plan: ExecutionPlan,
    bars: Bars,
    config: BacktestConfig,
    *,
    periods_per_year: int,
    orders: list[tuple[int, Order]] | None = None,
    strategy: Strategy | None = None,
    event_bars: np.ndarray | None = None,
    grid: Grid | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the compiled loop; returns (equity, cash, positions, fill records) per bar.

    With a ``grid`` (bars of several calendars, next-open fills) ``plan`` is built on
    ``grid.bars``; ``bars``, ``orders`` and ``event_bars`` stay in bar rows, and the
    outputs are read back at the bar rows' closes.
    """
    if grid is None:
        return _run_loop(plan, bars, config, periods_per_year, orders, strategy, event_bars)
    if orders:  # active from bar b = from the first instant after bar b - 1 closed
        orders = [(int(grid.close_rows[b - 1]) + 1 if b > 0 else 0, o) for b, o in orders]
    if event_bars is not None:
        event_bars = grid.close_rows[np.asarray(event_bars, dtype=np.int64)]
    equity, cash, pos, records = _run_loop(
        plan,
        grid.bars,
        config,
        periods_per_year,
        orders,
        strategy,
        event_bars,
        context=(bars, grid.decision),
    )
    return grid.read_back(equity, cash, pos, records)


def _run_loop(
    plan: ExecutionPlan,
    bars: Bars,
    config: BacktestConfig,
    periods_per_year: int,
    orders: list[tuple[int, Order]] | None,
    strategy: Strategy | None,
    event_bars: np.ndarray | None,
    context: tuple[Bars, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The compiled loop over ``bars`` (bar or grid rows), stopping at event rows.

    ``context``: the bars a strategy's ``on_event`` sees and the bar row of each
    loop row (the grid's case); by default the loop's own rows.
    """
    n, m = bars.n_bars, bars.n_assets
    book = OrderBook()
    if orders:
        book.add(orders, bars.symbols)
    borrow = config.borrow_rate / periods_per_year
    market = MarketArrays(
        fill_price=plan.fill_price,
        val_price=plan.val_price,
        open=np.ascontiguousarray(bars.open),
        high=np.ascontiguousarray(bars.high),
        low=np.ascontiguousarray(bars.low),
        close_val=plan.close_val,
        tradable=bars.tradable,
        slippage=plan.slippage,
    )
    targets = TargetArrays(plan.targets.bar, plan.targets.col, plan.targets.weight)
    costs = CostParams(
        fees=config.costs.fees,
        fixed_fees=config.costs.fixed_fees,
        granularity=np.nan if config.fractional else 1.0,
        drift=config.drift_threshold,
        borrow=borrow,
    )
    state = LoopState(
        cash=np.array([config.init_cash], dtype=np.float64),
        pos=np.zeros(m),
        last_val=np.full(m, np.nan),
        target_next=np.zeros(1, dtype=np.int64),
        n_records=np.zeros(1, dtype=np.int64),
        standing=StandingTargets(
            weight=np.full(m, np.nan),
            pending=np.zeros(m, dtype=np.bool_),
            fail_cash=np.full(m, -np.inf),
        ),
    )
    # room for one record per decision and booked order (most runs need no more; the
    # loop stops before a bar that could overflow it and the buffer grows)
    out = LoopOutput(
        equity=np.empty(n),
        cash=np.empty(n),
        pos=np.empty((n, m)),
        records=np.empty(len(plan.targets) + len(book) + 2 * m, dtype=order_dt),
    )
    borrow_close = bars.close if borrow > 0.0 else None

    stops = [] if event_bars is None else sorted({int(b) for b in event_bars if 0 <= b < n})
    bounds = [b + 1 for b in stops if b + 1 < n] + [n]
    start = 0
    for k, stop in enumerate(bounds):
        at = start
        while at < stop:  # a run stops early only to grow its record buffer
            at = run_bars(at, stop, market, targets, costs, book.arrays, state, out, borrow_close)
            if at < stop:
                out = out._replace(records=_grown(out.records, 2 * m + len(book)))
        if strategy is not None and k < len(stops) and stop == stops[k] + 1:
            row = stops[k]
            ctx_bars, bar = (bars, row) if context is None else (context[0], context[1][row])
            ctx = _Context(int(bar), ctx_bars, float(state.cash[0]), state.pos, plan.close_val[row])
            strategy.on_event(ctx)
            for sym in ctx.cancelled:
                book.cancel(bars.symbols.index(sym))
            booked = len(book)
            book.add([(stop, o) for o in ctx.placed], bars.symbols)
            if len(book) > booked:
                out = out._replace(records=_grown(out.records, len(book) - booked))
        start = stop
    return out.equity, out.cash, out.pos, out.records[: state.n_records[0]]


def _grown(records: np.ndarray, extra: int) -> np.ndarray:
    """``records`` copied into a buffer with room for ``extra`` more (at least doubled)."""
    grown = np.empty(len(records) + max(extra, len(records)), dtype=order_dt)
    grown[: len(records)] = records
    return grown


def run_event(
    strategy: Strategy | None,
    bars: Bars,
    config: BacktestConfig | None = None,
    *,
    weights: np.ndarray | None = None,
    orders: list[tuple[int, Order]] | None = None,
    params_for_manifest: Mapping[str, Any] | None = None,
) -> Result:
    """Backtest ``strategy`` (or raw ``weights``, shape (n, m)) on ``bars`` in event mode.

    ``orders``: explicit (active_from_bar, Order) pairs known up front, e.g. for tests.
    """
    config = config or BacktestConfig()
    if weights is None:
        if strategy is None:
            weights = np.full((bars.n_bars, bars.n_assets), np.nan)
        else:
            weights = strategy_weights(strategy, bars)
    _, ppy = resolve_calendar(config, bars)
    plan, grid = plan_run(weights, bars, config)
    ev = strategy.event_bars(market_view(bars)) if strategy is not None else None
    equity, cash, pos, records = simulate_plan(
        plan,
        bars,
        config,
        periods_per_year=ppy,
        orders=orders,
        strategy=strategy,
        event_bars=ev,
        grid=grid,
    )
    outputs = (equity, cash, pos, records)
    return assemble_result(
        bars,
        config,
        outputs,
        mode="event",
        strategy=strategy,
        params=params_for_manifest,
        weights=weights,
    )
