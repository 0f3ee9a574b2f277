"""How much of an optimised result is luck: PSR, DSR and the probability of overfitting.

- Probabilistic Sharpe ratio (Bailey & Lopez de Prado, 2012): the probability that the
  true Sharpe exceeds a benchmark ``sr_star``, given the estimate's sample size, skewness
  and *raw* kurtosis (3 for normal returns):
  ``PSR = Z((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``.
- Deflated Sharpe ratio (Bailey & Lopez de Prado, 2014): the PSR against the Sharpe
  the best of ``N`` trials would show by luck alone,
  ``SR0 = sqrt(V) ((1 - gamma) Z^-1(1 - 1/N) + gamma Z^-1(1 - 1/(N e)))``, where ``V`` is
  the variance of the trials' Sharpe ratios. vectorbt computes it
  (``vectorbt.returns.metrics.deflated_sharpe_ratio``); its inputs must be raw kurtosis,
  which `sharpe_moments` gives (pandas' ``.kurt()`` and scipy's default are *excess*).
- Probability of backtest overfitting by combinatorially symmetric cross-validation
  (Bailey, Borwein, Lopez de Prado & Zhu, 2015): the share of the ``C(S, S/2)`` splits of
  the sample into in-sample and out-of-sample halves where the in-sample best
  configuration ranks in the bottom half out of sample.

Units: Sharpe ratios here are **per period** (not annualised); returns are simple
returns per period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats
from vectorbt.returns import metrics as vbt_metrics


@dataclass(frozen=True)
class SharpeMoments:
    """A per-period Sharpe ratio with the moments its precision depends on."""

    sharpe: float
    n: int
    skew: float
    kurtosis: float  # raw (3 for normal returns), not excess


def sharpe_moments(returns: np.ndarray) -> SharpeMoments:
    """Per-period Sharpe (mean / sample stdev), skewness and raw kurtosis of ``returns``."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if len(r) < 3:
        raise ValueError(f"need at least 3 returns for a Sharpe ratio's moments, got {len(r)}")
    sd = float(r.std(ddof=1))
    if not sd > 0:
        raise ValueError("returns are constant: the Sharpe ratio is undefined")
    return SharpeMoments(
        sharpe=float(r.mean() / sd),
        n=len(r),
        skew=float(stats.skew(r)),
        kurtosis=float(stats.kurtosis(r, fisher=False)),  # raw: the formula's g4
    )


def probabilistic_sharpe(m: SharpeMoments, sr_star: float = 0.0) -> float:
    """PSR: the probability that the true per-period Sharpe exceeds ``sr_star``."""
    var = 1.0 - m.skew * m.sharpe + (m.kurtosis - 1.0) / 4.0 * m.sharpe**2
    if var <= 0:
        raise ValueError("the Sharpe ratio's variance estimate is not positive")
    z = (m.sharpe - sr_star) * math.sqrt(m.n - 1) / math.sqrt(var)
    return float(stats.norm.cdf(z))


def expected_max_sharpe(trial_sharpes: np.ndarray) -> float:
    """SR0: the Sharpe ratio the best of the trials reaches by luck (mean-zero trials)."""
    sharpes = np.asarray(trial_sharpes, dtype=np.float64)
    sharpes = sharpes[np.isfinite(sharpes)]
    if len(sharpes) < 2:
        raise ValueError("need at least 2 trials to deflate a Sharpe ratio")
    return float(vbt_metrics.approx_exp_max_sharpe(0.0, sharpes.var(ddof=1), len(sharpes)))


def deflated_sharpe(m: SharpeMoments, trial_sharpes: np.ndarray) -> float:
    """DSR of the chosen configuration ``m`` among ``trial_sharpes`` (per period, all
    trials including the chosen one)."""
    sharpes = np.asarray(trial_sharpes, dtype=np.float64)
    sharpes = sharpes[np.isfinite(sharpes)]
    if len(sharpes) < 2:
        raise ValueError("need at least 2 trials to deflate a Sharpe ratio")
    value = vbt_metrics.deflated_sharpe_ratio(
        est_sharpe=np.array([m.sharpe]),
        var_sharpe=float(sharpes.var(ddof=1)),
        nb_trials=len(sharpes),
        backtest_horizon=np.array([m.n]),
        skew=np.array([m.skew]),
        kurtosis=np.array([m.kurtosis]),
    )
    return float(np.asarray(value).reshape(-1)[0])


