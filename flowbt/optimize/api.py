"""``flowbt.optimize``: search a strategy's parameters and say how much of the best is luck.

::

    opt = flowbt.optimize("buyback_blackout", grid=["threshold=0.2:0.9:8"], fees=0.001)
    opt.results          # one row per trial: params, status, objective, statistics
    opt.best             # the chosen trial's row
    opt.summary          # best params, Sharpe, PSR, DSR, PBO, SPA p-value, edge flag
    opt.report()         # the summary as text
    opt.tearsheet("best.html")

The trials run on the bundled snapshot (or the `data.MarketData` given), in chunks
through the batched event loop (``engine.batch``); with ``out`` every chunk is kept
on disk and the folder gets the results, summary, heatmaps, manifest and the chosen
configuration's tearsheet (``flowbt.optimize.outputs``).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import data
from data.market import MarketData
from flowbt.experiment import (
    DEFAULT_FEES,
    experiment,
    lay_options,
    load_config,
    validation_line,
)
from flowbt.optimize.executors import make_executor
from flowbt.optimize.outputs import check_sweep_dir, write_outputs
from flowbt.optimize.result import Optimization
from flowbt.optimize.search import (
    Ledger,
    Method,
    build_setup,
    check_objective,
    extend_signals,
    planned_trials,
    run_optuna,
    run_planned,
)
from flowbt.optimize.space import Space, build_space
from flowbt.optimize.store import DiskSignalCache, check_resume, code_version, market_checksum
from flowbt.optimize.trials import SweepSetup, params_of
from flowbt.optimize.validate import (
    Cpcv,
    WalkForward,
    cpcv_paths,
    plan_windows,
    summarize_sweep,
    trial_returns,
    walk_forward,
)
from flowbt.report.tearsheet import benchmark_close

DEFAULT_CHUNK = 256


def optimize(
    strategy: str | None = None,
    md: MarketData | None = None,
    *,
    config: str | Path | None = None,
    grid: Sequence[str] | Mapping[str, Any] | None = None,
    random: int | None = None,
    optuna: int | None = None,
    constraint: Sequence[str] = (),
    objective: str | None = None,
    universe: str | None = None,
    symbols: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    fees: float | None = None,
    seed: int | None = None,
    chunk: int | None = None,
    executor: str = "local",
    address: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    walk_forward_folds: WalkForward | Mapping[str, Any] | None = None,
    cpcv: Cpcv | Mapping[str, Any] | None = None,
    blocks: int = 16,
    spa_models: int = 100,
    spa_reps: int = 1000,
    progress: bool | Callable[[int, int], None] = False,
    command: str | None = None,
    signal_cache: str | Path | None = None,
    top_curves: int = 0,
) -> Optimization:
    """Search ``strategy``'s parameters (grid by default; ``random=N`` or ``optuna=N``)
    and report the best with its PSR, DSR, PBO, SPA p-value and robustness.

    ``grid``: ``"NAME=START:STOP:NUM"`` / ``"NAME=v1,v2"`` specs or a mapping (default:
    the strategy's pydantic bounds); ``constraint``: expressions over parameter names
    (``"fast < slow"``); ``objective``: one of ``OBJECTIVES``. ``config`` is an
    experiment TOML (as for ``flowbt backtest``); the keyword options override it.
    Results are identical for any ``chunk``, ``executor`` and worker count.
    ``signal_cache``: a folder keeping computed signals on disk (keyed by the data
    checksum and code version) for later sweeps; ``top_curves``: keep the equity curves
    of that many best trials (``Optimization.curves``, ``curves.parquet``)."""
    settings: dict[str, Any] = load_config(Path(config)) if config is not None else {}
    source = f"config {config}" if config is not None else "options"
    table = _optimize_table(settings.pop("optimize", {}), source)
    # the keyword options override the config's [optimize] table; constraints add up
    objective = objective or table.objective or "sharpe"
    seed = seed if seed is not None else (table.seed or 0)
    chunk = chunk if chunk is not None else (table.chunk or DEFAULT_CHUNK)
    grid = grid if grid is not None else table.grid
    constraint = [*table.constraints, *constraint]
    if random is None and optuna is None:
        random, optuna = table.random, table.optuna
    check_objective(objective)
    if top_curves < 0:
        raise ValueError(f"--top-curves must be >= 0, got {top_curves}; fix: --top-curves 10")
    if chunk < 1:
        raise ValueError(f"--chunk must be >= 1, got {chunk}; fix: --chunk 256")
    if random is not None and optuna is not None:
        raise ValueError("give --random or --optuna, not both; fix: drop one")
    method: Method = "optuna" if optuna is not None else "random" if random is not None else "grid"
    settings = lay_options(
        settings, source, strategy=strategy, fees=fees, command="optimize",
        universe=universe, start=start, end=end,
        symbols=list(symbols) if symbols is not None else None,
    )  # fmt: skip
    if isinstance(settings.get("costs", {}), dict):
        settings["costs"] = {"fees": DEFAULT_FEES, **settings.get("costs", {})}
    exp = experiment(settings, source)
    space = build_space(exp.strategy, grid, constraint)
    fixed = {k: v for k, v in exp.params.items() if k not in space.names()}
    space = dataclasses.replace(space, fixed={**fixed, **space.fixed})
    wf = (
        WalkForward.model_validate(walk_forward_folds)
        if isinstance(walk_forward_folds, Mapping)
        else walk_forward_folds
    )
    cv = Cpcv.model_validate(cpcv) if isinstance(cpcv, Mapping) else cpcv
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:  # a folder flowbt may not write is refused before any work
        check_sweep_dir(out_dir)
    md = md if md is not None else data.load()
    base = exp.build_strategy()
    bench_name = exp.benchmark_symbol(base)
    for name in [*(base.symbols or []), *([bench_name] if bench_name else [])]:
        md.price(name)  # unknown symbol: one line naming it, before any work
    trials = planned_trials(space, method, random, seed) if method != "optuna" else []
    warm_trials = trials or (space.grid() if space.size() <= 2000 else space.sample(200, seed))
    executor_ = make_executor(executor, address)
    try:
        checksum = market_checksum(md)
        cache: dict[Any, Any] = (
            DiskSignalCache(Path(signal_cache), checksum) if signal_cache is not None else {}
        )
        setup = build_setup(
            exp, md, space, warm_trials, objective, np.zeros((1, 2), np.int64), cache
        )
        plan = plan_windows(setup.batch.n_periods, blocks=blocks, walk_forward=wf, cpcv=cv)
        setup = dataclasses.replace(setup, windows=plan.windows)
        identity = {
            "strategy": exp.strategy,
            "experiment": exp.model_dump(mode="json"),
            "space": _space_identity(space),
            "method": method,
            "n": random if method == "random" else optuna,
            "seed": seed,
            "objective": objective,
            "chunk": chunk,
            "windows": plan.windows.tolist(),
            "data_checksum": checksum,
            "bars_checksum": setup.bars.checksum(),
            "code_version": code_version(),
        }
        if out_dir is not None:
            check_resume(out_dir, identity, resume)
        bar = _progress(progress)
        if method == "optuna":
            assert optuna is not None
            ledger = run_optuna(
                setup, space, optuna, seed, chunk, executor_, out_dir, bar,
                prepare=lambda ps: extend_signals(setup, md, exp, ps, cache),
            )  # fmt: skip
        else:
            ledger = run_planned(setup, space, trials, chunk, executor_, out_dir, bar)
    finally:
        executor_.close()
    # every parameter a trial was run with (fixed ones too), so a re-run reproduces it
    names = list(dict.fromkeys([*space.fixed, *space.names()]))
    bench = benchmark_close(md, bench_name) if bench_name else None
    summary = summarize_sweep(
        setup, ledger.rows, ledger.windows, plan, names, benchmark=bench,
        spa_models=spa_models, spa_reps=spa_reps, seed=seed,
        neighbourhood="grid" if method == "grid" else "nearest",
    )  # fmt: skip
    summary["method"] = method
    summary["seed"] = seed
    wf_result = None
    if wf is not None:
        wf_result = walk_forward(setup, ledger.rows, ledger.windows, plan, names)
        summary["walk_forward"] = wf_result.summary
    if cv is not None:
        summary.update(cpcv_paths(setup, ledger.rows, ledger.windows, plan, names))
    summary["data_checksum"] = identity["data_checksum"]
    summary["code_version"] = identity["code_version"]
    curves = _curves(setup, ledger.rows, names, top_curves) if top_curves else None
    opt = Optimization(
        results=ledger.rows, summary=summary, space=space, setup=setup, plan=plan,
        window_sums=ledger.windows, market=md, experiment=exp, walk_forward=wf_result,
        curves=curves,
    )  # fmt: skip
    if out_dir is not None:
        write_outputs(opt, out_dir, identity, command or " ".join(sys.argv))
    return opt


class OptimizeTable(BaseModel):
    """The ``[optimize]`` table of an experiment config (the CLI's options override it)::

    [optimize]
    grid = { threshold = "0.1:0.9:9", blackout_weight = [0.0, 0.5, 1.0] }
    constraints = ["threshold > blackout_weight"]
    objective = "calmar"
    seed = 7
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    grid: dict[str, list[Any] | str | float | int | bool] | None = None
    constraints: list[str] = Field(default_factory=list)
    objective: str | None = None
    random: int | None = Field(None, ge=1)
    optuna: int | None = Field(None, ge=1)
    seed: int | None = None
    chunk: int | None = Field(None, ge=1)


def _optimize_table(value: Any, source: str) -> OptimizeTable:
    if not isinstance(value, dict):
        raise ValueError(f"[optimize] in {source} is not a table; fix: write it as [optimize]")
    try:
        return OptimizeTable.model_validate(value)
    except ValidationError as exc:
        keys = ", ".join(OptimizeTable.model_fields)
        raise ValueError(
            f"invalid [optimize] table ({source}): {validation_line(exc)}; fix: correct it"
            f" (keys: {keys})"
        ) from None


def _curves(setup: SweepSetup, ledger: pd.DataFrame, names: list[str], k: int) -> pd.DataFrame:
    """Equity per period of the ``k`` best ok trials (columns: trial ids, best first)."""
    ok = (ledger["status"] == "ok") & np.isfinite(ledger["objective"])
    top = ledger[ok].sort_values(["objective", "trial"], ascending=[False, True]).head(k)
    rets = trial_returns(setup, [params_of(r, names) for _, r in top.iterrows()])
    equity = np.cumprod(1.0 + rets, axis=0) * setup.config.init_cash
    return pd.DataFrame(equity, index=setup.batch.period_index, columns=top["trial"].tolist())


def _space_identity(space: Space) -> dict[str, Any]:
    return {
        "dimensions": [
            {"name": d.name, "kind": d.kind, "values": list(d.values), "low": d.low, "high": d.high}
            for d in space.dimensions
        ],
        "fixed": dict(space.fixed),
        "constraints": [c.text for c in space.constraints],
    }


def _progress(progress: bool | Callable[[int, int], None]) -> Callable[[int, int], None] | None:
    if callable(progress):
        return progress
    if not progress:
        return None
    from flowbt.optimize.progress import rich_progress

    return rich_progress()


__all__ = ["Ledger", "Optimization", "optimize"]
