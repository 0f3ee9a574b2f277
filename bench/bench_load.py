"""Benchmark: load the whole bundled snapshot (target: under 1 s warm on 2 cores).

    make bench-data        # or: .venv/bin/python bench/bench_load.py

Prints a table and one JSON line: import time, first (cold) load, warm median
and best of N loads of every price, macro series and event table, plus the
cost of `as_of` and a 5-asset `align` on the loaded data.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

REPEAT = 7
TARGET_WARM_S = 1.0


def _timed(fn, repeat: int = REPEAT) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    t0 = time.perf_counter()
    import data

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    md = data.load()
    first_s = time.perf_counter() - t0
    warm = _timed(data.load)
    as_of = _timed(lambda: md.as_of("2020-03-19"))
    aligned = _timed(lambda: md.align(["SPY", "QQQ", "MU", "005930.KS", "BTC-USD"]))
    rows = sum(len(f) for f in md.prices.values()) + sum(len(f) for f in md.macro.values())
    rows += sum(len(f) for f in md.events.values())
    result = {
        "benchmark": "load_bundle",
        "files": len(md.prices) + len(md.macro) + len(md.events),
        "rows": rows,
        "import_s": round(import_s, 4),
        "first_load_s": round(first_s, 4),
        "warm_median_s": round(statistics.median(warm), 4),
        "warm_best_s": round(min(warm), 4),
        "as_of_median_s": round(statistics.median(as_of), 4),
        "align5_median_s": round(statistics.median(aligned), 4),
        "target_warm_s": TARGET_WARM_S,
    }
    result["meets_target"] = result["warm_median_s"] < TARGET_WARM_S
    width = max(len(k) for k in result)
    print(f"{'metric':<{width}}  value")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
