"""Event-study statistics against independent calculations (hand numbers, a plain
pairwise Newey-West, scipy), and the point-in-time rule of forward returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from flowbt.research.event_study import (
    event_bars,
    forward_returns,
    mean_difference,
    newey_west_meat,
    ols_hac,
    slope_per_sd,
)


def pairwise_hac_cov(y, x, positions, lags):
    """Reference: the Newey-West sandwich summed over every pair of observations whose
    bar positions are at most ``lags`` apart, weight 1 - |d| / (lags + 1)."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    u = y - x @ beta
    k = x.shape[1]
    meat = np.zeros((k, k))
    for i in range(len(y)):
        for j in range(len(y)):
            d = abs(int(positions[i]) - int(positions[j]))
            if d <= lags:
                meat += (1 - d / (lags + 1)) * u[i] * u[j] * np.outer(x[i], x[j])
    bread = np.linalg.inv(x.T @ x)
    return beta, bread @ meat @ bread


def test_hac_mean_matches_a_hand_computation():
    # y = 1, 2, 3, 4, 6: mean 3.2, residuals -2.2 -1.2 -0.2 0.8 2.8
    # sum u^2 = 14.8; sum u_t u_{t-1} = 2.64 + 0.24 - 0.16 + 2.24 = 4.96
    # meat (lag 1, weight 1/2) = 14.8 + 2 * 0.5 * 4.96 = 19.76; var(mean) = 19.76 / 5^2
    y = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    res = ols_hac(y, np.ones((5, 1)), lags=1)
    assert res.coef[0] == pytest.approx(3.2)
    assert res.se[0] == pytest.approx(np.sqrt(19.76 / 25), rel=1e-12)
    assert res.t[0] == pytest.approx(3.2 / np.sqrt(0.7904), rel=1e-12)
    # lag 2 adds 2 * (1/3) * sum u_t u_{t-2} = 2/3 * (0.44 - 0.96 - 0.56) = -0.72
    res2 = ols_hac(y, np.ones((5, 1)), lags=2)
    assert res2.se[0] ** 2 == pytest.approx((14.8 + 2 * (2 / 3) * 4.96 - 0.72) / 25, rel=1e-12)


def test_hac_matches_pairwise_reference_with_gaps():
    rng = np.random.default_rng(1)
    n = 60
    positions = np.sort(rng.choice(np.arange(200), size=n, replace=False))
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = x @ np.array([0.1, 0.5, -0.3]) + rng.standard_t(4, size=n)
    for lags in (0, 1, 4, 9):
        res = ols_hac(y, x, lags, positions)
        beta, cov = pairwise_hac_cov(y, x, positions, lags)
        np.testing.assert_allclose(res.coef, beta, rtol=1e-10)
        np.testing.assert_allclose(res.se, np.sqrt(np.diag(cov)), rtol=1e-10)


def test_newey_west_meat_rejects_bad_input():
    with pytest.raises(ValueError, match="unique"):
        newey_west_meat(np.ones((2, 1)), np.array([3, 3]), 1)
    with pytest.raises(ValueError, match="lags"):
        newey_west_meat(np.ones((2, 1)), np.array([0, 1]), -1)
    with pytest.raises(ValueError, match="collinear"):
        ols_hac(np.ones(4), np.ones((4, 2)), 0)
    with pytest.raises(ValueError, match="finite"):
        ols_hac(np.array([1.0, np.nan, 2.0]), np.ones((3, 1)), 0)


def test_mean_difference_without_lags_is_the_heteroskedastic_welch_t():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.3, 1.0, 400), rng.normal(0.0, 2.0, 700)
    order = rng.permutation(1100)  # interleave the groups in time
    flag = pd.Series(np.r_[np.ones(400), np.zeros(700)][order])
    y = pd.Series(np.r_[a, b][order])
    res = mean_difference(y, flag, lags=0)
    ya, yb = y[flag == 1].to_numpy(), y[flag == 0].to_numpy()
    assert res.effect == pytest.approx(ya.mean() - yb.mean(), rel=1e-12)
    assert (res.n_in, res.n_out) == (400, 700)
    # HC0 = Welch's standard error with ddof=0 variances (exact)
    se_hc0 = np.sqrt(ya.var() / len(ya) + yb.var() / len(yb))
    assert res.t == pytest.approx((ya.mean() - yb.mean()) / se_hc0, rel=1e-10)
    # and close to scipy's Welch t (ddof=1) at these sample sizes
    welch = stats.ttest_ind(ya, yb, equal_var=False).statistic
    assert res.t == pytest.approx(welch, rel=2e-3)


