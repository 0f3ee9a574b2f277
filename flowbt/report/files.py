"""The results folder of a run, the output files a user names, and the JSON they hold.

A results folder holds ``metrics.json`` (stats incl. final_equity, total_return,
sharpe, max_drawdown, n_trades, periods_per_year, calendar), ``manifest.json`` (what
ran, on which data, with which code), ``equity.csv``, ``trades.csv``, ``orders.csv``,
``equity.png`` (equity against the benchmark, drawdown in %) and ``trades.png`` (the
traded prices with every fill marked, the signal below). A folder that is not empty
and holds no flowbt manifest may be the user's data and is never written into. JSON
never carries NaN or inf (they become null), so any JSON reader can load it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from engine.result import Result
from flowbt.report.events import Overlay
from flowbt.report.run_plots import plot_equity, plot_trades
from flowbt.report.trades_page import write_trades_page

RESULT_FILES = ("metrics.json", "manifest.json", "equity.csv", "trades.csv", "orders.csv")


def json_clean(value: Any) -> Any:
    """``value`` with every non-finite float (in nested dicts and lists) replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    return value


def write_json(path: Path, payload: Any) -> None:
    """``payload`` as indented JSON at ``path`` (non-finite floats as null)."""
    path.write_text(json.dumps(json_clean(payload), indent=2, default=str) + "\n")


def check_output_path(path: Path, suffixes: tuple[str, ...]) -> Path:
    """An output file the user names: its folder must exist and its suffix be one of
    ``suffixes``; an existing file of that name is replaced (it was asked for)."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"output file {path} must end in {', '.join(suffixes)}; fix: rename it")
    if path.is_dir():
        raise ValueError(f"output file {path} is a folder; fix: name a file inside it")
    if not path.parent.is_dir():
        raise ValueError(
            f"folder {path.parent} for output file {path} does not exist; fix: create it first"
        )
    return path


def check_out_dir(out: Path) -> None:
    """Refuse a results folder that holds anything but an earlier flowbt run's files.

    A folder with a flowbt ``manifest.json`` is a previous run and is replaced; any
    other non-empty folder may be the user's data and is never written into.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; pick a new folder name")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise ValueError(
            f"--out {out} is not empty and holds no flowbt run; pick a new or empty folder"
        )
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"--out {out}: {parent} is a file, not a folder; pick another path")


def prepare_out_dir(out: Path) -> Path:
    """``out`` checked (`check_out_dir`) and created with its parents; returns it."""
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_results(
    result: Result,
    out: Path,
    *,
    plot: bool = True,
    benchmark: pd.Series | None = None,
    signal: pd.DataFrame | pd.Series | None = None,
    overlays: Sequence[Overlay] | None = None,
) -> dict[str, Any]:
    """Write the results folder; returns the metrics written to metrics.json.

    With ``plot``, ``equity.png`` (`flowbt.report.run_plots.plot_equity`, against
    ``benchmark``: a close series, None = no benchmark line) and ``trades.png``
    (`flowbt.report.run_plots.plot_trades`, with ``signal`` on the run's bars below) and
    its interactive twin ``trades.html`` (`flowbt.report.trades_page`);
    ``overlays`` (`flowbt.report.events`) are marked on the equity chart.
    """
    prepare_out_dir(out)
    metrics: dict[str, Any] = json_clean(result.stats())
    metrics["mode"] = result.mode
    metrics["strategy"] = result.manifest_name()
    # symbols whose data ended before the run did (sold at their last bar), stale FX
    metrics["data_end"] = result.manifest.get("data_end", {})
    metrics["fx_stale_from"] = (result.manifest.get("fx") or {}).get("stale_from")
    write_json(out / "metrics.json", metrics)
    write_json(out / "manifest.json", result.manifest)
    equity = pd.DataFrame({"date": result.equity.index, "equity": result.equity.to_numpy()})
    equity.to_csv(out / "equity.csv", index=False)
    result.trades.to_csv(out / "trades.csv", index=False)
    result.orders.to_csv(out / "orders.csv", index=False)
    if plot:
        plot_equity(result, out / "equity.png", benchmark=benchmark, overlays=overlays)
        plot_trades(result, out / "trades.png", signal=signal)
        write_trades_page(result, out / "trades.html", signal=signal)
    return metrics
