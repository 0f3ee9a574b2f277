"""A sweep: plan the trials, prepare what they share, run them in chunks, keep a ledger.

Methods: ``grid`` (every point of the space), ``random`` (``n`` draws, seeded) and
``optuna`` (``n`` trials of a seeded TPE sampler, asked in batches of
`OPTUNA_BATCH` whatever the chunk size, so its choices never depend on how the work
is cut). Every trial gets a ledger row: its parameters, status (``ok``, ``failed``,
``rejected`` by a constraint) with the reason, the objective and its statistics.

Chunks: trials ``[k * chunk, (k + 1) * chunk)``; each finished chunk is written to
the output folder (``flowbt.optimize.store``), so a killed sweep resumes where it
stopped and recomputes at most the chunk it was in. Memory is bounded by the chunk
size: a chunk's weights (chunk x bars x assets) are the largest array; only
statistics are kept per trial.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from data.market import MarketData
from engine.batch import batch_market
from engine.market import data_ends, market_bars, signals_for, strategy_warmup
from flowbt.experiment import Experiment
from flowbt.optimize.executors import Chunk, Executor
from flowbt.optimize.space import Space
from flowbt.optimize.store import read_chunk, write_chunk
from flowbt.optimize.trials import (
    OBJECTIVES,
    ChunkResult,
    SweepSetup,
    make_strategy,
    signal_key,
)

Method = Literal["grid", "random", "optuna"]
METHODS = ("grid", "random", "optuna")
OPTUNA_BATCH = 32
Progress = Callable[[int, int], None]  # (trials done, trials planned)


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise ValueError(
            f"unknown objective {objective!r} (--objective); fix: use one of {', '.join(OBJECTIVES)}"
        )
    return objective


def planned_trials(space: Space, method: Method, n: int | None, seed: int) -> list[dict[str, Any]]:
    """The trials of a grid or random search, in trial-id order."""
    if method == "grid":
        return space.grid()
    if method == "random":
        if n is None or n < 1:
            raise ValueError(f"--random needs a number of trials >= 1, got {n}; fix: --random 100")
        return space.sample(n, seed)
    raise ValueError(f"method {method!r} has no planned trials")


def build_setup(
    exp: Experiment,
    md: MarketData,
    space: Space,
    trials: Sequence[Mapping[str, Any]],
    objective: str,
    windows: np.ndarray,
    signal_cache: dict[Any, Any] | None = None,
) -> SweepSetup:
    """What every trial shares: bars from the latest warm-up of ``trials`` (and the
    strategy's defaults) on, each distinct signal request aligned once."""
    base = exp.build_strategy()
    symbols = list(base.symbols or [])
    if not symbols:
        raise ValueError(f"{exp.strategy} names no default symbols; fix: pass --symbols A,B")
    start = exp.start.isoformat() if exp.start else None
    end = exp.end.isoformat() if exp.end else None
    bars0, calendars, _ = market_bars(
        md, symbols, start=start, end=end, adjust=exp.adjust == "total-return"
    )
    cache = signal_cache if signal_cache is not None else {}
    reps: dict[str, Any] = {}
    for params in [dict(space.fixed), *trials]:
        try:
            strat = make_strategy(exp.strategy, {**exp.params, **params}, symbols)
        except ValueError:
            continue  # fails again, with its reason, when evaluated
        reps.setdefault(signal_key(strat.signal_requests()), strat)
    signals: dict[str, dict[str, pd.DataFrame]] = {}
    first = 0
    for key, strat in reps.items():
        sig = signals_for(strat, md, bars0, calendars, cache=cache)
        signals[key] = sig
        if start is None:
            first = max(first, strategy_warmup(strat, bars0, sig))
    bars = bars0.rows(first)
    signals = {k: {n: f.iloc[first:] for n, f in v.items()} for k, v in signals.items()}
    ended = data_ends(md, bars, calendars)
    bm = batch_market(bars, exp.backtest_config())
    return SweepSetup(
        strategy=exp.strategy,
        symbols=tuple(symbols),
        bars=bars,
        signals=signals,
        batch=bm,
        windows=windows,
        ended=tuple(ended),
        objective=objective,
        calendars=calendars,
    )


def extend_signals(
    setup: SweepSetup,
    md: MarketData,
    exp: Experiment,
    trials: Sequence[Mapping[str, Any]],
    signal_cache: dict[Any, Any],
) -> None:
    """Add the aligned signals of request sets not yet in ``setup`` (optuna proposes
    new signal parameters as it goes); each distinct request is computed once."""
    for params in trials:
        try:
            strat = make_strategy(exp.strategy, {**exp.params, **params}, setup.symbols)
        except ValueError:
            continue
        key = signal_key(strat.signal_requests())
        if key not in setup.signals:
            sig = signals_for(strat, md, setup.bars, setup.calendars, cache=signal_cache)
            setup.signals[key] = sig  # type: ignore[index]


@dataclass
class Ledger:
    """Every trial's row (index = trial id) and window statistics (trials x W x 7)."""

    rows: pd.DataFrame
    windows: np.ndarray


def _rejected(tid: int, params: Mapping[str, Any], why: str, n_win: int) -> ChunkResult:
    reason = why if why.startswith("constraint ") else f"constraint {why}"
    row = {"trial": tid, **params, "status": "rejected", "reason": reason}
    frame = pd.DataFrame([row]).set_index("trial", drop=False).rename_axis(None)
    return ChunkResult(frame, np.full((1, n_win, 7), np.nan))


def _verdict(space: Space, params: Mapping[str, Any]) -> str | None:
    """None when every constraint holds, else what rejects the trial (a constraint that
    cannot be evaluated for it, e.g. a division by zero, rejects it too)."""
    try:
        return space.check(params)
    except ValueError as exc:
        return str(exc).split(" (--constraint)")[0]  # "constraint '...' fails (...) at {...}"


def _merge(parts: Sequence[ChunkResult]) -> ChunkResult:
    return ChunkResult(
        pd.concat([p.ledger for p in parts]), np.concatenate([p.windows for p in parts])
    )


def run_chunks(
    setup: SweepSetup,
    space: Space,
    trials: Sequence[tuple[int, dict[str, Any]]],
    chunk: int,
    executor: Executor,
    out: Path | None,
    progress: Progress | None = None,
    done_before: int = 0,
    planned: int | None = None,
) -> Iterator[ChunkResult]:
    """Evaluate ``trials`` in chunks (reusing finished chunk files under ``out``),
    yielding each chunk's result in trial order."""
    n_win = len(setup.windows)
    cuts = [trials[i : i + chunk] for i in range(0, len(trials), chunk)]
    results: dict[int, ChunkResult] = {}
    todo: list[tuple[int, Chunk, list[ChunkResult]]] = []
    for k, part in enumerate(cuts):
        first, last = part[0][0], part[-1][0]
        saved = read_chunk(out, first, last) if out is not None else None
        if saved is not None:
            results[k] = ChunkResult.from_frame(
                saved.set_index("trial", drop=False).rename_axis(None), n_win
            )
            continue
        verdicts = [(t, p, _verdict(space, p)) for t, p in part]
        runnable = [(t, p) for t, p, why in verdicts if why is None]
        rejected = [_rejected(t, p, why, n_win) for t, p, why in verdicts if why is not None]
        todo.append((k, runnable, rejected))
    done = done_before + sum(len(results[k].ledger) for k in results)
    total = planned if planned is not None else done_before + len(trials)
    if progress is not None:
        progress(done, total)
    runnable_chunks = [r for _, r, _ in todo if r]
    index_of = [k for k, r, _ in todo if r]
    finished: Iterator[tuple[int, ChunkResult]] = (
        executor.run(setup, runnable_chunks) if runnable_chunks else iter(())
    )
    for k, r, rej in todo:
        if not r:
            results[k] = _finish(out, _merge(rej), cuts[k])
    for pos, res in finished:
        k = index_of[pos]
        rej = next(x for kk, _, x in todo if kk == k)
        results[k] = _finish(out, _merge([res, *rej]), cuts[k])
        done += len(cuts[k])
        if progress is not None:
            progress(done, total)
    for k in range(len(cuts)):
        yield results[k]


def _finish(out: Path | None, res: ChunkResult, part: Chunk) -> ChunkResult:
    order = [t for t, _ in part]
    ledger = res.ledger.loc[order]
    pos = {t: i for i, t in enumerate(res.ledger.index)}
    sums = res.windows[[pos[t] for t in order]]
    fixed = ChunkResult(ledger, sums)
    if out is not None:
        write_chunk(out, order[0], order[-1], fixed.to_frame())
    return fixed


def run_planned(
    setup: SweepSetup,
    space: Space,
    trials: Sequence[dict[str, Any]],
    chunk: int,
    executor: Executor,
    out: Path | None,
    progress: Progress | None = None,
) -> Ledger:
    numbered = list(enumerate(trials))
    parts = list(run_chunks(setup, space, numbered, chunk, executor, out, progress))
    merged = _merge(parts)
    return Ledger(merged.ledger, merged.windows)


def run_optuna(
    setup: SweepSetup,
    space: Space,
    n: int,
    seed: int,
    chunk: int,
    executor: Executor,
    out: Path | None,
    progress: Progress | None = None,
    prepare: Callable[[Sequence[dict[str, Any]]], None] | None = None,
) -> Ledger:
    """``n`` trials of optuna's TPE sampler (seeded), asked `OPTUNA_BATCH` at a time;
    failed and rejected trials are told as failed. ``prepare`` is called with each
    batch's parameter sets before it runs (new signal requests get computed)."""
    import optuna

    if n < 1:
        raise ValueError(f"--optuna needs a number of trials >= 1, got {n}; fix: --optuna 100")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    dists = {d.name: d.optuna_distribution() for d in space.dimensions}
    parts: list[ChunkResult] = []
    tid = 0
    while tid < n:
        asked = [study.ask(dists) for _ in range(min(OPTUNA_BATCH, n - tid))]
        batch = [(tid + i, {**space.fixed, **t.params}) for i, t in enumerate(asked)]
        if prepare is not None:
            prepare([p for _, p in batch])
        step = min(chunk, OPTUNA_BATCH)
        got = list(run_chunks(setup, space, batch, step, executor, out, progress, tid, n))
        merged = _merge(got)
        for trial, (t, _) in zip(asked, batch, strict=True):
            value = merged.ledger.loc[t, "objective"]
            if merged.ledger.loc[t, "status"] == "ok" and np.isfinite(value):
                study.tell(trial, float(value))
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        parts.append(merged)
        tid += len(batch)
    merged = _merge(parts)
    return Ledger(merged.ledger, merged.windows)
