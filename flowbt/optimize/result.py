"""`Optimization`: what a finished sweep hands back (``flowbt.optimize(...)``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.market import MarketData
from engine.market import run_market
from flowbt.optimize.space import Space
from flowbt.optimize.trials import SweepSetup, make_strategy
from flowbt.optimize.validate import WalkForwardResult, WindowPlan
from flowbt.report.tearsheet import benchmark_close, run_job, tearsheet_job


@dataclasses.dataclass
class Optimization:
    """A finished sweep: its ledger, the chosen trial and the overfitting statistics."""

    results: pd.DataFrame
    summary: dict[str, Any]
    space: Space
    setup: SweepSetup
    plan: WindowPlan
    window_sums: np.ndarray
    market: MarketData
    experiment: Any
    walk_forward: WalkForwardResult | None = None
    curves: pd.DataFrame | None = None  # equity of the best trials (periods x trial ids)

    @property
    def best(self) -> pd.Series:
        """The chosen trial's ledger row."""
        return self.results.loc[self.summary["best_trial"]]

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.summary["best_params"])

    def backtest(self) -> Any:
        """The chosen configuration as a full `flowbt.Backtest` on the sweep's window."""
        from flowbt.api import Backtest

        strat = make_strategy(
            self.setup.strategy, {**self.space.fixed, **self.best_params}, self.setup.symbols
        )
        start = str(self.setup.bars.index[0].date())
        end = self.experiment.end.isoformat() if self.experiment.end else None
        result = run_market(
            strat, self.market, self.experiment.backtest_config(), start=start, end=end,
            adjust=self.experiment.adjust == "total-return",
        )  # fmt: skip
        return Backtest(result, self.market)

    def report(self) -> str:
        """The summary as a few lines of text."""
        s = self.summary
        lines = [
            f"{self.setup.strategy}: {s['n_trials']} trials ({s['n_trials_ok']} ok,"
            f" {s['n_trials_failed']} failed, {s['n_trials_rejected']} rejected),"
            f" {s['start']} .. {s['end']}",
            f"best {s['best_params']} {s['objective']}={_fmt(s['objective_value'])}"
            + (f" sharpe={_fmt(s['sharpe'])}" if s["objective"] != "sharpe" else ""),
            f"PSR={_fmt(s.get('psr'))} DSR={_fmt(s.get('dsr'))} (n_trials={s['n_trials_ok']},"
            f" var={_fmt(s.get('var_trial_sharpe_per_period'))})"
            f" PBO={_fmt(s.get('pbo'))} SPA p={_fmt(s.get('spa_pvalue'))}"
            f" RC p={_fmt(s.get('reality_check_pvalue'))}",
            f"robustness: {s['verdict']} (plateau ratio {_fmt(s.get('plateau_ratio'))},"
            f" {s['neighbours']} neighbours)"
            + (f"; on the edge of the range: {', '.join(s['on_edge'])}" if s["edge"] else ""),
        ]
        if "walk_forward" in s:
            wf = s["walk_forward"]
            lines.append(
                f"walk-forward ({wf['folds']} folds): OOS sharpe {_fmt(wf['oos_sharpe'])} vs"
                f" {_fmt(wf['full_sample_best_sharpe_same_span'])} for the full-sample best"
            )
        if "cpcv_paths" in s:
            lines.append(
                f"CPCV: {s['cpcv_paths']} paths, sharpe mean {_fmt(s['cpcv_sharpe_mean'])},"
                f" min {_fmt(s['cpcv_sharpe_min'])}, positive {_fmt(s['cpcv_share_positive'])}"
            )
        return "\n".join(lines)

    def tearsheet(self, path: str | Path, benchmark: str | None = None) -> Path:
        """The chosen configuration's quantstats tearsheet (HTML) at ``path``."""
        bt = self.backtest()
        bench_name = benchmark if benchmark is not None else self.summary.get("benchmark")
        bench = benchmark_close(self.market, bench_name) if bench_name else None
        out = Path(path)
        run_job(tearsheet_job(bt.result, bench, html=out, table=None))
        return out


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
