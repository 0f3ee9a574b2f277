"""Many weight sets on the same bars: the event engine's loop, batched (for sweeps).

``BatchMarket`` holds what every trial shares (prices, the instant grid of bars from
several calendars, costs, the rows at which equity is read once per period), built
once; ``run_batch`` runs a (trials x bars x assets) weight array through the compiled
batch (``engine.nb.batch``) and returns per-trial window statistics. A trial's result
is the event engine's for the same weights: the same plan (``engine.plan``), the same
loop, the same statistics (``engine.stats``), so ``run_event(weights=w)`` agrees to the
last bit.

Periods: statistics are per period as in ``Result.stats``: one per bar for one
calendar; one per UTC day (the day's last bar) when calendars are merged.
Windows are half-open ranges ``[a, b)`` of periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig, resolve_calendar
from engine.enums import BatchOutput, BatchPlan, CostParams, MarketArrays, order_dt
from engine.instants import instant_grid, needs_grid
from engine.nb.batch import N_WINDOW_FIELDS, run_batch_nb, summarize_windows
from engine.orders import OrderBook
from engine.plan import market_prices
from engine.result import OFF_TARGET_GAP
from engine.stats import PERF_FIELDS

WINDOW_FIELDS = ("n", "s1", "s2", "s_down", "base", "final", "mdd")
assert len(WINDOW_FIELDS) == N_WINDOW_FIELDS
COUNT_FIELDS = (
    "n_orders",
    "n_orders_cut",
    "n_orders_rejected",
    "off_target_days",
    "longest_off_target_days",
)


@dataclass(frozen=True)
class BatchMarket:
    """What the trials of a sweep share; build with `batch_market`."""

    bars: Bars  # bar rows (what weights are decided on)
    config: BacktestConfig
    market: MarketArrays  # on loop rows: bar rows, or the instant grid's rows
    decision: np.ndarray  # (loop rows,) bar row standing at each loop row (grid only)
    on_grid: bool
    read_rows: np.ndarray  # (periods,) loop row whose close ends each period
    period_index: pd.DatetimeIndex  # the periods' timestamps
    bar_rows: np.ndarray  # (periods,) bar row that ends each period
    costs: CostParams
    borrow_close: np.ndarray | None
    periods_per_year: int
    close_rows: np.ndarray  # (bars,) loop row of each bar's close (identity off the grid)
    close_ffill: np.ndarray  # (bars, assets) last close known at each bar (NaN before)
    bar_day: np.ndarray  # (bars,) UTC day number of each bar (days since 1970-01-01)

    @property
    def n_periods(self) -> int:
        return len(self.read_rows)


def period_rows(index: pd.DatetimeIndex) -> np.ndarray:
    """Bar row ending each period: every row for one calendar's session dates; the last
    row of each UTC day for bars merged on close instants (``Result.period_equity``)."""
    days = index.tz_convert("UTC").normalize() if index.tz is not None else index.normalize()
    if not days.has_duplicates and (index == days).all():
        return np.arange(len(index), dtype=np.int64)
    last = ~np.append(days[1:] == days[:-1], False)
    return np.flatnonzero(last).astype(np.int64)


def _utc_days(index: pd.DatetimeIndex) -> np.ndarray:
    """Days since 1970-01-01 of each timestamp's UTC date (``Result.off_target_days``'
    days)."""
    days = index.tz_convert("UTC").normalize() if index.tz is not None else index.normalize()
    return np.ascontiguousarray(days.as_unit("ns").asi8 // 86_400_000_000_000, dtype=np.int64)


def batch_market(bars: Bars, config: BacktestConfig | None = None) -> BatchMarket:
    """The shared part of a sweep over ``bars`` with ``config``."""
    config = config or BacktestConfig()
    _, ppy = resolve_calendar(config, bars)
    rows = period_rows(bars.index)
    loop_bars, on_grid = bars, needs_grid(bars, config)
    decision = np.arange(bars.n_bars, dtype=np.int64)
    read_rows = rows
    close_rows = decision
    if on_grid:
        grid = instant_grid(bars)
        loop_bars, decision, read_rows = grid.bars, grid.decision, grid.close_rows[rows]
        close_rows = grid.close_rows
    fill_price, val_price, close_val, slippage = market_prices(loop_bars, config)
    market = MarketArrays(
        fill_price=fill_price,
        val_price=val_price,
        open=np.ascontiguousarray(loop_bars.open),
        high=np.ascontiguousarray(loop_bars.high),
        low=np.ascontiguousarray(loop_bars.low),
        close_val=close_val,
        tradable=loop_bars.tradable,
        slippage=slippage,
    )
    borrow = config.borrow_rate / ppy
    costs = CostParams(
        fees=config.costs.fees,
        fixed_fees=config.costs.fixed_fees,
        granularity=np.nan if config.fractional else 1.0,
        drift=config.drift_threshold,
        borrow=borrow,
    )
    return BatchMarket(
        bars=bars,
        config=config,
        market=market,
        decision=np.ascontiguousarray(decision, dtype=np.int64),
        on_grid=on_grid,
        read_rows=np.ascontiguousarray(read_rows, dtype=np.int64),
        period_index=bars.index[rows],
        bar_rows=rows,
        costs=costs,
        borrow_close=loop_bars.close if borrow > 0.0 else None,
        periods_per_year=ppy,
        close_rows=np.ascontiguousarray(close_rows, dtype=np.int64),
        close_ffill=np.ascontiguousarray(bars.frame("close").ffill().to_numpy(dtype=np.float64)),
        bar_day=_utc_days(bars.index),
    )


_NO_BOOK = OrderBook().arrays  # sweeps place no explicit orders (never mutated)


@dataclass(frozen=True)
class BatchStats:
    """Per trial: ``windows`` (trials x windows x `WINDOW_FIELDS`), ``counts`` (trials x
    `COUNT_FIELDS`), ``moments`` (trials x (skew, raw kurtosis) of the whole run's
    returns) and ``returns`` (trials x periods) when kept."""

    windows: np.ndarray
    counts: np.ndarray
    moments: np.ndarray
    returns: np.ndarray | None


def run_batch(
    bm: BatchMarket,
    weights: np.ndarray,
    windows: np.ndarray | None = None,
    *,
    keep_returns: bool = False,
) -> BatchStats:
    """Run every trial's weights (trials x bars x assets, decided at bar closes) on
    ``bm``. ``windows`` (W x 2 period ranges) default to the whole run, ``[[0, n]]``."""
    w = np.ascontiguousarray(weights, dtype=np.float64)
    n, m = bm.bars.n_bars, bm.bars.n_assets
    if w.ndim != 3 or w.shape[1:] != (n, m):
        raise ValueError(f"weights must be (trials, {n}, {m}), got {w.shape}")
    if np.isinf(w).any():
        raise ValueError("weights must be finite (or NaN for no decision)")
    if windows is None:
        windows = np.array([[0, bm.n_periods]], dtype=np.int64)
    win = np.ascontiguousarray(windows, dtype=np.int64)
    if win.ndim != 2 or win.shape[1] != 2 or (win[:, 0] < 0).any():
        raise ValueError("windows must be (W, 2) period ranges [a, b) with a >= 0")
    if (win[:, 1] > bm.n_periods).any() or (win[:, 1] <= win[:, 0]).any():
        raise ValueError(f"windows must be non-empty ranges within 0..{bm.n_periods}")
    k = w.shape[0]
    win_out = np.empty((k, len(win), N_WINDOW_FIELDS))
    counts = np.zeros((k, len(COUNT_FIELDS)), dtype=np.int64)
    moments = np.empty((k, 2))
    returns = np.empty((k, bm.n_periods) if keep_returns else (1, bm.n_periods))
    records = np.empty((k, 64 + 4 * m), dtype=order_dt)
    cfg = bm.config
    plan = BatchPlan(
        decision=bm.decision,
        on_grid=bm.on_grid,
        lag=1 if cfg.fill == "next_open" else 0,
        every_bar=cfg.rebalance == "every_bar",
        max_leverage=float(cfg.max_leverage),
        init_cash=float(cfg.init_cash),
        read_rows=bm.read_rows,
        windows=win,
        keep_returns=keep_returns,
        close_rows=bm.close_rows,
        close_ffill=bm.close_ffill,
        bar_day=bm.bar_day,
        off_target_gap=OFF_TARGET_GAP,
    )
    out = BatchOutput(records, win_out, counts, moments, returns)
    run_batch_nb(w, plan, bm.market, bm.costs, _NO_BOOK, bm.borrow_close, out)
    return BatchStats(win_out, counts, moments, returns if keep_returns else None)


def window_performance(sums: np.ndarray, periods_per_year: int) -> dict[str, np.ndarray]:
    """`PERF_FIELDS` of window statistics (..., 7): the figures ``engine.stats`` gives
    for the window's equity alone (starting from its ``base``)."""
    s = np.asarray(sums, dtype=np.float64)
    flat = np.ascontiguousarray(s.reshape(-1, N_WINDOW_FIELDS))
    out = summarize_windows(flat, float(periods_per_year))
    shape = s.shape[:-1]
    return {f: out[:, k].reshape(shape) for k, f in enumerate(PERF_FIELDS)}


def combine_windows(sums: np.ndarray, axis: int = -2) -> np.ndarray:
    """Window statistics of several windows taken as one sample (their returns pooled):
    counts and sums add, growth multiplies, drawdown is the worst of the parts. Exact
    for Sharpe, Sortino and volatility; for drawdown a bound (each part from its own
    base)."""
    s = np.moveaxis(np.asarray(sums, dtype=np.float64), axis, -2)
    out = np.empty(s.shape[:-2] + (N_WINDOW_FIELDS,))
    out[..., :4] = s[..., :4].sum(axis=-2)
    growth = np.prod(s[..., 5] / s[..., 4], axis=-1)
    out[..., 4] = 1.0
    out[..., 5] = growth
    out[..., 6] = s[..., 6].min(axis=-1)
    return out
