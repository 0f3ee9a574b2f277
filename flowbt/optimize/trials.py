"""Evaluating trials: what a sweep shares, and one chunk of trials through the batch.

A `SweepSetup` is built once per sweep and shipped once to every worker: the bars of
the sweep's window, each distinct signal request's aligned signals (computed once per
distinct request, however many trials share it), the batch market
(``engine.batch``) and the windows whose statistics every trial reports. `evaluate`
turns a chunk of parameter sets into ledger rows: it validates each set, builds
weights (one broadcast call when the strategy offers ``target_weights_batch``, else
``target_weights`` per set) and runs them all in one compiled, parallel call.

Point in time: every trial trades the same bars from the same first bar (the latest
warm-up of any trial), each signal row reaching a bar only once known at its close,
as in ``engine.market.run_market``; a trial's statistics equal that of
``run_market`` with its parameters on that window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from engine.bars import Bars
from engine.batch import COUNT_FIELDS, WINDOW_FIELDS, BatchMarket, run_batch, window_performance
from engine.config import BacktestConfig
from engine.market import close_ended
from engine.plan import market_view, strategy_weights
from engine.stats import PERF_FIELDS
from flowbt.experiment import validation_line
from strategies.base import SignalRequest, Strategy
from strategies.registry import get_strategy

OBJECTIVES = ("sharpe", "sortino", "calmar", "cagr", "total_return", "max_drawdown")
"""What a sweep may maximise (max_drawdown is a negative fraction: higher is better)."""

LEDGER_STATS = (
    *PERF_FIELDS,
    "sharpe_per_period",
    "n_returns",
    "skew",
    "kurtosis",
    "n_orders",
    "n_orders_cut",
    "n_orders_rejected",
    "off_target_days",
    "longest_off_target_days",
)


COUNT_COLUMNS = ("n_returns", *COUNT_FIELDS)


def signal_key(requests: Mapping[str, SignalRequest]) -> str:
    """One text per distinct set of signal requests (name, parameters, calendar)."""
    parts = [
        f"{k}={r.signal}{sorted(dict(r.params).items())}@{r.calendar}"
        for k, r in sorted(requests.items())
    ]
    return ";".join(parts)


@dataclass(frozen=True)
class SweepSetup:
    """Everything a chunk needs, shared by all trials (picklable, sent once).

    ``signals``: signal key -> that request set's aligned signals on ``bars``;
    ``windows``: (W, 2) period ranges, the first the whole window; ``ended``: symbols
    closed at their last bar (``engine.market.close_ended``).
    """

    strategy: str
    symbols: tuple[str, ...]
    bars: Bars
    signals: Mapping[str, Mapping[str, pd.DataFrame]]
    batch: BatchMarket
    windows: np.ndarray
    ended: tuple[str, ...]
    objective: str
    calendars: Mapping[str, str]

    @property
    def config(self) -> BacktestConfig:
        return self.batch.config


def make_strategy(name: str, params: Mapping[str, Any], symbols: Sequence[str]) -> Strategy:
    """The registered strategy ``name`` with ``params`` (validated) on ``symbols``."""
    cls = get_strategy(name)
    return cls(cls.Params.model_validate(dict(params)), symbols=list(symbols))


@dataclass(frozen=True)
class ChunkResult:
    """A chunk's ledger rows (one per trial, trial ids as the index) and their window
    statistics (trials x windows x `WINDOW_FIELDS`, NaN for trials that did not run)."""

    ledger: pd.DataFrame
    windows: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Ledger and window statistics in one table (what a chunk file holds)."""
        flat = self.windows.reshape(len(self.ledger), -1)
        names = [f"w{w}_{f}" for w in range(self.windows.shape[1]) for f in WINDOW_FIELDS]
        return pd.concat(
            [self.ledger, pd.DataFrame(flat, index=self.ledger.index, columns=names)], axis=1
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, n_windows: int) -> ChunkResult:
        names = [f"w{w}_{f}" for w in range(n_windows) for f in WINDOW_FIELDS]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ValueError(f"chunk holds no window statistics {missing[0]}")
        sums = frame[names].to_numpy(dtype=np.float64).reshape(len(frame), n_windows, -1)
        return cls(frame.drop(columns=names), sums)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


_TRIAL_ERRORS = (ValueError, KeyError, IndexError, ZeroDivisionError, FloatingPointError)


