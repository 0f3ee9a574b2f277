"""CTA trend levels and vol-target flows: trend followers flip long/short mechanically when
price crosses their moving averages, and vol-target funds de-lever as volatility rises,
so both flows are predictable from prices alone.

Per lookback k (sessions), the trend score is
``s_k = clip(scale * (P - MA_k) / (sigma * P * sqrt(k)), -1, 1)`` (or ``sign(P - MA_k)``),
sigma the realised daily volatility of log returns. Tomorrow's trigger level of lookback k
is the close equal to its own next moving average: the mean of the last k - 1 closes.
Units: prices in the symbol's currency, scores/positions/exposures as fractions of capital
(unitless), volatility annualised (252 sessions, 365 days for 24/7). Point in time: a bar
uses closes up to and including its own; no publication lag (prices are known at the
close). Source: the symbol's bundled close (raw, as traded: what desks quote levels on).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from data.calendars import periods_per_year
from data.market import MarketData
from signals.registry import register

LOOKBACKS: tuple[int, ...] = (20, 60, 120, 250)


def realised_vol(close: pd.Series, window: int) -> pd.Series:
    """Rolling standard deviation of daily log returns over ``window`` bars (per bar)."""
    return np.log(close).diff().rolling(window).std()


def trend_score_frame(
    close: pd.Series,
    lookbacks: Sequence[int] = LOOKBACKS,
    *,
    vol_window: int = 60,
    scale: float = 1.0,
    method: str = "scaled",
) -> pd.DataFrame:
    """Trend score per lookback (columns ``s_{k}``, each in [-1, 1]) from a close series."""
    if method not in ("scaled", "sign"):
        raise ValueError(f"unknown trend method {method!r}; use 'scaled' or 'sign'")
    sigma = realised_vol(close, vol_window)
    out = {}
    for k in lookbacks:
        gap = close - close.rolling(k).mean()
        if method == "sign":
            out[f"s_{k}"] = np.sign(gap).where(gap.notna())
        else:
            out[f"s_{k}"] = (scale * gap / (sigma * close * np.sqrt(k))).clip(-1.0, 1.0)
    return pd.DataFrame(out, index=close.index)


def _weighted_sum(columns: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise sum_k w_k x_k, column by column: a matrix product may round differently
    with the array's length, which would break exact point-in-time equality."""
    total = np.zeros(columns.shape[0])
    for k, weight in enumerate(w):
        total = total + weight * columns[:, k]
    return total


def _weights(lookbacks: Sequence[int], weights: Sequence[float] | None) -> np.ndarray:
    w = np.full(len(lookbacks), 1.0 / len(lookbacks)) if weights is None else np.asarray(weights)
    if len(w) != len(lookbacks) or not np.isclose(w.sum(), 1.0) or (w < 0).any():
        raise ValueError("weights need one non-negative value per lookback, summing to 1")
    return w


@register("cta_trend_scores", "CTA trend score per lookback (20/60/120/250 sessions), in [-1, 1]")
def trend_scores(
    md: MarketData,
    *,
    symbol: str = "SPY",
    lookbacks: Sequence[int] = LOOKBACKS,
    vol_window: int = 60,
    scale: float = 1.0,
    method: str = "scaled",
) -> pd.DataFrame:
    """`trend_score_frame` on the close of ``symbol``."""
    close = md.price(symbol)["close"]
    return trend_score_frame(close, lookbacks, vol_window=vol_window, scale=scale, method=method)


@register("cta_position", "Estimated CTA position: vol-scaled weighted trend scores in [-1, 1]")
def cta_position(
    md: MarketData,
    *,
    symbol: str = "SPY",
    lookbacks: Sequence[int] = LOOKBACKS,
    weights: Sequence[float] | None = None,
    vol_window: int = 60,
    target_vol: float = 0.10,
    max_leverage: float = 2.0,
    scale: float = 1.0,
    method: str = "scaled",
) -> pd.DataFrame:
    """``score`` = sum_k w_k s_k (equal weights by default), ``leverage`` =
    min(``max_leverage``, ``target_vol`` / annualised vol), ``position`` =
    clip(score * leverage, -1, 1) as a fraction of capital."""
    close = md.price(symbol)["close"]
    scores = trend_score_frame(close, lookbacks, vol_window=vol_window, scale=scale, method=method)
    score = _weighted_sum(scores.to_numpy(), _weights(lookbacks, weights))
    annual = realised_vol(close, vol_window) * np.sqrt(periods_per_year(md.calendar(symbol)))
    leverage = np.minimum(max_leverage, target_vol / annual)
    out = pd.DataFrame({"score": score, "leverage": leverage}, index=close.index)
    out["position"] = (out["score"] * out["leverage"]).clip(-1.0, 1.0)
    return out


