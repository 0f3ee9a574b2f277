"""Data snooping: does the best of K optimised trials genuinely beat a benchmark?

Thesis: an optimiser that tries K parameter sets and keeps the best will find a winner even
when none has an edge. These tests ask whether the best trial's out-performance survives the
search that found it. Null hypothesis: *no* trial beats the benchmark,
``max_k E[r_k - r_bench] <= 0``; a small p-value rejects it (the best is genuinely better).

- Hansen's (2005) Superior Predictive Ability (SPA) test: the statistic is the largest
  *studentised* mean out-performance ``max_k dbar_k / omega_k``, with the lower, consistent
  and upper p-values of its three re-centrings of the null (the consistent one is Hansen's SPA).
- White's (2000) Reality Check (RC): the largest *raw* mean out-performance ``max_k dbar_k``,
  every trial re-centred at its own mean (the least favourable null): the SPA's upper p-value
  without studentisation.

Both use the stationary bootstrap (Politis & Romano, 1994) of ``arch.bootstrap.SPA``. What
arch 8.0 does (read in ``arch/bootstrap/multiple_comparison.py``):

- ``SPA`` takes *losses*. A return's loss is its negation, so the differential is
  ``d_k = r_k - r_bench``, > 0 when the trial does better; arch gets ``d`` directly
  (benchmark loss 0, model losses ``-d``), the same differential.
- ``RealityCheck`` is ``class RealityCheck(SPA): pass``, an alias; the RC p-value here is
  ``SPA``'s ``"upper"`` p-value on the raw ``d``.
- arch 8.0's ``studentize=True`` does not studentise the statistic (``compute()`` takes the
  max of the raw means either way; the variance only sets the consistent threshold). So each
  column of ``d`` is divided here by its long-run sd ``omega_k`` (Hansen's stationary-bootstrap
  kernel, as in arch) and arch is called with ``studentize=False`` (no double scaling should a
  later arch honour the flag). On unit-variance columns arch's consistent threshold is
  Hansen's ``-sqrt(2 log log T / T)``. A column with ``omega_k = 0`` (constant ``d_k``, e.g. a
  trial that never trades against a zero benchmark) is left unscaled.
- Seeding: an int seed becomes ``numpy.random.default_rng(seed)`` in arch's bootstrap; both
  runs get the same seed, so the SPA and the RC resample the same bars.
- arch omits Hansen's floor ``max(stat, 0)``; that matters only when every trial trails the
  benchmark, where both p-values are large.

Units: per-bar simple returns. ``block_size``: the bootstrap's *mean* block length in bars
(restart probability ``1 / block_size``); default ``round(T ** (1/3))``, the MSE-optimal rate
(Politis & White, 2004; ``arch.bootstrap.optimal_block_length`` estimates it from data), not
arch's ``sqrt(T)`` (31 against 10 bars at T = 1000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from arch.bootstrap import SPA

FloatArray = npt.NDArray[np.float64]
MIN_ROWS = 30  # bars left after dropping NaN rows; fewer gives no useful bootstrap


@dataclass(frozen=True)
class SnoopingResult:
    """P-values (in [0, 1]) of H0 "no trial beats the benchmark" and the test's settings."""

    spa_pvalue: float  # Hansen's consistent SPA p-value
    spa_lower: float
    spa_upper: float
    reality_check_pvalue: float  # White (2000)
    n_models: int
    reps: int
    block_size: int  # mean block length of the stationary bootstrap, in bars


def _long_run_variance(d: FloatArray, block_size: int) -> FloatArray:
    """Per column, Hansen's (2005) stationary-bootstrap variance of ``sqrt(T) * mean``:
    ``gamma_0 + 2 sum_i kappa_i gamma_i``, ``kappa_i = (1 - i/T)(1 - q)^i + (i/T)(1 - q)^(T - i)``,
    ``q = 1 / block_size``; arch's formula, with FFT autocovariances instead of a lag loop."""
    t = d.shape[0]
    x = d - d.mean(axis=0)
    f = np.fft.rfft(x, n=2 * t, axis=0)  # zero-padded: linear, not circular, autocovariances
    gamma = np.fft.irfft(np.abs(f) ** 2, n=2 * t, axis=0)[:t] / t
    lag = np.arange(1, t)
    q = 1.0 / block_size
    kappa = (1.0 - lag / t) * (1.0 - q) ** lag + (lag / t) * (1.0 - q) ** (t - lag)
    return np.asarray(gamma[0] + 2.0 * (kappa[:, None] * gamma[1:]).sum(axis=0))


