"""PSR, DSR and PBO against the papers' worked example, independent computations and
synthetic cases with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from flowbt.optimize.overfitting import (
    SharpeMoments,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
    sharpe_moments,
)


def test_deflated_sharpe_reproduces_the_papers_numerical_example():
    """Bailey & Lopez de Prado (2014), section 'a numerical example': 100 trials whose
    annualised Sharpe ratios have variance 1/2, a best annualised Sharpe of 2.5 over
    1,250 daily returns with skewness -3 and kurtosis 10: SR0 = 0.1132 (daily) and
    DSR = 0.9004 (to the paper's rounding)."""
    days = 250
    # a set of 100 trial Sharpes with exactly the paper's variance (per period)
    rng = np.random.default_rng(0)
    z = rng.standard_normal(100)
    z = (z - z.mean()) / z.std(ddof=1)
    trials = z * math.sqrt(0.5 / days)
    assert expected_max_sharpe(trials) == pytest.approx(0.1132, abs=5e-5)
    best = SharpeMoments(sharpe=2.5 / math.sqrt(days), n=1250, skew=-3.0, kurtosis=10.0)
    assert deflated_sharpe(best, trials) == pytest.approx(0.9004, abs=5e-4)


def test_psr_is_the_papers_formula_with_raw_kurtosis():
    rng = np.random.default_rng(1)
    r = 0.0005 + 0.01 * rng.standard_t(4, 2000)  # heavy tails: kurtosis well above 3
    m = sharpe_moments(r)
    g3 = float(np.mean((r - r.mean()) ** 3) / r.std() ** 3)
    g4 = float(np.mean((r - r.mean()) ** 4) / r.std() ** 4)  # raw kurtosis by hand
    assert m.skew == pytest.approx(g3) and m.kurtosis == pytest.approx(g4) and g4 > 4
    sr = r.mean() / r.std(ddof=1)
    want = stats.norm.cdf(
        sr * math.sqrt(len(r) - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    )
    assert probabilistic_sharpe(m) == pytest.approx(want, rel=1e-12)
    # with excess kurtosis (pandas .kurt(), scipy's default) the paper's DSR would move
    paper = SharpeMoments(sharpe=2.5 / math.sqrt(250), n=1250, skew=-3.0, kurtosis=10.0)
    excess = SharpeMoments(paper.sharpe, paper.n, paper.skew, paper.kurtosis - 3.0)
    trials = np.array([-1.0, 1.0]) * math.sqrt(0.5 / 250 / 2)  # variance 0.5 / 250
    assert probabilistic_sharpe(excess, 0.1132) - probabilistic_sharpe(paper, 0.1132) > 1e-3
    assert deflated_sharpe(paper, trials) != pytest.approx(deflated_sharpe(excess, trials))
    # normal returns: PSR against the estimate itself is one half
    assert probabilistic_sharpe(m, sr_star=m.sharpe) == pytest.approx(0.5)


def test_pbo_of_pure_noise_is_about_one_half():
    """No configuration has an edge: the in-sample winner is as likely to land in the
    bottom half out of sample as in the top (averaged over samples: one sample's splits
    share their data, so a single PBO varies widely)."""
    rng = np.random.default_rng(2)
    results = [pbo_cscv(rng.normal(0.0, 0.01, (800, 30)), blocks=8) for _ in range(8)]
    assert all(len(r.logits) == math.comb(8, 4) for r in results)
    assert 0.4 < np.mean([r.pbo for r in results]) < 0.6
    assert np.mean([r.degradation for r in results]) < 0.3  # no in-sample edge survives


def test_pbo_with_one_real_edge_among_noise_is_near_zero():
    rng = np.random.default_rng(3)
    r = rng.normal(0.0, 0.01, (1600, 40))
    r[:, 7] += 0.002  # Sharpe 0.2 per period: a real edge
    res = pbo_cscv(r, blocks=10)
    assert res.pbo < 0.05
    assert np.median(res.oos_perf) > 0.1  # the edge holds out of sample


@pytest.mark.parametrize(
    ("shape", "blocks", "match"),
    [((100, 1), 4, ">= 2 columns"), ((100, 5), 3, "even"), ((10, 5), 16, "at least 32")],
)
def test_pbo_refuses_what_it_cannot_split(shape, blocks, match):
    with pytest.raises(ValueError, match=match):
        pbo_cscv(np.zeros(shape), blocks=blocks)


def test_pbo_equals_a_direct_cscv_with_scipy_ranks():
    """The vectorised CSCV (from block sums, average ranks by comparison) against the
    paper's procedure done literally: each split's rows, Sharpe per column, scipy ranks."""
    from itertools import combinations

    rng = np.random.default_rng(7)
    r = rng.normal(0.0, 0.01, size=(400, 12))
    r[:, 3] += 0.0004  # a mild edge, so the answer is neither 0 nor 1
    r[:, 5] = r[:, 4]  # a tie, to exercise averaged ranks
    parts = np.array_split(np.arange(len(r)), 8)
    logits = []
    for chosen in combinations(range(8), 4):
        inside = np.concatenate([parts[b] for b in chosen])
        outside = np.concatenate([parts[b] for b in range(8) if b not in chosen])
        sr_in = r[inside].mean(0) / r[inside].std(0, ddof=1)
        sr_out = r[outside].mean(0) / r[outside].std(0, ddof=1)
        w = stats.rankdata(sr_out)[int(np.argmax(sr_in))] / (r.shape[1] + 1)
        logits.append(math.log(w / (1 - w)))
    res = pbo_cscv(r, blocks=8)
    assert np.allclose(res.logits, logits, atol=1e-9)
    assert res.pbo == pytest.approx(np.mean(np.array(logits) <= 0))


def test_the_pinned_vectorbt_and_quantstats_now_use_raw_kurtosis():
    """Both libraries once put excess kurtosis where the formula needs raw kurtosis. The
    pinned releases (vectorbt 1.2, quantstats 0.0.86) convert it; this guards that an
    upgrade does not bring the old behaviour back. Fat tails (Student t, 4 degrees of
    freedom), a short sample and a per-period Sharpe of ~0.15 make the two readings
    differ by far more than the tolerance."""
    import pandas as pd
    import quantstats as qs
    import vectorbt  # noqa: F401  (registers the .vbt accessor)

    rng = np.random.default_rng(11)
    noise = rng.standard_t(4, size=(150, 3)) * 0.01
    frame = pd.DataFrame(
        noise + np.array([0.0015, 0.001, 0.0005]),
        index=pd.bdate_range("2020-01-01", periods=150),
        columns=list("abc"),
    )
    moments = [sharpe_moments(frame[c].to_numpy()) for c in frame]
    m = moments[0]
    assert m.kurtosis > 4 and 0.1 < m.sharpe < 0.3
    excess = SharpeMoments(m.sharpe, m.n, m.skew, m.kurtosis - 3.0)
    gap = abs(probabilistic_sharpe(excess) - probabilistic_sharpe(m))
    assert gap > 1e-3
    got = qs.stats.probabilistic_ratio(frame["a"], periods=252)
    assert abs(got - probabilistic_sharpe(m)) < gap / 20
    dsr = frame.vbt.returns(freq="1D", year_freq="252D").deflated_sharpe_ratio().to_numpy()
    sharpes = np.array([x.sharpe for x in moments])
    assert dsr == pytest.approx([deflated_sharpe(x, sharpes) for x in moments], abs=1e-9)
