"""The results folder of a run, the output files a user names, and the JSON they hold.

A results folder holds ``metrics.json`` (stats incl. final_equity, total_return,
sharpe, max_drawdown, n_trades, periods_per_year, calendar), ``manifest.json`` (what
ran, on which data, with which code), ``equity.csv``, ``trades.csv``, ``orders.csv``,
``equity.png`` (equity against the benchmark, drawdown in %) and ``trades.png`` (the
traded prices with every fill marked, the signal below). JSON never carries NaN or
inf (they become null), so any JSON reader can load it.

Output folders (every writer: run/backtest, book, optimize, compare): a folder is
flowbt's only when its marker file (``manifest.json``; the book's ``flowbt-book.json``)
was written by flowbt: a JSON object whose ``"flowbt"`` entry is ``{"schema": 1,
"kind": ..., "files": [...]}``. ``kind`` says which writer (run, optimize, compare,
book) and ``files`` lists every file that writer put there. A folder that is not empty
and holds no such marker (someone else's manifest.json, an empty one, a marker of
another kind) may be the user's data: it is refused and nothing in it is touched. A
rerun into a flowbt folder of its kind first removes exactly the files the earlier
marker lists (so a `flowbt run` over a `flowbt backtest` folder leaves no old
tearsheet behind) and never overwrites a file the earlier run did not write. A folder
that cannot be written (read-only mount, immutable, no permission) is refused before
any work.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from engine.result import Result
from flowbt.report.events import Overlay
from flowbt.report.run_plots import plot_equity, plot_trades
from flowbt.report.trades_page import write_trades_page

RESULT_FILES = ("metrics.json", "manifest.json", "equity.csv", "trades.csv", "orders.csv")
PLOT_FILES = ("equity.png", "trades.png", "trades.html")
MANIFEST = "manifest.json"
SCHEMA = 1  # the version of the "flowbt" marker in every manifest flowbt writes
KINDS = ("run", "optimize", "compare", "book")
_WRITER = {"run": "the run", "optimize": "the sweep", "compare": "the compare page",
           "book": "the book"}  # fmt: skip


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


def out_error(what: str, out: Path | str, fix: str) -> ValueError:
    """The one-line error ``--out <what> (<folder>); fix: <fix>`` of an output folder."""
    return ValueError(f"--out {what} ({out}); fix: {fix}")


def free_name(out: Path) -> Path:
    """A sibling of ``out`` that does not exist yet (``out-2``, ``out-3``, ...)."""
    out = Path(out)
    if not out.name:  # ".", "/" or "": name the folder itself (or one beside it)
        out = out.resolve() if out.resolve().name else Path("results")
    for k in range(2, 10_000):
        candidate = out.with_name(f"{out.name}-{k}")
        if not candidate.exists():
            return candidate
    return out.with_name(f"{out.name}-new")


def _pick_new(out: Path) -> str:
    return f"pick a new or empty folder, e.g. --out {free_name(out)}"


def flowbt_mark(kind: str, files: Iterable[str], out: Path | None = None) -> dict[str, Any]:
    """The ``"flowbt"`` entry of a manifest flowbt writes: schema, writer kind, the files
    it writes and, with ``out``, the files already there that are not its own
    (``foreign``: left alone now and by every later run)."""
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    names = sorted(set(files))
    foreign = sorted(_file_names(out) - set(names)) if out is not None else []
    return {"schema": SCHEMA, "kind": kind, "files": names, "foreign": foreign}


def _file_names(out: Path | None) -> set[str]:
    if out is None or not out.is_dir():
        return set()
    return {p.name for p in out.iterdir() if p.is_file() or p.is_symlink()}


def seal_outputs(out: Path, marker: str = MANIFEST) -> list[str]:
    """Add to the marker in ``out`` every file written since it was (any file there that
    is neither listed nor ``foreign``), so the next run removes exactly what this one
    wrote; returns the files listed."""
    path = Path(out) / marker
    mark = read_mark(path)
    if mark is None:
        return []
    payload = json.loads(path.read_text(encoding="utf-8"))
    known = set(mark["files"]) | set(mark.get("foreign") or [])
    mark["files"] = sorted(set(mark["files"]) | (_file_names(Path(out)) - known))
    payload["flowbt"] = mark
    write_json(path, payload)
    return list(mark["files"])


def _plain_name(name: object) -> bool:
    """A bare file name inside the folder (no path, no parent, no hidden tricks)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
    )


