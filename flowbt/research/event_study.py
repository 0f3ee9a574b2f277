"""Event-study statistics for the thesis checks: forward returns, point-in-time placement
of events on bars, and OLS with Newey-West (HAC) standard errors.

Point-in-time rule: a value known at an instant (a bar's close, or an event's
``known_at``) is paired with the return from the close of the **first bar whose close is
at or after that instant** to the close ``horizon`` bars later, never with a return that
started before the value was known. A signal computed at bar t's close therefore gets the
return close(t) -> close(t + horizon).

Overlapping forward returns (horizon > 1 on consecutive bars) are serially correlated by
construction, so t-statistics use Newey-West standard errors (Bartlett weights) with
``lags = horizon - 1`` by default. Lags count bar positions, not rows: observations left
out of a regression (a middle tercile, a missing value) leave gaps that the HAC sum
respects. No small-sample correction is applied (as statsmodels' ``cov_type="HAC"``).
Returns are simple returns as fractions; callers scale them (e.g. to basis points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd


def forward_returns(close: pd.Series, horizon: int) -> pd.Series:
    """Simple return from each bar's close to the close ``horizon`` bars later, at bar t.

    ``close[t + horizon] / close[t] - 1``; NaN for the last ``horizon`` bars. Use a
    total-return close (dividends included) where there is one.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 bar, got {horizon}")
    values = close.to_numpy(dtype=float)
    out = np.full(len(values), np.nan)
    if len(values) > horizon:
        out[:-horizon] = values[horizon:] / values[:-horizon] - 1.0
    return pd.Series(out, index=close.index, name=f"fwd_{horizon}")


def event_bars(
    bar_closes: pd.DatetimeIndex, known_at: Sequence[pd.Timestamp] | pd.DatetimeIndex
) -> np.ndarray:
    """Position of the first bar whose close is at or after each event's ``known_at``.

    ``bar_closes`` are the UTC close instants of the bars (sorted). Events known after the
    last close are dropped; the result is sorted and unique (two events known before the
    same close are one event on that bar).
    """
    closes = pd.DatetimeIndex(bar_closes)
    known = pd.DatetimeIndex(known_at)
    if known.tz is None or closes.tz is None:
        raise ValueError("event_bars needs timezone-aware instants (UTC)")
    pos = closes.searchsorted(known.tz_convert(closes.tz), side="left")
    return np.unique(pos[pos < len(closes)])


@dataclass(frozen=True)
class OLSResult:
    """OLS coefficients with Newey-West standard errors."""

    coef: np.ndarray
    se: np.ndarray
    n: int
    lags: int

    @property
    def t(self) -> np.ndarray:
        return cast(np.ndarray, self.coef / self.se)  # numpy types ndarray / ndarray as Any


def newey_west_meat(scores: np.ndarray, positions: np.ndarray, lags: int) -> np.ndarray:
    """``sum_t s_t s_t' + sum_{l=1..L} (1 - l/(L+1)) sum_t (s_t s_{t-l}' + s_{t-l} s_t')``.

    ``scores`` (n x k) are the regressors times residuals, ``positions`` the bar position of
    each row; ``t - l`` is counted in positions, so a missing position adds nothing.
    """
    if lags < 0:
        raise ValueError(f"lags must be >= 0, got {lags}")
    pos = np.asarray(positions, dtype=np.int64)
    if len(np.unique(pos)) != len(pos):
        raise ValueError("positions must be unique")
    k = scores.shape[1]
    grid = np.zeros((int(pos.max() - pos.min()) + 1, k))
    grid[pos - pos.min()] = scores
    meat = grid.T @ grid
    for lag in range(1, min(lags, len(grid) - 1) + 1):
        cross = grid[lag:].T @ grid[:-lag]
        meat += (1.0 - lag / (lags + 1.0)) * (cross + cross.T)
    return meat


