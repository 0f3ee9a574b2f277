"""quantstats reporting on the run's own calendar (flowbt/report/tearsheet.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import flowbt
from flowbt.report.tearsheet import benchmark_returns, period_returns


@pytest.fixture(scope="module")
def crypto_run(bundle):
    return flowbt.backtest("liquidity_rotation", bundle, start="2020-01-02", end="2021-12-31")


def test_quantstats_sharpe_uses_365_periods_for_a_crypto_run(crypto_run):
    table = crypto_run.metrics()
    ours = crypto_run.stats()["sharpe"]
    assert crypto_run.periods_per_year == 365
    assert float(table.loc["Sharpe", "Strategy"]) == pytest.approx(ours, abs=0.005)
    r = period_returns(crypto_run.result).to_numpy()
    at_252 = r.mean() / r.std(ddof=1) * np.sqrt(252)
    assert abs(at_252 - ours) > 0.05  # quantstats' default would have misstated it


def test_period_returns_start_from_initial_cash(crypto_run):
    r = period_returns(crypto_run.result)
    daily = crypto_run.period_equity()
    assert r.iloc[0] == pytest.approx(daily.iloc[0] / crypto_run.init_cash - 1.0)
    assert r.index.tz is None and not r.index.has_duplicates
    assert (1 + r).prod() == pytest.approx(daily.iloc[-1] / crypto_run.init_cash, rel=1e-12)


def test_benchmark_returns_hold_the_last_close_on_days_it_does_not_trade(bundle):
    spy = bundle.price("SPY")["adj_close"].loc["2024-03-01":"2024-03-12"]
    days = pd.date_range("2024-03-04", "2024-03-11")  # Mon..next Mon
    got = benchmark_returns(spy, pd.Series(0.0, index=days))
    assert got.loc["2024-03-09"] == 0.0 and got.loc["2024-03-10"] == 0.0  # weekend
    want = spy.loc["2024-03-11"] / spy.loc["2024-03-08"] - 1.0
    assert got.loc["2024-03-11"] == pytest.approx(want, rel=1e-12)
    first = spy.loc["2024-03-04"] / spy.loc["2024-03-01"] - 1.0  # from the Friday before
    assert got.loc["2024-03-04"] == pytest.approx(first, rel=1e-12)


def test_tearsheet_html_is_written(crypto_run, bundle, tmp_path):
    path = crypto_run.tearsheet(
        tmp_path / "t.html", benchmark=bundle.price("SPY")["adj_close"].rename("SPY")
    )
    text = path.read_text(errors="ignore")
    assert text.lstrip().lower().startswith("<!doctype html") or "<html" in text[:500].lower()
    assert "liquidity_rotation" in text and "SPY" in text


@pytest.mark.parametrize(
    ("name", "match"), [("t.png", "must end in .html"), ("missing/t.html", "does not exist")]
)
def test_tearsheet_bad_paths(crypto_run, tmp_path, name, match):
    with pytest.raises(ValueError, match=match):
        crypto_run.tearsheet(tmp_path / name)