@dataclass(frozen=True)
class PboResult:
    """CSCV outcome: ``pbo`` (share of splits with logit <= 0), the logit of every split,
    and the in-sample best configuration's performance in and out of sample per split
    (the degradation: how much of the in-sample edge survives)."""

    pbo: float
    logits: np.ndarray
    is_perf: np.ndarray
    oos_perf: np.ndarray

    @property
    def degradation(self) -> float:
        """Slope of out-of-sample on in-sample performance over the splits (OLS)."""
        if np.ptp(self.is_perf) == 0:
            return float("nan")
        return float(np.polyfit(self.is_perf, self.oos_perf, 1)[0])


def _sharpe_from_sums(n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Per-period Sharpe (mean / sample stdev) from counts, sums and sums of squares."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        var = (s2 - n * mean * mean) / (n - 1)
        sharpe = mean / np.sqrt(var)
    return np.where((var > 0) & np.isfinite(sharpe), sharpe, -np.inf)


def pbo_cscv(returns: np.ndarray, blocks: int = 16) -> PboResult:
    """Probability of backtest overfitting of ``returns`` (T periods x N configurations).

    Rows are cut into ``blocks`` (even) contiguous blocks; every choice of half of them
    is one in-sample set (its complement the out-of-sample set). For each, the in-sample
    best configuration by Sharpe gets its relative out-of-sample rank
    ``w = rank / (N + 1)`` and the logit ``ln(w / (1 - w))``.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError("returns must be a (periods x configurations) array with >= 2 columns")
    if blocks < 2 or blocks % 2:
        raise ValueError(f"blocks must be an even number >= 2, got {blocks}")
    if r.shape[0] < 2 * blocks:
        raise ValueError(f"need at least {2 * blocks} periods for {blocks} blocks")
    parts = np.array_split(np.arange(r.shape[0]), blocks)
    n = np.array([[len(p)] * r.shape[1] for p in parts], dtype=np.float64)
    s1 = np.array([r[p].sum(axis=0) for p in parts])
    s2 = np.array([(r[p] ** 2).sum(axis=0) for p in parts])
    return pbo_from_sums(n, s1, s2)


def pbo_from_sums(n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> PboResult:
    """`pbo_cscv` from each block's statistics (blocks x configurations): the number of
    returns, their sum and their sum of squares. A sweep keeps only these per trial, so
    PBO over thousands of trials needs no return matrix."""
    n, s1, s2 = (np.asarray(a, dtype=np.float64) for a in (n, s1, s2))
    blocks, k = s1.shape
    if k < 2:
        raise ValueError("PBO needs at least 2 configurations")
    if blocks < 2 or blocks % 2:
        raise ValueError(f"blocks must be an even number >= 2, got {blocks}")
    combos = np.array(list(combinations(range(blocks), blocks // 2)))
    mask = np.zeros((len(combos), blocks))
    np.put_along_axis(mask, combos, 1.0, axis=1)
    total = (n.sum(axis=0), s1.sum(axis=0), s2.sum(axis=0))
    logits, is_perf, oos_perf = [], [], []
    step = max(1, 4_000_000 // k)  # splits per pass: bounded memory for many trials
    for lo in range(0, len(mask), step):
        m = mask[lo : lo + step]
        inside = (m @ n, m @ s1, m @ s2)
        outside = tuple(t[None, :] - i for t, i in zip(total, inside, strict=True))
        sr_in = _sharpe_from_sums(*inside)
        sr_out = _sharpe_from_sums(*outside)
        best = np.argmax(sr_in, axis=1)
        rows = np.arange(len(m))
        chosen = sr_out[rows, best][:, None]
        # average rank of the chosen among all, 1 = worst (scipy's rankdata, ties averaged)
        rank = (sr_out < chosen).sum(axis=1) + ((sr_out == chosen).sum(axis=1) + 1) / 2.0
        w = rank / (k + 1.0)
        logits.extend(np.log(w / (1.0 - w)).tolist())
        is_perf.extend(sr_in[rows, best].tolist())
        oos_perf.extend(sr_out[rows, best].tolist())
    lam = np.array(logits)
    return PboResult(
        pbo=float((lam <= 0).mean()),
        logits=lam,
        is_perf=np.array(is_perf),
        oos_perf=np.array(oos_perf),
    )
