"""How much of a sweep's best result is luck: the statistics every optimisation reports.

From the ledger (one row per trial) and each trial's window statistics:

- PSR and DSR of the best trial (`flowbt.optimize.overfitting`): the DSR deflates by
  the number of trials that ran and the variance of their per-period Sharpe ratios;
- PBO by CSCV over ``blocks`` (16) equal blocks of periods, from per-block sums, so
  every trial counts without keeping a return matrix;
- Hansen's SPA and White's Reality Check (`flowbt.optimize.snooping`, arch's
  bootstrap) of the best ``spa_models`` trials (by objective) against buying and
  holding the benchmark. Dropping the worst trials from the SPA universe matters
  little, as SPA re-centres poor models out of the null, but it can only lower the
  p-value: the report says how many models entered;
- robustness of the chosen point (`flowbt.optimize.robustness`): on the edge of the
  searched range, plateau or spike;
- walk-forward (optional): each fold's parameters are chosen in-sample by the
  objective and traded out of sample in one continuous portfolio (`walk_forward`);
- CPCV (optional): the chosen trial of each split (by Sharpe over its purged
  training groups) and the Sharpe ratio of each reconstructed out-of-sample path.

Units: Sharpe ratios named ``*_per_period`` are per period; the rest are annualised on
the run's periods per year. Point in time: in-sample windows end before, and never
overlap, the out-of-sample windows they choose for (purge and embargo in periods).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from engine.api import run
from engine.batch import combine_windows, run_batch, window_performance
from engine.result import Result
from engine.stats import performance
from flowbt.optimize.overfitting import (
    SharpeMoments,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_from_sums,
    probabilistic_sharpe,
)
from flowbt.optimize.robustness import robustness
from flowbt.optimize.snooping import spa_test
from flowbt.optimize.splits import CpcvLayout, Fold, cpcv_layout, walk_forward_folds
from flowbt.optimize.trials import SweepSetup, params_of, trial_weights


class WalkForward(BaseModel):
    """Walk-forward layout in periods (`flowbt.optimize.splits.walk_forward_folds`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    folds: int = Field(5, ge=1, le=100)
    anchored: bool = False
    purge: int = Field(0, ge=0)
    embargo: int = Field(0, ge=0)


class Cpcv(BaseModel):
    """Combinatorial purged CV layout (`flowbt.optimize.splits.cpcv_layout`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    groups: int = Field(6, ge=2, le=20)
    test_groups: int = Field(2, ge=1)
    purge: int = Field(0, ge=0)
    embargo: int = Field(0, ge=0)


@dataclass(frozen=True)
class WindowPlan:
    """The period windows every trial reports, and which serves what."""

    windows: np.ndarray  # (W, 2) period ranges [a, b); row 0 is the whole sample
    blocks: list[int]  # PBO blocks (empty when the sample is too short)
    wf_folds: list[Fold] = field(default_factory=list)
    wf_train: list[int] = field(default_factory=list)  # window of each fold's training
    cpcv: CpcvLayout | None = None
    cpcv_train: list[list[int]] = field(default_factory=list)  # windows of each split


def _runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Maximal contiguous ranges [a, b) of sorted ``positions``."""
    if len(positions) == 0:
        return []
    cuts = np.flatnonzero(np.diff(positions) > 1)
    starts = np.concatenate([[positions[0]], positions[cuts + 1]])
    ends = np.concatenate([positions[cuts] + 1, [positions[-1] + 1]])
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def plan_windows(
    n_periods: int,
    *,
    blocks: int = 16,
    walk_forward: WalkForward | None = None,
    cpcv: Cpcv | None = None,
) -> WindowPlan:
    """Windows for the whole sample, the PBO blocks and the validation layouts."""
    windows: list[tuple[int, int]] = [(0, n_periods)]

    def index(w: tuple[int, int]) -> int:
        if w not in windows:
            windows.append(w)
        return windows.index(w)

    block_ids: list[int] = []
    if blocks and n_periods >= 2 * blocks:
        parts = np.array_split(np.arange(n_periods), blocks)
        block_ids = [index((int(p[0]), int(p[-1]) + 1)) for p in parts]
    folds: list[Fold] = []
    wf_train: list[int] = []
    if walk_forward is not None:
        folds = walk_forward_folds(
            n_periods,
            walk_forward.folds,
            anchored=walk_forward.anchored,
            purge=walk_forward.purge,
            embargo=walk_forward.embargo,
        )
        wf_train = [index((int(f.train[0]), int(f.train[-1]) + 1)) for f in folds]
    layout = None
    cpcv_train: list[list[int]] = []
    if cpcv is not None:
        layout = cpcv_layout(
            n_periods, cpcv.groups, cpcv.test_groups, purge=cpcv.purge, embargo=cpcv.embargo
        )
        cpcv_train = [[index(r) for r in _runs(f.train)] for f in layout.folds]
    return WindowPlan(
        np.array(windows, dtype=np.int64), block_ids, folds, wf_train, layout, cpcv_train
    )


def _ok(ledger: pd.DataFrame) -> np.ndarray:
    return np.asarray((ledger["status"] == "ok") & np.isfinite(ledger["objective"]), dtype=bool)


def best_trial(ledger: pd.DataFrame) -> int:
    """Row position of the highest objective among ok trials (lowest trial id on ties)."""
    ok = _ok(ledger)
    if not ok.any():
        reasons = ledger.loc[ledger["status"] != "ok", "reason"].head(1).tolist()
        why = f": {reasons[0]}" if reasons else ""
        raise ValueError(
            f"no trial produced a finite objective{why}; fix: widen the grid or relax --constraint"
        )
    values = np.where(ok, ledger["objective"].to_numpy(dtype=float), -np.inf)
    return int(np.argmax(values))


def trial_returns(setup: SweepSetup, params: Sequence[dict[str, Any]]) -> np.ndarray:
    """Per-period returns (periods x trials) of parameter sets, re-run on the setup."""
    if not params:
        return np.empty((setup.batch.n_periods, 0))
    weights = np.stack([trial_weights(setup, p) for p in params])
    stats = run_batch(setup.batch, weights, keep_returns=True)
    assert stats.returns is not None
    return stats.returns.T


def benchmark_returns(setup: SweepSetup, close: pd.Series | None) -> np.ndarray:
    """Buy-and-hold returns of the benchmark on the sweep's periods (its close known on
    each period's date, carried over days it does not trade); zeros without one."""
    n = setup.batch.n_periods
    if close is None:
        return np.zeros(n)
    index = setup.batch.period_index
    days = index.tz_convert("UTC").normalize() if index.tz is not None else index
    series = close.copy()
    series.index = pd.DatetimeIndex(series.index)
    if series.index.tz is None and days.tz is not None:
        series.index = series.index.tz_localize("UTC")
    aligned = series.reindex(series.index.union(days)).ffill().reindex(days).to_numpy(float)
    prev = np.concatenate([[aligned[0]], aligned[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = aligned / prev - 1.0
    return np.where(np.isfinite(out), out, 0.0)


def summarize_sweep(
    setup: SweepSetup,
    ledger: pd.DataFrame,
    sums: np.ndarray,
    plan: WindowPlan,
    names: Sequence[str],
    *,
    benchmark: pd.Series | None = None,
    spa_models: int = 100,
    spa_reps: int = 1000,
    seed: int = 0,
    neighbourhood: Literal["grid", "nearest"] = "grid",
) -> dict[str, Any]:
    """The sweep's summary: best trial, its statistics and every overfitting figure.
    ``neighbourhood`` picks the robustness rule (`flowbt.optimize.robustness`): "grid"
    for a grid search, "nearest" for random and optuna searches."""
    b = best_trial(ledger)
    row = ledger.iloc[b]
    ok = _ok(ledger)
    sharpes = ledger.loc[ok, "sharpe_per_period"].to_numpy(dtype=float)
    out: dict[str, Any] = {
        "best_trial": int(row["trial"]),
        "best_params": params_of(row, names),
        "objective": setup.objective,
        "objective_value": float(row["objective"]),
        "sharpe": float(row["sharpe"]),
        "n_trials": int(len(ledger)),
        "n_trials_ok": int(ok.sum()),
        "n_trials_failed": int((ledger["status"] == "failed").sum()),
        "n_trials_rejected": int((ledger["status"] == "rejected").sum()),
        "var_trial_sharpe_per_period": float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else None,
        "periods_per_year": setup.batch.periods_per_year,
        "n_periods": setup.batch.n_periods,
        "start": str(setup.batch.period_index[0].date()),
        "end": str(setup.batch.period_index[-1].date()),
    }
    m = SharpeMoments(
        float(row["sharpe_per_period"]), int(row["n_returns"]), float(row["skew"]),
        float(row["kurtosis"]),
    )  # fmt: skip
    out["psr"] = _safe(lambda: probabilistic_sharpe(m))
    out["dsr"] = _safe(lambda: deflated_sharpe(m, sharpes)) if len(sharpes) > 1 else None
    out["expected_max_sharpe_per_period"] = (
        _safe(lambda: expected_max_sharpe(sharpes)) if len(sharpes) > 1 else None
    )
    out.update(_pbo(sums[ok], plan))
    top = np.argsort(
        -np.where(ok, ledger["objective"].to_numpy(dtype=float), -np.inf), kind="stable"
    )
    top = top[: min(spa_models, int(ok.sum()))]
    rets = trial_returns(setup, [params_of(ledger.iloc[i], names) for i in top])
    bench = benchmark_returns(setup, benchmark)
    out["benchmark"] = None if benchmark is None else str(benchmark.name)
    try:
        spa = spa_test(bench, rets, reps=spa_reps, seed=seed)
        out.update(
            spa_pvalue=spa.spa_pvalue,
            reality_check_pvalue=spa.reality_check_pvalue,
            spa_models=spa.n_models,
            spa_block_size=spa.block_size,
        )
    except ValueError as exc:
        out.update(spa_pvalue=None, reality_check_pvalue=None, spa_note=str(exc))
    rob = robustness(ledger[ok], ledger.index[b], list(names), "objective",
                     neighbourhood=neighbourhood)  # fmt: skip
    out.update(
        neighbourhood=neighbourhood,
        edge=bool(rob.on_edge),
        on_edge=list(rob.on_edge),
        neighbours=rob.neighbours,
        neighbour_median=rob.neighbour_median,
        plateau_ratio=rob.plateau_ratio,
        verdict=rob.verdict,
    )
    return out


def _safe(fn: Any) -> float | None:
    try:
        value = float(fn())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _pbo(sums: np.ndarray, plan: WindowPlan) -> dict[str, Any]:
    if not plan.blocks or len(sums) < 2:
        return {"pbo": None, "pbo_note": "needs >= 2 ok trials and 32 periods"}
    blocks = sums[:, plan.blocks]  # trials x S x 7
    res = pbo_from_sums(blocks[..., 0].T, blocks[..., 1].T, blocks[..., 2].T)
    return {
        "pbo": res.pbo,
        "pbo_blocks": len(plan.blocks),
        "pbo_logit_median": float(np.median(res.logits)),
        "pbo_logits": res.logits.tolist(),
        "pbo_degradation": res.degradation,
        "pbo_is_sharpe_per_period_mean": float(np.mean(res.is_perf)),
        "pbo_oos_sharpe_per_period_mean": float(np.mean(res.oos_perf)),
    }


@dataclass(frozen=True)
class WalkForwardResult:
    folds: pd.DataFrame  # one row per fold: windows, chosen params, IS and OOS figures
    result: Result  # the stitched out-of-sample run (one continuous portfolio)
    summary: dict[str, Any]


def walk_forward(
    setup: SweepSetup,
    ledger: pd.DataFrame,
    sums: np.ndarray,
    plan: WindowPlan,
    names: Sequence[str],
) -> WalkForwardResult:
    """Choose each fold's parameters in-sample, trade them out of sample, stitched."""
    ok = _ok(ledger)
    bm = setup.batch
    objective = setup.objective
    rows = bm.bar_rows  # bar row that ends each period
    n_bars = setup.bars.n_bars
    weights = np.full((n_bars, setup.bars.n_assets), np.nan)
    records: list[dict[str, Any]] = []
    first_row = None
    for f, (fold, win) in enumerate(zip(plan.wf_folds, plan.wf_train, strict=True)):
        perf = window_performance(sums[:, win], bm.periods_per_year)
        score = np.where(ok & np.isfinite(perf[objective]), perf[objective], -np.inf)
        if not np.isfinite(score).any():
            raise ValueError(f"walk-forward fold {f}: no trial has a finite in-sample {objective}")
        pick = int(np.argmax(score))
        params = params_of(ledger.iloc[pick], names)
        a, b = int(fold.test[0]), int(fold.test[-1]) + 1
        lo = int(rows[a - 1]) if a > 0 else 0  # decided at the close before the window
        hi = int(rows[b - 1]) if b < len(rows) else n_bars
        weights[lo:hi] = trial_weights(setup, params)[lo:hi]
        first_row = lo if first_row is None else first_row
        records.append(
            {
                "fold": f,
                "train_start": str(bm.period_index[int(fold.train[0])].date()),
                "train_end": str(bm.period_index[int(fold.train[-1])].date()),
                "test_start": str(bm.period_index[a].date()),
                "test_end": str(bm.period_index[b - 1].date()),
                "trial": int(ledger.iloc[pick]["trial"]),
                **params,
                f"is_{objective}": float(perf[objective][pick]),
                "is_sharpe": float(perf["sharpe"][pick]),
                "_test": (a, b),
            }
        )
    assert first_row is not None
    result = run(None, setup.bars.rows(first_row), setup.config, weights=weights[first_row:])
    equity = result.period_equity().to_numpy()
    offset = len(rows) - len(equity)  # periods before the first traded row
    for rec in records:
        a, b = rec.pop("_test")
        seg = equity[a - offset : b - offset]
        base = equity[a - offset - 1] if a - offset > 0 else setup.config.init_cash
        perf1 = performance(seg, base, bm.periods_per_year)
        rec[f"oos_{objective}"] = perf1[objective]
        rec["oos_sharpe"] = perf1["sharpe"]
    # the run opens at the decision close before the first test period: its figures are
    # taken over the test periods only (the same span as the full-sample comparison)
    first_test = int(plan.wf_folds[0].test[0]) - offset
    base = equity[first_test - 1] if first_test > 0 else setup.config.init_cash
    stats = performance(equity[first_test:], base, bm.periods_per_year)
    best = best_trial(ledger)
    full = trial_returns(setup, [params_of(ledger.iloc[best], names)])[:, 0]
    start = int(plan.wf_folds[0].test[0])
    in_sample = np.cumprod(1.0 + full[start:]) * setup.config.init_cash
    is_perf = performance(in_sample, setup.config.init_cash, bm.periods_per_year)
    summary = {
        "folds": len(records),
        "oos_sharpe": stats["sharpe"],
        f"oos_{objective}": stats[objective],
        "oos_total_return": stats["total_return"],
        "oos_max_drawdown": stats["max_drawdown"],
        "full_sample_best_sharpe_same_span": is_perf["sharpe"],
        f"full_sample_best_{objective}_same_span": is_perf[objective],
    }
    return WalkForwardResult(pd.DataFrame(records), result, summary)


def cpcv_paths(
    setup: SweepSetup,
    ledger: pd.DataFrame,
    sums: np.ndarray,
    plan: WindowPlan,
    names: Sequence[str],
) -> dict[str, Any]:
    """CPCV: per split the trial with the best Sharpe over its purged training windows;
    the annualised Sharpe ratio of every reconstructed out-of-sample path."""
    layout = plan.cpcv
    assert layout is not None
    ok = _ok(ledger)
    ppy = setup.batch.periods_per_year
    picks: list[int] = []
    for pieces in plan.cpcv_train:
        pooled = combine_windows(sums[:, pieces], axis=1)
        sharpe = window_performance(pooled, ppy)["sharpe"]
        picks.append(int(np.argmax(np.where(ok & np.isfinite(sharpe), sharpe, -np.inf))))
    distinct = sorted(set(picks))
    rets = trial_returns(setup, [params_of(ledger.iloc[i], names) for i in distinct])
    col = {t: k for k, t in enumerate(distinct)}
    path_sharpes = []
    for p in range(layout.n_paths):
        parts = [
            rets[layout.groups[g], col[picks[int(layout.paths[p, g])]]]
            for g in range(len(layout.groups))
        ]
        r = np.concatenate(parts)
        sd = r.std(ddof=1)
        path_sharpes.append(float(r.mean() / sd * math.sqrt(ppy)) if sd > 0 else float("nan"))
    sh = np.array(path_sharpes)
    return {
        "cpcv_splits": len(layout.folds),
        "cpcv_paths": layout.n_paths,
        "cpcv_path_sharpes": sh.tolist(),
        "cpcv_sharpe_mean": float(np.nanmean(sh)),
        "cpcv_sharpe_std": float(np.nanstd(sh, ddof=1)) if len(sh) > 1 else None,
        "cpcv_sharpe_min": float(np.nanmin(sh)),
        "cpcv_share_positive": float(np.mean(sh > 0)),
        "cpcv_chosen_trials": [int(ledger.iloc[i]["trial"]) for i in picks],
    }