def _arch_pvalues(d: FloatArray, block_size: int, reps: int, seed: int) -> pd.Series:
    """arch's lower / consistent / upper p-values of ``max_k mean(d_k) <= 0``."""
    test = SPA(
        np.zeros(d.shape[0]),  # benchmark loss 0 and model losses -d: arch's differential is d
        -d,
        block_size=block_size,
        reps=reps,
        bootstrap="stationary",
        studentize=False,  # arch 8.0 ignores the flag; d is studentised by the caller
        seed=seed,
    )
    test.compute()
    return test.pvalues


def spa_test(
    benchmark_returns: np.ndarray,
    model_returns: np.ndarray,
    *,
    reps: int = 1000,
    block_size: int | None = None,
    seed: int = 0,
) -> SnoopingResult:
    """Hansen's SPA and White's Reality Check of the best of K trials against a benchmark.

    ``benchmark_returns`` has shape (T,) and ``model_returns`` has shape (T, K): the per-bar
    simple returns of the benchmark and of each trial on the same bars. Rows with a NaN
    anywhere are dropped first. ``reps`` is the number of bootstrap replications.
    ``block_size`` defaults to ``round(T ** (1/3))`` of the rows kept. The result is
    deterministic for a ``seed``.
    """
    bench = np.asarray(benchmark_returns, dtype=np.float64)
    models = np.asarray(model_returns, dtype=np.float64)
    if bench.ndim != 1:
        raise ValueError(
            f"benchmark_returns has shape {bench.shape}, not (T,) (spa_test); "
            "fix: pass one benchmark return per bar"
        )
    if models.ndim != 2 or models.shape[0] != bench.shape[0] or models.shape[1] == 0:
        raise ValueError(
            f"model_returns has shape {models.shape}, not (T, K) = ({bench.shape[0]}, K >= 1) "
            "(spa_test); fix: one row per benchmark bar, one column per trial "
            "(a single trial: .reshape(-1, 1))"
        )
    if reps < 1:
        raise ValueError(f"reps = {reps} (spa_test); fix: pass reps >= 1, e.g. 1000")
    keep = ~(np.isnan(bench) | np.isnan(models).any(axis=1))
    bench, models = bench[keep], models[keep]
    t = bench.shape[0]
    if t < MIN_ROWS:
        raise ValueError(
            f"{t} bars without NaN, fewer than {MIN_ROWS} (spa_test); "
            "fix: pass a longer sample or trials that share more bars with the benchmark"
        )
    if not (np.isfinite(bench).all() and np.isfinite(models).all()):
        raise ValueError("an infinite return (spa_test); fix: correct or drop that bar")
    block = max(1, round(t ** (1.0 / 3.0))) if block_size is None else block_size
    if not 1 <= block <= t:
        raise ValueError(
            f"block_size = {block} with {t} bars (spa_test); fix: pass 1 <= block_size <= {t}"
        )
    d = models - bench[:, None]  # out-performance per bar: > 0 when the trial does better
    omega = np.sqrt(np.maximum(_long_run_variance(d, block), 0.0))
    spa = _arch_pvalues(d / np.where(omega > 0.0, omega, 1.0), block, reps, seed)
    rc = _arch_pvalues(d, block, reps, seed)
    return SnoopingResult(
        spa_pvalue=float(spa["consistent"]),
        spa_lower=float(spa["lower"]),
        spa_upper=float(spa["upper"]),
        reality_check_pvalue=float(rc["upper"]),
        n_models=models.shape[1],
        reps=reps,
        block_size=block,
    )
