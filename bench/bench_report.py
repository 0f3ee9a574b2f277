"""Report speed: one run's tearsheet, and a compare page of 10 runs.

    make bench-report      # or: .venv/bin/python bench/bench_report.py

One process; prints a table and one JSON line. Targets (issue 12): a tearsheet
(``tearsheet.html`` + ``quantstats.csv``, flowbt's corrected quantstats) in <= 2 s
per run, and ``compare.html`` of 10 runs in <= 10 s on this 2-core machine.

Peer, same process, same returns: quantstats' own ``reports.html`` uncorrected (its
default Agg canvas, its group-by-apply compounding); the ratio is flowbt / quantstats,
so < 1 means flowbt's tearsheet is faster than plain quantstats while showing the
corrected figures. The compare page's peer is quantstats' multi-column tearsheet (one
column per run, 0.0.60+), the nearest thing quantstats draws; quantstats 0.0.86 raises
IndexError past 9 columns (column i takes colour i + 1 of 10), so the ratio compares 9
runs.
Absolute times drift +-20% on this machine; the ratio is the figure to watch.
The runs are ten backtests of the bundled snapshot (five strategies, two fee
levels), built before timing starts.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import flowbt  # noqa: E402
from flowbt.report import tearsheet as ts  # noqa: E402

REPEAT = 3
TEARSHEET_TARGET_S = 2.0
COMPARE_TARGET_S = 10.0
STRATEGIES = ("liquidity_rotation", "cta_trend", "buyback_blackout", "vix_hedge", "fed_pivot")
FEES = (0.0005, 0.002)
PEER_COLUMNS = 9  # quantstats 0.0.86 multi-column tearsheets fail past 9


def _timed(fn: Callable[[], object], repeat: int = REPEAT) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _runs(md: object) -> list[flowbt.Backtest]:
    return [flowbt.backtest(name, md, fees=fee) for name in STRATEGIES for fee in FEES]


def main() -> int:
    import matplotlib
    import pandas as pd
    import quantstats as qs

    matplotlib.use("agg")  # quantstats' default canvas in a script
    md = flowbt.load()
    runs = _runs(md)
    bench = ts.benchmark_close(md, "SPY")
    tmp = Path(tempfile.mkdtemp(prefix="flowbt-bench-report-"))

    job = ts.tearsheet_job(runs[0].result, bench, html=tmp / "t.html", table=tmp / "q.csv")
    ts.run_job(job)  # warm: imports, fonts

    def peer() -> None:
        with ts._quiet():
            qs.reports.html(job.returns, benchmark=job.benchmark, output=str(tmp / "qs.html"),
                            periods_per_year=job.periods_per_year)  # fmt: skip

    peer()
    flowbt_s = _timed(lambda: ts.run_job(job))
    peer_s = _timed(peer)

    folders = iter(range(10**6))

    def compare(these: list[flowbt.Backtest]) -> None:
        flowbt.compare(these, tmp / f"compare{next(folders)}")

    ten, peers = runs, runs[:PEER_COLUMNS]
    compare(ten)
    compare_s = _timed(lambda: compare(ten))
    compare_peers_s = _timed(lambda: compare(peers))

    frame = pd.concat({f"{r.result.manifest_name()}#{i}": ts.period_returns(r.result)
                       for i, r in enumerate(peers)}, axis=1, sort=True).fillna(0.0)  # fmt: skip

    def peer_compare() -> None:
        with ts._quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            qs.reports.html(frame, output=str(tmp / "qs9.html"), periods_per_year=252)

    try:
        peer_compare()
        peer_compare_s: list[float] | None = _timed(peer_compare, 1)
    except Exception as exc:  # noqa: BLE001 - the peer's failure is reported, not fatal
        print(f"quantstats multi-column tearsheet failed: {type(exc).__name__}: {exc}")
        peer_compare_s = None

    tear = statistics.median(flowbt_s)
    comp = statistics.median(compare_s)
    result = {
        "benchmark": "report",
        "tearsheet_run": job.title,
        "tearsheet_days": len(job.returns),
        "tearsheet_median_s": round(tear, 3),
        "tearsheet_best_s": round(min(flowbt_s), 3),
        "quantstats_html_median_s": round(statistics.median(peer_s), 3),
        "tearsheet_vs_quantstats": round(tear / statistics.median(peer_s), 3),
        "tearsheet_target_s": TEARSHEET_TARGET_S,
        "tearsheet_meets_target": tear <= TEARSHEET_TARGET_S,
        "compare_runs": len(ten),
        "compare_median_s": round(comp, 3),
        "compare_best_s": round(min(compare_s), 3),
        "compare_9_median_s": round(statistics.median(compare_peers_s), 3),
        "quantstats_9_columns_s": None if peer_compare_s is None else round(peer_compare_s[0], 3),
        "compare_9_vs_quantstats": None if peer_compare_s is None
        else round(statistics.median(compare_peers_s) / peer_compare_s[0], 3),
        "compare_target_s": COMPARE_TARGET_S,
        "compare_meets_target": comp <= COMPARE_TARGET_S,
    }  # fmt: skip
    width = max(len(k) for k in result)
    print(f"{'metric':<{width}}  value")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
