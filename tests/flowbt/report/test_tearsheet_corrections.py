"""flowbt's corrections of quantstats in the tearsheet: shared metrics agree with
metrics.json, the CAGR label renders, an open drawdown says so, months outside the
run are blank, and time in market counts held positions on the asset's own sessions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.api import run
from engine.market import bars_from_market
from flowbt.report import tearsheet as ts
from flowbt.report.tearsheet import NOT_RECOVERED, benchmark_close, metrics, write_tearsheet


@pytest.fixture(scope="module")
def spy_hold(bundle):
    """Buy and hold SPY 2019 to 2022-10-14 (a real run, weight 1 every bar), ending deep in
    the 2022 bear market: its worst drawdown is still open."""
    bars, _ = bars_from_market(bundle, ["SPY"], start="2019-01-02", end="2022-10-14")
    return run(None, bars, weights=np.ones((bars.n_bars, 1)))


def test_time_in_market_of_buy_and_hold_counts_every_session_but_the_first(spy_hold):
    # decided at the first close, bought at the second open: out for one period only
    n = len(spy_hold.period_equity())
    assert spy_hold.stats()["time_in_market"] == pytest.approx((n - 1) / n)


def test_a_24_7_run_holding_spy_over_weekends_is_in_the_market_then(bundle):
    from engine.config import BacktestConfig

    bars, _ = bars_from_market(bundle, ["SPY", "BTC-USD"], start="2021-01-04", end="2021-06-30")
    w = np.zeros((bars.n_bars, 2))
    w[:, 0] = 1.0  # only SPY, on a grid whose periods include weekends (BTC trades)
    res = run(None, bars, BacktestConfig(), weights=w)
    periods = res.period_equity()
    assert (periods.index.dayofweek >= 5).any()
    held = (res.positions["SPY"] > 0).groupby(res.positions.index.normalize()).last()
    assert res.stats()["time_in_market"] == pytest.approx(held.mean())
    assert res.stats()["time_in_market"] > 0.95  # quantstats' non-zero-return count: ~0.7


def test_the_tearsheet_table_shows_metrics_json_figures(spy_hold, bundle):
    table = metrics(spy_hold, benchmark_close(bundle, "SPY"))
    stats = spy_hold.stats()
    col = table.columns[-1]
    assert table.at["Time in Market", col] == round(stats["time_in_market"], 2)
    assert table.at["Sharpe", col] == round(stats["sharpe"], 2)
    assert table.at["CAGR", col] == round(stats["cagr"], 2)
    assert table.at["Max Drawdown", col] == round(stats["max_drawdown"], 2)
    assert table.at["Time in Market", table.columns[0]] == 1.0  # the benchmark: held
    assert "CAGR\ufe6a" not in table.index


def test_the_html_tearsheet_agrees_and_marks_an_open_drawdown(spy_hold, tmp_path: Path):
    path = write_tearsheet(spy_hold, tmp_path / "t.html")
    text = path.read_text()
    stats = spy_hold.stats()
    row = re.search(r"<td>Sharpe</td><td>([^<]*)</td>", text)
    assert row is not None and row.group(1) == f"{stats['sharpe']:.2f}"
    row = re.search(r"<td>Time in Market</td><td>([^<]*)</td>", text)
    assert row is not None and row.group(1) == f"{stats['time_in_market'] * 100:.2f}%"
    assert "\ufe6a" not in text
    eq = spy_hold.period_equity()
    assert eq.iloc[-1] / eq.cummax().iloc[-1] - 1 < -0.2  # independent: 20%+ below the peak
    # the 2022 drawdown (peak 2022-01-03) is the open one; 2020's recovered in August
    assert re.search(r"<tr><td>2022-01-\d\d</td><td>not recovered</td>", text)
    assert re.search(r"<tr><td>2020-02-\d\d</td><td>2020-0\d-\d\d</td>", text)
    assert text.count(NOT_RECOVERED) == 1


def test_unrecovered_marks_only_a_drawdown_open_at_the_end():
    idx = pd.bdate_range("2022-01-03", periods=6)
    table = pd.DataFrame(
        {
            "Started": ["2022-01-04", "2022-01-06"],
            "Recovered": ["2022-01-05", "2022-01-10"],
            "Drawdown": [-1.0, -2.0],
            "Days": [1, 4],
        }  # fmt: skip
    )
    down = pd.Series([0.01, -0.01, 0.02, -0.03, 0.01, 0.0], index=idx)
    marked = ts._unrecovered(table, down)
    assert list(marked["Recovered"]) == ["2022-01-05", NOT_RECOVERED]
    up = pd.Series([0.01, -0.01, 0.02, -0.03, 0.05, 0.0], index=idx)  # new high at the end
    assert list(ts._unrecovered(table, up)["Recovered"]) == ["2022-01-05", "2022-01-10"]


def test_months_outside_the_run_are_blank_not_zero():
    import quantstats as qs

    idx = pd.bdate_range("2021-03-15", "2022-10-14")
    r = pd.Series(0.001, index=idx)
    job = ts.TearsheetJob(r, None, 252, "t", None, None)
    with ts._corrected(job):
        table = qs.stats.monthly_returns(r)
    assert np.isnan(table.loc["2021", ["JAN", "FEB"]].to_numpy(dtype=float)).all()
    assert np.isnan(table.loc["2022", ["NOV", "DEC"]].to_numpy(dtype=float)).all()
    assert table.loc["2021", "MAR"] > 0 and table.loc["2022", "OCT"] > 0
    # quantstats itself is restored afterwards (0, not blank)
    assert qs.stats.monthly_returns(r).loc["2021", "JAN"] == 0


def test_book_metrics_json_and_quantstats_csv_agree(tmp_path: Path, bundled):
    from bt_helpers import run_cli

    out = tmp_path / "run"
    import flowbt.cli.main as cli

    assert cli.main(["backtest", "vix_hedge", "--start", "2020-01-02", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    table = pd.read_csv(out / "quantstats.csv", index_col=0)
    col = table.columns[-1]
    for key, label in (("sharpe", "Sharpe"), ("cagr", "CAGR"), ("max_drawdown", "Max Drawdown"),
                       ("time_in_market", "Time in Market"), ("total_return", "Cumulative Return")):  # fmt: skip
        assert float(table.at[label, col]) == pytest.approx(round(m[key], 2)), label
    del run_cli


def test_eoy_bars_sit_on_their_year_labels(spy_hold, bundle):
    """pandas 3 draws bars of a DatetimeIndex at period ordinals (2019 -> x=49) while
    quantstats labels 0..n-1; under flowbt's correction each bar sits on its year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import quantstats as qs

    job = ts.tearsheet_job(spy_hold, benchmark_close(bundle, "SPY"))
    with ts._quiet(), ts._corrected(job):
        fig = qs.plots.yearly_returns(job.returns, benchmark=job.benchmark, show=False)
    ax = fig.axes[0]
    labels = {round(t.get_position()[0]): t.get_text() for t in ax.get_xticklabels()}
    years = sorted({d.year for d in job.returns.index})
    assert [labels[k] for k in sorted(labels) if labels[k]] == [str(y) for y in years]
    centres = sorted({round(p.get_x() + p.get_width() / 2) for p in ax.patches})
    assert centres == list(range(len(years)))  # one group of bars per labelled year
    lo, hi = ax.get_xlim()
    assert lo > -1 and hi < len(years)
    plt.close(fig)