def _weights(
    setup: SweepSetup, strategies: list[Strategy], key: str
) -> tuple[np.ndarray, list[str | None]]:
    """Weights (sets, bars, assets) of strategies sharing signal ``key``, and per set the
    reason it failed (None = ok). A batch that raises is retried set by set, so one bad
    set fails alone."""
    bars = replace(setup.bars, signals=dict(setup.signals[key]))
    shape = (len(strategies), bars.n_bars, bars.n_assets)
    try:
        batch = strategies[0].target_weights_batch(
            market_view(bars), [s.params for s in strategies]
        )
    except _TRIAL_ERRORS:
        batch = None
    if batch is not None:
        out = np.asarray(batch, dtype=np.float64)
        if out.shape != shape:
            raise ValueError(
                f"{setup.strategy}.target_weights_batch returned shape {out.shape}, not {shape}"
            )
        bad = [bool(np.isinf(x).any()) for x in out]
        return out, ["weights must be finite (or NaN)" if b else None for b in bad]
    out = np.full(shape, np.nan)
    reasons: list[str | None] = []
    for k, strat in enumerate(strategies):
        try:
            out[k] = strategy_weights(strat, bars)
            reasons.append("weights must be finite (or NaN)" if np.isinf(out[k]).any() else None)
        except _TRIAL_ERRORS as exc:
            reasons.append(_reason(exc))
    return out, reasons


def evaluate(setup: SweepSetup, trials: Sequence[tuple[int, Mapping[str, Any]]]) -> ChunkResult:
    """Ledger rows of ``trials`` ((trial id, params) pairs) on ``setup``.

    Status per trial: ``ok``; ``failed`` (its parameters do not validate, or its weights
    raised or are not finite: the reason says why). Constraint rejections never reach
    here."""
    k_all = len(trials)
    sums = np.full((k_all, len(setup.windows), len(WINDOW_FIELDS)), np.nan)
    stats_cols = {c: np.full(k_all, np.nan) for c in LEDGER_STATS}
    status = np.full(k_all, "ok", dtype=object)
    reason = np.full(k_all, "", dtype=object)
    groups: dict[str, list[tuple[int, Strategy]]] = {}
    for pos, (_, params) in enumerate(trials):
        try:
            strat = make_strategy(setup.strategy, params, setup.symbols)
        except ValidationError as exc:
            status[pos], reason[pos] = "failed", validation_line(exc)
            continue
        key = signal_key(strat.signal_requests())
        if key not in setup.signals:
            status[pos], reason[pos] = "failed", f"its signals were not prepared ({key})"
            continue
        groups.setdefault(key, []).append((pos, strat))
    ppy = setup.batch.periods_per_year
    for key, members in groups.items():
        weights, reasons = _weights(setup, [s for _, s in members], key)
        for (pos, _), why in zip(members, reasons, strict=True):
            if why is not None:
                status[pos], reason[pos] = "failed", why
        ok = np.array([why is None for why in reasons])
        if not ok.any():
            continue
        w = weights[ok] if not ok.all() else weights
        if setup.ended:  # closed at their last bar
            w = close_ended(w, setup.bars, list(setup.ended), setup.config.fill)
        stats = run_batch(setup.batch, w, setup.windows)
        at = np.array([pos for (pos, _), good in zip(members, ok, strict=True) if good])
        sums[at] = stats.windows
        perf = window_performance(stats.windows[:, 0], ppy)
        for f in PERF_FIELDS:
            stats_cols[f][at] = perf[f]
        stats_cols["sharpe_per_period"][at] = perf["sharpe"] / math.sqrt(ppy)
        stats_cols["n_returns"][at] = stats.windows[:, 0, 0]
        stats_cols["skew"][at] = stats.moments[:, 0]
        stats_cols["kurtosis"][at] = stats.moments[:, 1]
        for c, f in enumerate(COUNT_FIELDS):
            stats_cols[f][at] = stats.counts[:, c]
    ids = [tid for tid, _ in trials]
    columns: dict[str, Any] = {"trial": ids}
    for name in dict.fromkeys(n for _, p in trials for n in p):
        columns[name] = [p.get(name) for _, p in trials]
    columns.update(status=status, reason=reason, **stats_cols)
    columns["objective"] = stats_cols[setup.objective]
    ledger = pd.DataFrame(columns, index=pd.Index(ids))
    for col in COUNT_COLUMNS:  # whole numbers; missing for trials that did not run
        ledger[col] = ledger[col].astype("Int64")
    return ChunkResult(ledger, sums)


def trial_weights(setup: SweepSetup, params: Mapping[str, Any]) -> np.ndarray:
    """One parameter set's weights on the sweep's bars (ended symbols closed)."""
    strat = make_strategy(setup.strategy, params, setup.symbols)
    key = signal_key(strat.signal_requests())
    bars = replace(setup.bars, signals=dict(setup.signals[key]))
    w = strategy_weights(strat, bars)
    if setup.ended:
        w = close_ended(w, setup.bars, list(setup.ended), setup.config.fill)
    return w


def params_of(ledger_row: pd.Series, names: Sequence[str]) -> dict[str, Any]:
    """The parameter set of a ledger row, as Python scalars."""
    out: dict[str, Any] = {}
    for n in names:
        v = ledger_row[n]
        out[n] = v.item() if isinstance(v, np.generic) else v
    return out


__all__ = [
    "LEDGER_STATS",
    "OBJECTIVES",
    "ChunkResult",
    "SweepSetup",
    "evaluate",
    "make_strategy",
    "params_of",
    "signal_key",
    "trial_weights",
]
