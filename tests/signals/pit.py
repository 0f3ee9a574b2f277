"""Reusable point-in-time check for any signal computed from `MarketData`.

A signal is point in time when recomputing it on ``md.as_of(t)`` gives exactly the
values the full-data computation gives for every bar known at ``t``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from data.market import MarketData

SignalOf = Callable[[MarketData], pd.Series | pd.DataFrame]


def _frame(x: pd.Series | pd.DataFrame) -> pd.DataFrame:
    return x.to_frame() if isinstance(x, pd.Series) else x


def sample_times(start: str, end: str, n: int = 12, seed: int = 0) -> list[pd.Timestamp]:
    """``n`` instants between two dates: random New York times of day, some at bare dates."""
    rng = np.random.default_rng(seed)
    lo, hi = pd.Timestamp(start).value, pd.Timestamp(end).value
    days = pd.to_datetime(np.sort(rng.integers(lo, hi, n))).normalize()
    minutes = rng.choice([0, 9 * 60 + 30, 16 * 60 + 15, 16 * 60 + 45, 20 * 60], size=n)
    return [
        d if m == 0 else (d + pd.Timedelta(minutes=int(m))).tz_localize("America/New_York")
        for d, m in zip(days, minutes, strict=True)
    ]


def assert_point_in_time(
    signal_fn: SignalOf, md: MarketData, times: Iterable[str | pd.Timestamp]
) -> None:
    """Require ``signal_fn(md.as_of(t))`` to equal ``signal_fn(md)`` on every row it has.

    Values must be identical (NaN equals NaN, no tolerance), the truncated result must
    have every row of the full one up to its last row (no row silently dropped), and
    across all ``t`` some non-NaN value must have been compared (no vacuous pass).
    """
    full = _frame(signal_fn(md))
    compared = 0
    for t in times:
        part = _frame(signal_fn(md.as_of(t)))
        if part.empty:
            continue
        expected = full.loc[: part.index[-1]]
        assert part.index.equals(expected.index), f"as of {t}: rows differ from the full run"
        assert list(part.columns) == list(full.columns), f"as of {t}: columns differ"
        for col in full.columns:
            a, b = part[col].to_numpy(), expected[col].to_numpy()
            if a.dtype.kind in "fc" or b.dtype.kind in "fc":
                same = np.array_equal(a.astype(float), b.astype(float), equal_nan=True)
            else:
                same = bool(pd.Series(a).equals(pd.Series(b)))
            if not same:
                bad = expected.index[~((a == b) | (pd.isna(a) & pd.isna(b)))]
                raise AssertionError(
                    f"as of {t}: {col!r} differs from the full run at {list(bad[:3])}"
                )
        compared += int(part.notna().to_numpy().sum())
    assert compared > 0, "no value was compared: pick times where the signal is defined"