def test_daily_cumulative_returns_never_drop_to_zero_on_days_without_a_return(spy_hold):
    """Session-calendar returns have no weekend rows; quantstats resampled the cumulative
    sum to calendar days with "sum", so each weekend read 0 (a solid block)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import quantstats as qs

    job = ts.tearsheet_job(spy_hold)
    with ts._quiet(), ts._corrected(job):
        fig = qs.plots.daily_returns(job.returns, benchmark=None, show=False)
    (line,) = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 10]
    y = np.asarray(line.get_ydata(), dtype=float)
    want = job.returns.cumsum().to_numpy()  # independent: the plain cumulative sum
    assert len(y) == len(want)
    np.testing.assert_allclose(y, want, rtol=1e-12)
    plt.close(fig)


def test_the_log_scaled_chart_has_ticks_at_wealth_multiples(bundle):
    """quantstats' symlog axis showed only 0% and 100%; the corrected one ticks each
    wealth multiple inside the range (cumulative return = multiple - 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import quantstats as qs

    bars, _ = bars_from_market(bundle, ["BTC-USD"], start="2015-01-01", end="2021-12-31")
    res = run(None, bars, weights=np.ones((bars.n_bars, 1)))
    job = ts.tearsheet_job(res)
    with ts._quiet(), ts._corrected(job):
        fig = qs.plots.log_returns(job.returns, show=False)
    ticks = list(fig.axes[0].get_yticks())
    wealth = (1 + job.returns).cumprod()  # independent: BTC 2015-2021 went up > 100x
    top = wealth.max()
    assert top > 100
    want = [m - 1 for m in ts.WEALTH_MULTIPLES if m <= top * 1.05 and m >= wealth.min() * 0.95]
    assert [t for t in ticks if t >= 0] == pytest.approx([w for w in want if w >= 0])


@pytest.mark.parametrize("symbol", ["SPY", "BTC-USD", "005930.KS"])
def test_fast_drawdown_details_is_quantstats_own_table(bundle, symbol):
    """The numpy drawdown table the tearsheet uses (for speed) equals quantstats'."""
    import quantstats as qs

    r = bundle.price(symbol)["close"].pct_change().dropna()
    r.index = pd.DatetimeIndex(r.index).tz_localize(None)
    dd = qs.stats.to_drawdown_series(r)
    want = qs.stats.drawdown_details(dd).reset_index(drop=True)
    got = ts.fast_drawdown_details(dd)
    assert len(got) > 20
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_the_written_tearsheet_loads_nothing_remote_and_calls_no_missing_script(
    spy_hold, tmp_path: Path
):
    text = write_tearsheet(spy_hold, tmp_path / "t.html").read_text()
    tags = re.findall(r"<(?:link|script|img)\b[^>]*>", text)
    assert tags and not [t for t in tags if re.search(r"(?:href|src)=\"(?:https?:)?//", t)]
    assert 'onload="save()"' not in text and 'href="data:,"' in text


def test_the_speed_patches_leave_quantstats_figures_unchanged(bundle):
    """The tearsheet's faster group compounding, benchmark alignment and per-column
    drawdown tables give quantstats' own full metrics table, row for row (time in
    market aside, which flowbt deliberately replaces)."""
    import dataclasses

    import quantstats as qs

    bars, _ = bars_from_market(bundle, ["SPY", "BTC-USD"], start="2018-01-02", end="2023-06-30")
    run_ = run(None, bars, weights=np.full((bars.n_bars, 2), 0.5))
    job = ts.tearsheet_job(run_, benchmark_close(bundle, "SPY"))
    job = dataclasses.replace(job, overrides={})
    kwargs = dict(benchmark=job.benchmark, mode="full", display=False,
                  periods_per_year=job.periods_per_year)  # fmt: skip
    with ts._quiet():
        want = qs.reports.metrics(job.returns, **kwargs)
        with ts._corrected(job):
            got = qs.reports.metrics(job.returns, **kwargs)
    want = want.rename(index={ts.SHARED_METRICS["cagr"]: ts.CAGR_LABEL})
    keep = [row for row in want.index if row != ts.SHARED_METRICS["time_in_market"]]
    assert len(keep) > 40
    pd.testing.assert_frame_equal(got.loc[keep], want.loc[keep], check_exact=False, rtol=1e-9)
    assert (got.loc[ts.SHARED_METRICS["time_in_market"]].iloc[0]) == 1.0  # SPY held, 100%


def test_drawdown_tables_of_several_columns_are_quantstats_own(bundle):
    import quantstats as qs

    closes = pd.DataFrame({s: bundle.price(s)["close"] for s in ("SPY", "MU")}).dropna()
    closes.index = pd.DatetimeIndex(closes.index).tz_localize(None)
    dd = qs.stats.to_drawdown_series(closes.pct_change().dropna())
    want = qs.stats.drawdown_details(dd)
    job = ts.TearsheetJob(dd["SPY"], None, 252, "t", None, None)
    with ts._corrected(job):
        got = qs.stats.drawdown_details(dd)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_dtype=False)  # fmt: skip


def test_a_tearsheet_restores_the_callers_matplotlib_backend(spy_hold, tmp_path: Path):
    import matplotlib
    import matplotlib.pyplot as plt

    before, figures = matplotlib.get_backend(), plt.get_fignums()
    text = write_tearsheet(spy_hold, tmp_path / "t.html").read_text()
    assert matplotlib.get_backend() == before and plt.get_fignums() == figures
    assert matplotlib.rcParams["svg.fonttype"] != "none" or before == "svg"
    assert "<text" in text  # charts' labels are SVG text, drawn by the browser
