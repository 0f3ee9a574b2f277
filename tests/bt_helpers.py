"""Test helpers: random valid OHLC panels and the hypothesis settings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings

from data.market import MarketData
from engine.bars import Bars, bars_from_frames
from engine.market import bars_from_market, signals_for
from engine.plan import market_view as view_of
from engine.result import Result
from strategies.base import MarketView, Strategy

# modest and deterministic: property tests must be fast and reproducible
PROPERTY = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def random_ohlc(
    rng: np.random.Generator,
    n: int,
    start: str = "2020-01-01",
    freq: str = "D",
    vol: float = 0.02,
    p0: float = 100.0,
) -> pd.DataFrame:
    """Geometric random walk with valid OHLC (low <= open, close <= high), positive prices."""
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="date")
    r = rng.normal(0.0, vol, size=n)
    close = p0 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[p0], close[:-1]]) * np.exp(rng.normal(0.0, vol / 3, size=n))
    hi = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, vol / 2, size=n)))
    lo = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, vol / 2, size=n)))
    return pd.DataFrame(
        {"open": open_, "high": hi, "low": lo, "close": close, "volume": 1e6}, index=idx
    )


def random_bars(seed: int, n: int, n_assets: int, closed_frac: float = 0.0) -> Bars:
    rng = np.random.default_rng(seed)
    frames = {}
    for k in range(n_assets):
        df = random_ohlc(rng, n, p0=float(rng.uniform(5, 500)))
        if closed_frac > 0 and k > 0:
            keep = rng.random(n) >= closed_frac
            keep[0] = True
            df = df[keep]
        frames[f"A{k}"] = df
    return bars_from_frames(frames)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the ``flowbt`` CLI in-process: (exit code, stdout, stderr)."""
    from flowbt.cli.main import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, out: str, err: str, needle: str) -> None:
    """A user mistake: exit 2, one line ``flowbt: error: ...`` naming ``needle``, no traceback."""
    assert code == 2
    assert needle in err
    assert err.startswith("flowbt: error: ") and err.count("\n") == 1
    assert "Traceback" not in out + err


def settled_gap(res: Result, days: int = 5) -> tuple[float, float]:
    """Share of bars whose target has stood >= ``days`` days, and the largest gap there between
    the invested share held and the one asked for."""
    target = res.target_weights
    changed = (target.diff().abs().sum(axis=1) > 0).to_numpy()
    stamps = target.index
    last = pd.Series(np.where(changed, stamps.asi8, np.nan), index=stamps).ffill()
    settled = (stamps.asi8 - last.to_numpy()) >= days * 86_400 * 10**9
    gap = (res.weights.abs().sum(axis=1) - target.abs().sum(axis=1)).abs()
    return float(settled.mean()), float(gap[settled].max())


def market_view(strategy: Strategy, md: MarketData, start: str, end: str | None) -> MarketView:
    """What the engine hands ``strategy`` on the bundled bars of ``start..end``: prices
    and its signals aligned by the instant they became known (``engine.market``)."""
    bars, calendars = bars_from_market(md, strategy.symbols or [], start=start, end=end)
    return view_of(replace(bars, signals=signals_for(strategy, md, bars, calendars)))