def ols_hac(
    y: np.ndarray, x: np.ndarray, lags: int, positions: np.ndarray | None = None
) -> OLSResult:
    """OLS of ``y`` on ``x`` (n x k, include a constant column yourself) with Newey-West
    covariance ``(X'X)^-1 meat (X'X)^-1`` (see `newey_west_meat`)."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if not (np.isfinite(y).all() and np.isfinite(x).all()):
        raise ValueError("ols_hac needs finite y and x (drop missing rows first)")
    n, k = x.shape
    if n <= k or np.linalg.matrix_rank(x) < k:
        raise ValueError(f"too few or collinear observations for a regression (n={n}, k={k})")
    pos = np.arange(n) if positions is None else np.asarray(positions)
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ (x.T @ y)
    resid = y - x @ coef
    cov = xtx_inv @ newey_west_meat(x * resid[:, None], pos, lags) @ xtx_inv
    return OLSResult(coef=coef, se=np.sqrt(np.diag(cov)), n=n, lags=lags)


@dataclass(frozen=True)
class GroupDifference:
    """Mean of ``y`` where the flag is True minus its mean where it is False."""

    effect: float
    t: float
    se: float
    mean_in: float
    mean_out: float
    n_in: int
    n_out: int
    lags: int


def mean_difference(y: pd.Series, flag: pd.Series, lags: int) -> GroupDifference:
    """Difference of means of ``y`` between ``flag`` True and False, with a HAC t-statistic.

    The regression ``y = a + b * flag`` gives ``b`` = the difference of means; rows where
    ``y`` or ``flag`` is missing are left out, keeping their bar positions for the HAC sum.
    ``y`` and ``flag`` share one index, in bar order.
    """
    if not y.index.equals(flag.index):
        raise ValueError("y and flag need the same index")
    ok = y.notna().to_numpy() & flag.notna().to_numpy()
    pos = np.flatnonzero(ok)
    yy = y.to_numpy(dtype=float)[ok]
    d = flag.to_numpy()[ok].astype(float)
    n_in, n_out = int(d.sum()), int(len(d) - d.sum())
    if n_in < 2 or n_out < 2:
        raise ValueError(f"need at least two observations per group (got {n_in} and {n_out})")
    res = ols_hac(yy, np.column_stack([np.ones(len(yy)), d]), lags, pos)
    return GroupDifference(
        effect=float(res.coef[1]),
        t=float(res.t[1]),
        se=float(res.se[1]),
        mean_in=float(yy[d == 1].mean()),
        mean_out=float(yy[d == 0].mean()),
        n_in=n_in,
        n_out=n_out,
        lags=lags,
    )


@dataclass(frozen=True)
class Slope:
    """Regression slope of ``y`` on ``x`` standardised over the sample (per 1 sd of ``x``)."""

    effect: float
    t: float
    se: float
    sd_x: float
    n: int
    lags: int


def slope_per_sd(y: pd.Series, x: pd.Series, lags: int) -> Slope:
    """Slope of ``y`` on ``(x - mean) / sd`` (sd with ddof=1 over the rows used), HAC t.

    Rows where either is missing are left out, keeping their bar positions.
    """
    if not y.index.equals(x.index):
        raise ValueError("y and x need the same index")
    ok = y.notna().to_numpy() & x.notna().to_numpy()
    pos = np.flatnonzero(ok)
    yy = y.to_numpy(dtype=float)[ok]
    xx = x.to_numpy(dtype=float)[ok]
    if len(xx) < 3:
        raise ValueError(f"need at least three observations for a slope (got {len(xx)})")
    sd = float(xx.std(ddof=1))
    if not sd > 0:
        raise ValueError("x is constant over the sample; no slope")
    z = (xx - xx.mean()) / sd
    res = ols_hac(yy, np.column_stack([np.ones(len(yy)), z]), lags, pos)
    return Slope(
        effect=float(res.coef[1]),
        t=float(res.t[1]),
        se=float(res.se[1]),
        sd_x=sd,
        n=len(yy),
        lags=lags,
    )