def read_mark(path: Path) -> dict[str, Any] | None:
    """The ``"flowbt"`` marker of ``path`` when flowbt wrote it (a regular JSON file whose
    ``flowbt`` entry has ``schema`` 1, a known ``kind`` and a ``files`` list of names),
    else None: any other file of that name is the user's."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mark = value.get("flowbt") if isinstance(value, dict) else None
    if not isinstance(mark, dict) or type(mark.get("schema")) is not int:
        return None
    files = mark.get("files")
    if mark["schema"] != SCHEMA or mark.get("kind") not in KINDS or not isinstance(files, list):
        return None
    foreign = mark.get("foreign", [])
    if not isinstance(foreign, list) or not all(_plain_name(f) for f in [*files, *foreign]):
        return None
    return mark


def check_writable(out: Path) -> None:
    """Refuse ``out`` when it (or, for a folder still to be created, its nearest existing
    parent) cannot be written: no permission, a read-only mount, an immutable folder.
    Checked with a probe folder that is removed at once (root passes permission bits)."""
    out = Path(out)
    target = out
    while not target.exists() and target != target.parent:
        target = target.parent
    fix = (
        f"pick a folder you can write, e.g. --out {Path(tempfile.gettempdir()) / 'flowbt-results'}"
    )
    where = out if target == out else f"{out}: its parent {target}"
    if not os.access(target, os.W_OK | os.X_OK):
        raise out_error("cannot be written: permission denied or read-only", where, fix)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".flowbt-probe-", dir=target))
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise out_error(f"cannot be written: {why}", where, fix) from None


def check_out_dir(
    out: Path,
    kind: str = "run",
    *,
    files: Iterable[str] = (),
    marker: str = MANIFEST,
) -> None:
    """Refuse a results folder that holds anything but an earlier flowbt output of
    ``kind``, or that cannot be written; nothing is touched.

    New or empty folders are fine. A non-empty folder must hold ``marker`` written by
    flowbt (`read_mark`) of the same kind, and none of the ``files`` about to be written
    may exist there unless that earlier output wrote it (listed in its marker).
    """
    out = Path(out)
    for parent in reversed(out.parents):
        if parent.exists() and not parent.is_dir():
            raise out_error(f"path runs through {parent}, a file", out, "pick another path")
    if out.exists() and not out.is_dir():
        raise out_error("is a file, not a folder", out, _pick_new(out))
    if out.is_dir() and any(out.iterdir()):
        mark = read_mark(out / marker)
        if mark is None:
            if (out / marker).exists() or (out / marker).is_symlink():
                what = f"holds a {marker} that flowbt did not write"
            else:
                what = "is not empty and holds no flowbt run"
            raise out_error(what, out, _pick_new(out))
        if mark["kind"] != kind:
            what = f"holds a flowbt {mark['kind']} whose {marker} {_WRITER[kind]} would replace"
            raise out_error(what, out, _pick_new(out))
        earlier = set(mark["files"])
        for name in files:
            if name not in earlier and ((out / name).exists() or (out / name).is_symlink()):
                raise out_error(
                    f"holds {name}, which no earlier flowbt output wrote (it would be replaced)",
                    out,
                    f"move {out / name} elsewhere, or {_pick_new(out)}",
                )
    check_writable(out)


def remove_earlier_outputs(out: Path, marker: str = MANIFEST) -> list[str]:
    """Remove exactly the files the flowbt marker in ``out`` lists (nothing else: no
    folder, no file it does not name); returns their names. No marker: nothing."""
    mark = read_mark(Path(out) / marker)
    removed: list[str] = []
    for name in mark["files"] if mark is not None else []:
        path = Path(out) / name
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed.append(name)
    return removed


def prepare_out_dir(
    out: Path, kind: str = "run", *, files: Iterable[str] = (), marker: str = MANIFEST
) -> Path:
    """``out`` checked (`check_out_dir`), created with its parents and cleared of the
    files an earlier flowbt output of ``kind`` wrote there; returns it."""
    files = list(files)
    check_out_dir(out, kind, files=files, marker=marker)
    out.mkdir(parents=True, exist_ok=True)
    remove_earlier_outputs(out, marker)
    return out


def run_files(*, plot: bool = True, extra: Iterable[str] = ()) -> list[str]:
    """The files a run writes into its folder (``extra``: tearsheet, index, ...)."""
    return [*RESULT_FILES, *(PLOT_FILES if plot else ()), *extra]


def write_results(
    result: Result,
    out: Path,
    *,
    plot: bool = True,
    benchmark: pd.Series | None = None,
    signal: pd.DataFrame | pd.Series | None = None,
    overlays: Sequence[Overlay] | None = None,
    extra_files: Sequence[str] = (),
    warnings: Sequence[str] = (),
    extra_metrics: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the results folder; returns the metrics written to metrics.json.

    With ``plot``, ``equity.png`` (`flowbt.report.run_plots.plot_equity`, against
    ``benchmark``: a close series, None = no benchmark line) and ``trades.png``
    (`flowbt.report.run_plots.plot_trades`, with ``signal`` on the run's bars below) and
    its interactive twin ``trades.html`` (`flowbt.report.trades_page`);
    ``overlays`` (`flowbt.report.events`) are marked on the equity chart.
    ``extra_files``: what the caller writes into ``out`` afterwards (tearsheet.html,
    index.html, ...), listed in the manifest so a rerun may remove them; ``warnings``:
    what the run could not do as asked (metrics.json ``warnings``); ``extra_metrics``:
    more fields of metrics.json (e.g. ``adjust`` of `flowbt run`). The manifest is
    written first, so even a run cut short leaves a folder flowbt recognises.
    """
    files = run_files(plot=plot, extra=extra_files)
    prepare_out_dir(out, "run", files=files)
    write_json(out / MANIFEST, {"flowbt": flowbt_mark("run", files, out), **result.manifest})
    metrics: dict[str, Any] = json_clean(result.stats())
    metrics["mode"] = result.mode
    metrics["strategy"] = result.manifest_name()
    # symbols whose data ended before the run did (sold at their last bar), stale FX
    metrics["data_end"] = result.manifest.get("data_end", {})
    metrics["fx_stale_from"] = (result.manifest.get("fx") or {}).get("stale_from")
    metrics["warnings"] = list(warnings)
    metrics.update(json_clean(dict(extra_metrics or {})))
    write_json(out / "metrics.json", metrics)
    equity = pd.DataFrame({"date": result.equity.index, "equity": result.equity.to_numpy()})
    equity.to_csv(out / "equity.csv", index=False)
    result.trades.to_csv(out / "trades.csv", index=False)
    result.orders.to_csv(out / "orders.csv", index=False)
    if plot:
        plot_equity(result, out / "equity.png", benchmark=benchmark, overlays=overlays)
        plot_trades(result, out / "trades.png", signal=signal)
        write_trades_page(result, out / "trades.html", signal=signal)
    return metrics
