"""The output folder of ``flowbt optimize``.

- ``results.parquet`` and ``results.csv``: the ledger, one row per trial (params,
  status, reason, objective, statistics);
- ``summary.json``: best params, objective, Sharpe, PSR, DSR, trial count, variance of
  the trials' Sharpe ratios, PBO (with its logits), SPA and Reality Check p-values,
  the edge flag and the plateau verdict (walk-forward and CPCV when asked);
- ``heatmap_<a>_<b>.png``: the objective over each pair of searched numeric
  parameters (the best value over the other parameters in each cell);
- ``walk_forward.csv``, ``walk_forward.png`` and the stitched out-of-sample run's
  tearsheet ``walk_forward.html`` when asked;
- ``curves.parquet``: the equity curves of the best ``top_curves`` trials, on request;
- ``tearsheet.html``: the chosen configuration's quantstats tearsheet;
- ``manifest.json``: data checksum, code version, git SHA, seed, command line, and
  ``sweep.json`` + ``chunks/`` (what ``--resume`` reads).

Folder rules as for ``flowbt run`` (`flowbt.report.files.check_out_dir`): a folder that
is not empty and holds neither a manifest flowbt wrote for a sweep (``"flowbt"``
marker, kind ``optimize``) nor a sweep's ``sweep.json`` (its digest checks out) is never
written into; a rerun removes the files the earlier manifest lists, nothing else.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.manifest import git_sha
from flowbt.optimize.result import Optimization
from flowbt.optimize.store import SWEEP_FILE, identity_digest
from flowbt.report.files import (
    MANIFEST,
    check_out_dir,
    check_writable,
    flowbt_mark,
    out_error,
    read_mark,
    remove_earlier_outputs,
    write_json,
)
from flowbt.report.index import INDEX_FILE, write_index
from flowbt.report.tearsheet import benchmark_close, run_job, tearsheet_job

# the files of a sweep's folder that an earlier sweep's manifest must have written
SWEEP_FILES = ("results.parquet", "results.csv", "summary.json", "tearsheet.html", MANIFEST)


def _is_sweep(path: Path) -> bool:
    """``sweep.json`` as a sweep wrote it (identity and its digest agree)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(value, dict)
        and isinstance(value.get("identity"), dict)
        and value.get("digest") == identity_digest(value["identity"])
    )


def check_sweep_dir(out: Path) -> None:
    """Refuse an ``--out`` that is a file, cannot be written, or is a non-empty folder
    holding neither a flowbt sweep's manifest nor a sweep flowbt started (a killed
    sweep has ``sweep.json`` and chunks but no manifest yet)."""
    out = Path(out)
    if (
        out.is_dir()
        and read_mark(out / MANIFEST) is None
        and not (out / MANIFEST).exists()
        and _is_sweep(out / SWEEP_FILE)
    ):
        for name in SWEEP_FILES:  # a killed sweep: none of the outputs may be the user's
            if (out / name).exists():
                raise out_error(
                    f"holds {name}, which no earlier flowbt sweep wrote (it would be replaced)",
                    out,
                    f"move {out / name} elsewhere, or pick a new or empty folder",
                )
        check_writable(out)
        return
    check_out_dir(out, "optimize", files=SWEEP_FILES)


def write_outputs(opt: Optimization, out: Path, identity: dict[str, Any], command: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    remove_earlier_outputs(out)  # exactly what the earlier sweep's manifest lists
    before = {p.name for p in out.iterdir()}  # sweep.json, chunks/, the user's own files
    results = opt.results.reset_index(drop=True)
    results.to_parquet(out / "results.parquet", index=False)
    results.to_csv(out / "results.csv", index=False)
    write_json(out / "summary.json", opt.summary)
    write_heatmaps(opt, out)
    bench_name = opt.summary.get("benchmark")
    bench = benchmark_close(opt.market, bench_name) if bench_name else None
    if opt.walk_forward is not None:
        opt.walk_forward.folds.to_csv(out / "walk_forward.csv", index=False)
        _plot_walk_forward(opt, out / "walk_forward.png")
        wf = opt.walk_forward.result
        run_job(tearsheet_job(wf, bench, html=out / "walk_forward.html", table=None))
    if opt.curves is not None:
        curves = opt.curves.copy()
        curves.columns = [f"trial_{c}" for c in curves.columns]
        curves.reset_index().to_parquet(out / "curves.parquet", index=False)
    bt = opt.backtest()
    run_job(tearsheet_job(bt.result, bench, html=out / "tearsheet.html", table=None))
    written = {p.name for p in out.iterdir() if p.is_file()} - before
    manifest = {
        "flowbt": flowbt_mark("optimize", [*written, MANIFEST, INDEX_FILE], out),
        "kind": "optimize",
        "command": command,
        "strategy": opt.setup.strategy,
        "seed": identity["seed"],
        "method": identity["method"],
        "objective": identity["objective"],
        "data_checksum": identity["data_checksum"],
        "code_version": identity["code_version"],
        "git_sha": git_sha(),
        "experiment": identity["experiment"],
        "space": identity["space"],
        "window": {"start": opt.summary["start"], "end": opt.summary["end"]},
    }
    write_json(out / "manifest.json", manifest)
    write_index(out, title=f"flowbt optimize: {opt.setup.strategy}")


def write_heatmaps(opt: Optimization, out: Path) -> list[Path]:
    """One PNG per pair of numeric searched parameters: the best objective per cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = opt.results[opt.results["status"] == "ok"]
    numeric = [d.name for d in opt.space.dimensions if d.kind != "categorical"]
    written = []
    for a, b in itertools.combinations(numeric, 2):
        table = ok.pivot_table(index=a, columns=b, values="objective", aggfunc="max")
        if table.empty:
            continue
        fig, ax = plt.subplots(figsize=(7, 5.5))
        values = table.to_numpy(dtype=float)
        im = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        ax.grid(False)
        if values.size <= 400:  # small grids: the number in each cell
            for (r, c), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
        best = opt.summary["best_params"]
        if best.get(a) in table.index and best.get(b) in table.columns:
            r, c = table.index.get_loc(best[a]), table.columns.get_loc(best[b])
            ax.scatter([c], [r], marker="*", s=180, color="red", label="chosen")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xticks(range(len(table.columns)), [f"{v:.4g}" for v in table.columns], rotation=45)
        ax.set_yticks(range(len(table.index)), [f"{v:.4g}" for v in table.index])
        ax.set_xlabel(b)
        ax.set_ylabel(a)
        ax.set_title(f"{opt.setup.strategy}: {opt.summary['objective']} (best over the rest)")
        fig.colorbar(im, ax=ax, label=opt.summary["objective"])
        fig.tight_layout()
        path = out / f"heatmap_{a}_{b}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _plot_walk_forward(opt: Optimization, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert opt.walk_forward is not None
    equity = opt.walk_forward.result.period_equity()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(equity.index, equity.to_numpy(), label="walk-forward (out of sample)")
    best = opt.backtest().result.period_equity()
    best = best[best.index >= equity.index[0]]
    if len(best):
        scaled = best / best.iloc[0] * float(np.asarray(equity)[0])
        ax.plot(scaled.index, scaled.to_numpy(), label="full-sample best (in sample)", alpha=0.7)
    for start in pd.to_datetime(opt.walk_forward.folds["test_start"]):
        ax.axvline(
            start.tz_localize(equity.index.tz) if equity.index.tz else start, color="grey", lw=0.5
        )
    ax.set_title(f"{opt.setup.strategy}: walk-forward equity")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