def test_mean_difference_keeps_bar_positions_of_left_out_rows():
    rng = np.random.default_rng(3)
    n = 80
    y = pd.Series(rng.normal(size=n)).rolling(5).sum()  # overlapping, MA(4) by design
    flag = pd.Series(rng.integers(0, 2, n).astype(float))
    flag[rng.choice(n, 20, replace=False)] = np.nan  # a "middle tercile" left out
    res = mean_difference(y, flag, lags=4)
    ok = y.notna() & flag.notna()
    pos = np.flatnonzero(ok)
    x = np.column_stack([np.ones(ok.sum()), flag[ok].to_numpy()])
    beta, cov = pairwise_hac_cov(y[ok].to_numpy(), x, pos, 4)
    assert res.effect == pytest.approx(beta[1], rel=1e-10)
    assert res.se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-10)
    # counting rows instead of positions would give a different answer
    beta_rows, cov_rows = pairwise_hac_cov(y[ok].to_numpy(), x, np.arange(ok.sum()), 4)
    assert res.se != pytest.approx(np.sqrt(cov_rows[1, 1]), rel=1e-6)


def test_slope_per_sd_against_scipy_and_a_hand_hc0():
    rng = np.random.default_rng(4)
    x = pd.Series(rng.normal(5.0, 3.0, 300))
    y = pd.Series(0.2 * x + rng.normal(size=300) * (1 + x.abs() / 5))
    res = slope_per_sd(y, x, lags=0)
    fit = stats.linregress(x, y)
    assert res.sd_x == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert res.effect == pytest.approx(fit.slope * x.std(ddof=1), rel=1e-10)
    z = (x - x.mean()) / x.std(ddof=1)
    u = y - fit.intercept - fit.slope * x
    se_hc0 = np.sqrt(((z - z.mean()) ** 2 * u**2).sum()) / ((z - z.mean()) ** 2).sum()
    assert res.t == pytest.approx(res.effect / se_hc0, rel=1e-10)
    assert res.n == 300 and res.lags == 0


def test_forward_returns_start_at_the_close_the_signal_is_known():
    close = pd.Series([100.0, 110.0, 99.0, 108.9, 120.0])
    fwd = forward_returns(close, 2)
    np.testing.assert_allclose(fwd.to_numpy()[:3], [-0.01, -0.01, 120.0 / 99.0 - 1])
    assert fwd.iloc[3:].isna().all()
    with pytest.raises(ValueError, match="horizon"):
        forward_returns(close, 0)


def test_a_same_day_signal_gets_no_credit_for_its_own_day():
    """Flag the sessions that closed up (known at that close). With forward returns the
    flag predicts nothing (returns are independent); a look-ahead (return into the close)
    would show a large effect. The function must give the forward answer exactly."""
    rng = np.random.default_rng(5)
    r = rng.normal(0, 0.01, 3000)
    close = pd.Series(100 * np.cumprod(1 + r))
    up = pd.Series((np.r_[np.nan, np.diff(close)] > 0).astype(float))
    up[0] = np.nan
    res = mean_difference(forward_returns(close, 1), up, lags=0)
    nxt = np.r_[r[1:], np.nan]  # return from close t to close t + 1
    ok = ~np.isnan(nxt) & up.notna().to_numpy()
    hand = nxt[ok & (up == 1)].mean() - nxt[ok & (up == 0)].mean()
    assert res.effect == pytest.approx(hand, rel=1e-9)
    assert abs(res.t) < 3
    lookahead = r[up == 1].mean() - r[up == 0].mean()  # return ending at the signal's close
    assert lookahead > 0.01 and abs(res.effect) < lookahead / 10


def test_event_bars_use_the_first_close_at_or_after_known_at():
    closes = pd.DatetimeIndex(
        ["2024-01-02 21:00", "2024-01-03 21:00", "2024-01-04 21:00"], tz="UTC"
    )
    known = pd.DatetimeIndex(
        [
            "2024-01-02 20:59",  # before the first close -> bar 0
            "2024-01-02 21:00",  # exactly at it -> bar 0 (known at that close)
            "2024-01-02 21:15",  # 15 minutes after (a VIX close) -> bar 1
            "2024-01-05 00:00",  # after the last close -> dropped
        ],
        tz="UTC",
    )
    assert event_bars(closes, known).tolist() == [0, 1]
    with pytest.raises(ValueError, match="timezone"):
        event_bars(closes, pd.DatetimeIndex(["2024-01-02"]))
