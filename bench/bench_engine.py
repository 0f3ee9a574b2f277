"""Engine throughput: flowbt event engine, flowbt vectorbt path, raw vectorbt, peers.

Run: ``.venv/bin/python bench/bench_engine.py [--quick]``. One process; prints a
table and one JSON line. Workloads: SMA(10/50) cross on 1,000,000 synthetic
GBM bars, and a sweep of fast 5..50 x slow 20..200 step 5 (fast < slow, 1590
combos) on 10,000 bars. "first" is the first call in this process (numba
loads its on-disk cache or compiles); "warm" is the median of later calls.
Peak RSS is the process high-water mark read right after each workload (the
compiled sweep runs first, so its figure is its own; the 1M-bar event runs come
next, before the vectorbt batches). Rows marked "extrapolated"
time a subset of combos and scale to the full grid. backtesting.py and
backtrader (optional ``bench`` extra) run on a subset of bars; their fills
follow their own conventions (whole units, their sizing), so only speed is
compared, not numbers. "event (compiled loop)" times the numba bar loop on a
prepared plan; "event (end to end)" adds the strategy's signals, the plan and
the result frames.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.bars import bars_from_frames  # noqa: E402
from engine.config import BacktestConfig  # noqa: E402
from engine.costs import CostModel  # noqa: E402
from engine.plan import build_plan, strategy_weights  # noqa: E402
from engine.simulator import run_event, simulate_plan  # noqa: E402
from engine.vector import run_vector  # noqa: E402
from flowbt.optimize.sweep import sweep_sma_cross  # noqa: E402
from strategies.registry import get_strategy  # noqa: E402

FEES = 0.001


def gbm_frame(n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0, 0.001, n)  # minute-like bars: prices stay in a sane range
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.0003, n))
    high = np.maximum(open_, close) * 1.0005
    low = np.minimum(open_, close) * 0.9995
    idx = pd.date_range("2000-01-03", periods=n, freq="min", tz="UTC")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=idx)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
    return first, statistics.median(warm) if warm else first


def raw_vbt_signals(frame: pd.DataFrame, fast: int | list[int], slow: int | list[int]):
    """Raw vectorbt: SMA entries/exits shifted one bar, filled at the open."""
    import vectorbt as vbt

    # RangeIndex: a tz-aware DatetimeIndex costs vectorbt seconds per wrap on 1M bars
    close = frame["close"].reset_index(drop=True)
    f = vbt.MA.run(close, fast, short_name="f", per_column=False)
    s = vbt.MA.run(close, slow, short_name="s", per_column=False)
    above = f.ma.to_numpy() > s.ma.to_numpy()
    above = above.reshape(len(close), -1)
    prev = np.vstack([np.zeros((1, above.shape[1]), bool), above[:-1]])
    entries = np.vstack([np.zeros((1, above.shape[1]), bool), (above & ~prev)[:-1]])
    exits = np.vstack([np.zeros((1, above.shape[1]), bool), (~above & prev)[:-1]])
    return vbt.Portfolio.from_signals(
        close.to_numpy()[:, None],
        entries,
        exits,
        price=frame["open"].to_numpy()[:, None],
        fees=FEES,
        init_cash=100_000.0,
        freq="1D",
    )


def run_backtesting_py(frame: pd.DataFrame, fast: int = 10, slow: int = 50) -> None:
    """backtesting.py: SMA cross, next-open fills (its default), commission = FEES."""
    import warnings

    from backtesting import Backtest
    from backtesting import Strategy as BtStrategy

    def sma(x: np.ndarray, w: int) -> np.ndarray:
        return pd.Series(x).rolling(w).mean().to_numpy()

    class SmaCross(BtStrategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, fast)
            self.slow = self.I(sma, self.data.Close, slow)

        def next(self) -> None:
            if self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy()
            elif self.position:
                self.position.close()

    data = frame.rename(columns=str.capitalize)
    data.index = data.index.tz_localize(None)
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # and its progress bar
        Backtest(data, SmaCross, cash=100_000, commission=FEES).run()


def run_backtrader(frame: pd.DataFrame, fast: int = 10, slow: int = 50) -> None:
    """backtrader: SMA cross with market orders (next open), commission = FEES."""
    import backtrader as bt

    class SmaCross(bt.Strategy):
        def __init__(self) -> None:
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=fast), bt.ind.SMA(period=slow))

        def next(self) -> None:
            if not self.position and self.cross > 0:
                self.buy(size=self.broker.getcash() / self.data.close[0] * 0.99)
            elif self.position and self.cross < 0:
                self.close()

    data = frame.copy()
    data.index = data.index.tz_localize(None)
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=data))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(100_000.0)
    cerebro.broker.setcommission(commission=FEES)
    cerebro.run()


def second_process_compile_s() -> float:
    """Fresh interpreter, warm numba cache: time of the first event run and sweep call."""
    code = (
        "import time, numpy as np, pandas as pd\n"
        "from engine.bars import bars_from_frames\n"
        "from engine.simulator import run_event\n"
        "from flowbt.optimize.sweep import sweep_sma_cross\n"
        "from strategies.registry import get_strategy\n"
        "idx = pd.date_range('2020-01-01', periods=300, tz='UTC')\n"
        "c = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, 300))\n"
        "df = pd.DataFrame({'open': c, 'high': c + 1, 'low': c - 1, 'close': c}, index=idx)\n"
        "t = time.perf_counter()\n"
        "run_event(get_strategy('sma_cross')(), bars_from_frames(df))\n"
        "sweep_sma_cross(c, c, [5, 10], [20, 30])\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100k bars, fewer repeats")
    args = ap.parse_args()
    n_big = 100_000 if args.quick else 1_000_000
    rows: list[dict[str, object]] = []
    cfg = BacktestConfig(costs=CostModel(fees=FEES), calendar="sessions")

    def add(name: str, work: str, first: float, warm: float, units: float, unit: str) -> None:
        rows.append(
            {
                "engine": name,
                "workload": work,
                "first_s": round(first, 4),
                "warm_s": round(warm, 5),
                unit: round(units / warm, 1),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        )

    # --- sweep first, so its peak RSS is not the 1M-bar runs' ------------------
    small = gbm_frame(10_000, seed=7)
    fast = list(range(5, 51))  # 46 x 37 grid minus fast >= slow = 1590 combos
    slow = list(range(20, 201, 5))
    combos = [(f, s) for f in fast for s in slow if f < s]
    n_combo = len(combos)
    sweep_work = f"sweep {n_combo} combos x 10,000 bars"
    o, c = small["open"].to_numpy(), small["close"].to_numpy()
    first, warm = timed(lambda: sweep_sma_cross(o, c, fast, slow, fees=FEES), 5)
    add(
        "flowbt sweep (compiled, prange)",
        sweep_work,
        first,
        warm,
        n_combo * 10_000,
        "bar_backtests_per_s",
    )
    sweep_bps = n_combo * 10_000 / warm
    sweep_rss = peak_rss_mb()

    # --- 1M bars, one backtest through flowbt's event engine (before the vectorbt
    # batches, whose gigabyte of arrays would otherwise be in the heap it works in)
    big = gbm_frame(n_big)
    bars = bars_from_frames({"X": big})
    strat = get_strategy("sma_cross")({"fast": 10, "slow": 50})
    work = f"sma 10/50, {n_big:,} bars"

    first, warm = timed(lambda: run_event(strat, bars, cfg), 7)
    add("flowbt event (end to end)", work, first, warm, n_big, "bars_per_s")
    event_e2e_bps = n_big / warm
    plan = build_plan(strategy_weights(strat, bars), bars, cfg)
    first, warm = timed(lambda: simulate_plan(plan, bars, cfg, periods_per_year=252), 7)
    add("flowbt event (compiled loop)", work, first, warm, n_big, "bars_per_s")
    event_bps = n_big / warm
    ev = run_event(strat, bars, cfg)

    # --- the same sweep through the other paths ----------------------------------
    small_bars = bars_from_frames({"X": small})
    sub = combos[:: max(1, n_combo // 40)]
    run_event(get_strategy("sma_cross")(), small_bars, cfg)
    t0 = time.perf_counter()
    for f, s in sub:
        run_event(get_strategy("sma_cross")({"fast": f, "slow": s}), small_bars, cfg)
    per = (time.perf_counter() - t0) / len(sub)
    add(
        f"flowbt event, run_event per combo ({len(sub)} timed, extrapolated)",
        sweep_work,
        per * n_combo,
        per * n_combo,
        n_combo * 10_000,
        "bar_backtests_per_s",
    )

    sub_v = combos[:: max(1, n_combo // 40)]
    run_vector(get_strategy("sma_cross")(), small_bars, cfg)  # first call: vectorbt JIT
    t0 = time.perf_counter()
    for f, s in sub_v:
        run_vector(get_strategy("sma_cross")({"fast": f, "slow": s}), small_bars, cfg)
    per = (time.perf_counter() - t0) / len(sub_v)
    add(
        f"flowbt vectorbt path per combo ({len(sub_v)} timed, extrapolated)",
        sweep_work,
        per * n_combo,
        per * n_combo,
        n_combo * 10_000,
        "bar_backtests_per_s",
    )

    fl = [f for f, _ in combos]
    sl = [s for _, s in combos]
    first, warm = timed(lambda: raw_vbt_signals(small, fl, sl), 1)
    add(
        "raw vectorbt from_signals (all columns)",
        sweep_work,
        first,
        warm,
        n_combo * 10_000,
        "bar_backtests_per_s",
    )

    # --- 1M bars through the vectorbt path and raw vectorbt -----------------------
    first, warm = timed(lambda: run_vector(strat, bars, cfg), 2)
    add("flowbt vectorbt path", work, first, warm, n_big, "bars_per_s")
    vec = run_vector(strat, bars, cfg)
    parity = float(np.max(np.abs(ev.equity.to_numpy() / vec.equity.to_numpy() - 1)))

    first, warm = timed(lambda: raw_vbt_signals(big, 10, 50), 2)
    add("raw vectorbt from_signals", work, first, warm, n_big, "bars_per_s")
    raw_bps = n_big / warm

    # --- peers, on a subset (they are event loops in Python) ----------------------
    peers: dict[str, str] = {}
    for mod, runner, n_sub in (
        ("backtesting", run_backtesting_py, 100_000 if not args.quick else 20_000),
        ("backtrader", run_backtrader, 20_000 if not args.quick else 5_000),
    ):
        try:
            __import__(mod)
        except ImportError:
            peers[mod] = "not installed (pip install '.[bench]')"
            continue
        frame = big.iloc[:n_sub]
        first, warm = timed(lambda frame=frame, runner=runner: runner(frame), 1)
        add(f"{mod} (subset)", f"sma 10/50, {n_sub:,} bars", first, warm, n_sub, "bars_per_s")
        peers[mod] = f"{n_sub / warm:,.0f} bars/s on {n_sub:,} bars"
        # sweep: 4 combos timed, extrapolated to the full grid
        few = combos[:: max(1, n_combo // 4)][:4]
        t0 = time.perf_counter()
        for f, sl in few:
            runner(small, f, sl)
        per = (time.perf_counter() - t0) / len(few)
        add(
            f"{mod} per combo ({len(few)} timed, extrapolated)",
            sweep_work,
            per * n_combo,
            per * n_combo,
            n_combo * 10_000,
            "bar_backtests_per_s",
        )

    second = second_process_compile_s()

    table = pd.DataFrame(rows).astype(object).fillna("")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    print(f"event/raw-vectorbt speed ratio on {n_big:,} bars: {event_bps / raw_bps:.1f}x")
    print(f"max relative equity gap event vs vectorbt path: {parity:.2e}")
    print(f"second process, first event run + sweep call: {second:.2f} s")
    print(f"peers: {peers}")
    summary = {
        "bars": n_big,
        "event_bars_per_s": round(event_bps),  # the compiled loop
        "event_end_to_end_bars_per_s": round(event_e2e_bps),  # signals + plan + loop + result
        "raw_vbt_bars_per_s": round(raw_bps),
        "sweep_combos": n_combo,
        "sweep_bar_backtests_per_s": round(sweep_bps),
        "peak_rss_mb_after_sweep": round(sweep_rss, 1),
        "peak_rss_mb_final": round(peak_rss_mb(), 1),
        "second_process_first_call_s": round(second, 3),
        "parity_max_rel_gap": parity,
        "peers": peers,
        "rows": rows,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