def _score_at(
    price: np.ndarray,
    sums: np.ndarray,
    ks: np.ndarray,
    sigma: np.ndarray,
    scale: float,
    method: str,
) -> np.ndarray:
    """Tomorrow's weighted-score ingredients: s_k if tomorrow closes at ``price`` (T x K)."""
    p = price[:, None]
    gap = p - (sums + p) / ks
    if method == "sign":
        return np.sign(gap)
    return np.clip(scale * gap / (sigma[:, None] * p * np.sqrt(ks)), -1.0, 1.0)


@register("cta_trigger_levels", "Tomorrow's CTA flip price per lookback and for the whole position")
def cta_trigger_levels(
    md: MarketData,
    *,
    symbol: str = "SPY",
    lookbacks: Sequence[int] = LOOKBACKS,
    weights: Sequence[float] | None = None,
    vol_window: int = 60,
    scale: float = 1.0,
    method: str = "scaled",
) -> pd.DataFrame:
    """Levels for the *next* session, known at each bar's close, in price units.

    ``trigger_{k}``: the close at which lookback k's score changes sign tomorrow, i.e.
    the mean of the last k - 1 closes (a close there equals its own k-bar average).
    ``flip_level``: the close at which the weighted score (so the estimated position)
    changes sign tomorrow, holding today's volatility; found by bisection between the
    lowest and highest per-lookback trigger, where every score is <= 0 and >= 0.
    """
    close = md.price(symbol)["close"]
    triggers = pd.DataFrame(
        {f"trigger_{k}": close.rolling(k - 1).mean() for k in lookbacks}, index=close.index
    )
    ks = np.asarray(lookbacks, dtype=float)[None, :]
    levels = triggers.to_numpy()
    sums = levels * (ks - 1)
    sigma = realised_vol(close, vol_window).to_numpy()
    w = _weights(lookbacks, weights)
    lo, hi = levels.min(axis=1), levels.max(axis=1)
    for _ in range(60):
        mid = (lo + hi) / 2
        up = _weighted_sum(_score_at(mid, sums, ks, sigma, scale, method), w) >= 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    valid = np.isfinite(levels).all(axis=1) & (np.isfinite(sigma) | (method == "sign"))
    triggers["flip_level"] = np.where(valid, hi, np.nan)
    return triggers


@register("vol_target_exposure", "Vol-target fund exposure min(L, target/realised vol) and flow")
def vol_target_exposure(
    md: MarketData,
    *,
    symbol: str = "SPY",
    target_vol: float = 0.10,
    max_leverage: float = 2.0,
    window: int = 20,
    halflife: float | None = None,
    aum: float | None = None,
) -> pd.DataFrame:
    """``realised_vol`` (annualised; rolling ``window`` bars, or EWMA with ``halflife``),
    ``exposure`` = min(``max_leverage``, ``target_vol`` / realised_vol) and ``flow`` = its
    change from the previous bar (fraction of AUM; ``flow_usd`` = flow * ``aum`` if given).
    A negative flow is the de-leveraging sale the thesis expects after a volatility rise."""
    close = md.price(symbol)["close"]
    returns = np.log(close).diff()
    daily = returns.ewm(halflife=halflife).std() if halflife else returns.rolling(window).std()
    annual = daily * np.sqrt(periods_per_year(md.calendar(symbol)))
    out = pd.DataFrame({"realised_vol": annual}, index=close.index)
    out["exposure"] = np.minimum(max_leverage, target_vol / annual)
    out["flow"] = out["exposure"].diff()
    if aum is not None:
        out["flow_usd"] = out["flow"] * aum
    return out
