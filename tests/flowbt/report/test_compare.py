"""``compare.html``: every figure recomputed here from the runs' own equity.csv."""

from __future__ import annotations

import json
import math
import re
import shutil
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import data
import flowbt
from flowbt.experiment import Experiment
from flowbt.report.compare import (
    PAGE,
    bootstrap_ci,
    compare,
    load_runs,
    rolling_sharpe,
    worst_drawdowns,
)
from flowbt.runs import run_experiment

RUNS = {  # small real runs on the bundled data: one per calendar, one across calendars
    "bb": Experiment(strategy="buyback_blackout", start="2018-01-02"),  # SPY sessions, 252/yr
    "cta": Experiment(strategy="cta_trend", universe="crypto", start="2019-03-15"),  # 24/7, 365
    "liq": Experiment(strategy="liquidity_rotation", start="2019-01-02"),  # NYSE + crypto closes
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, bundle) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    for name, exp in RUNS.items():
        run_experiment(exp, root / name, md=bundle, tearsheet=False, plot=False)
    return {name: root / name for name in RUNS}


@pytest.fixture(scope="module")
def offline(bundle):
    """compare() reads the benchmark from the session's bundle instead of loading it again."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data, "load", lambda *a, **k: bundle)
        yield


@pytest.fixture(scope="module")
def page(runs, offline, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    path = compare([runs["bb"], runs["cta"], runs["liq"]], out)
    assert path == out / PAGE
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------ independent computations


def daily(folder: Path) -> pd.Series:
    """The last equity of each UTC day, from equity.csv."""
    frame = pd.read_csv(folder / "equity.csv")
    stamps = pd.to_datetime(frame["date"], utc=True, format="ISO8601").dt.tz_localize(None)
    s = pd.Series(frame["equity"].to_numpy(float), index=pd.DatetimeIndex(stamps))
    return s.groupby(s.index.normalize()).last()


def ppy_of(folder: Path) -> int:
    return int(json.loads((folder / "metrics.json").read_text())["periods_per_year"])


def common_days(folders) -> pd.DatetimeIndex:
    days = None
    for f in folders:
        d = set(daily(f).index)
        days = d if days is None else days & d
    return pd.DatetimeIndex(sorted(days))


def stats(equity: pd.Series, ppy: int) -> dict[str, float]:
    r = equity.pct_change().dropna().to_numpy()
    n = len(r)
    cagr = (equity.iloc[-1] / equity.iloc[0]) ** (ppy / n) - 1
    mdd = float((equity / equity.cummax() - 1).min())
    return {
        "periods": n,
        "total return": equity.iloc[-1] / equity.iloc[0] - 1,
        "CAGR": cagr,
        "volatility": r.std(ddof=1) * math.sqrt(ppy),
        "Sharpe": r.mean() / r.std(ddof=1) * math.sqrt(ppy),
        "Sortino": r.mean() / math.sqrt(np.mean(np.minimum(r, 0) ** 2)) * math.sqrt(ppy),
        "max drawdown": mdd,
        "Calmar": cagr / -mdd,
    }


def table(page: str, table_id: str) -> pd.DataFrame:
    return pd.read_html(StringIO(page), attrs={"id": table_id}, keep_default_na=False)[0]


def num(cell: object) -> float:
    text = str(cell).strip()
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def labels(folders) -> list[str]:
    return [r.label for r in load_runs(folders)]


# ------------------------------------------------------------ the page


def test_metrics_table_matches_the_equity_files(page, runs, bundle):
    folders = [runs["bb"], runs["cta"], runs["liq"]]
    days = common_days(folders)
    got = table(page, "metrics").set_index("metric")
    for label, folder in zip(labels(folders), folders, strict=True):
        eq = daily(folder)
        want = stats(eq[(eq.index >= days[0]) & (eq.index <= days[-1])], ppy_of(folder))
        assert int(got.loc["periods", label]) == want["periods"]
        assert int(got.loc["periods per year", label]) == ppy_of(folder)
        for key, value in want.items():
            tol = 5e-5 if key in ("total return", "CAGR", "volatility", "max drawdown") else 5e-3
            assert num(got.loc[key, label]) == pytest.approx(value, abs=tol + 1e-9), (label, key)
    # the benchmark, once, from its closes (dividends included) on its own sessions
    assert [c for c in got.columns if c.startswith("benchmark")] == ["benchmark SPY"]
    close = bundle.price("SPY")["adj_close"]
    close.index = close.index.tz_localize(None).normalize()
    spy = close[(close.index >= days[0]) & (close.index <= days[-1])]
    for key, value in stats(spy, 252).items():
        tol = 5e-5 if key in ("total return", "CAGR", "volatility", "max drawdown") else 5e-3
        assert num(got.loc[key, "benchmark SPY"]) == pytest.approx(value, abs=tol + 1e-9), key


def test_correlation_is_pandas_corr_on_common_utc_days(page, runs):
    folders = [runs["bb"], runs["cta"], runs["liq"]]
    days = common_days(folders)
    names = labels(folders)
    frame = pd.DataFrame({n: daily(f).reindex(days) for n, f in zip(names, folders, strict=True)})
    want = frame.pct_change().dropna().corr()
    got = table(page, "correlation").set_index("Unnamed: 0")
    for a in names:
        for b in names:
            assert float(got.loc[a, b]) == pytest.approx(want.loc[a, b], abs=5e-3 + 1e-9)
    assert abs(want.loc[names[0], names[1]]) < 0.9  # not trivially 1: a real check


def test_calendar_note_and_units_are_on_the_page(page):
    assert "Runs on different calendars (24/7, 365/yr; sessions, 252/yr)" in page
    assert "compared on UTC days" in page and "own periods per year" in page
    assert f"seed {12345}" in page and "1000 resamples" in page


def test_bootstrap_interval_holds_the_estimate_and_is_seeded(runs):
    eq = daily(runs["bb"])
    r = eq.pct_change().dropna().to_numpy()
    ci = bootstrap_ci(r, 252)
    sharpe = r.mean() / r.std(ddof=1) * math.sqrt(252)
    cagr = (eq.iloc[-1] / eq.iloc[0]) ** (252 / len(r)) - 1
    assert ci["sharpe"][0] < sharpe < ci["sharpe"][1]
    assert ci["cagr"][0] < cagr < ci["cagr"][1]
    assert bootstrap_ci(r, 252) == ci  # same seed, same interval
    assert bootstrap_ci(r, 252, seed=7) != ci
    wide = bootstrap_ci(r[: len(r) // 4], 252)  # a quarter of the data: a wider interval
    assert wide["sharpe"][1] - wide["sharpe"][0] > ci["sharpe"][1] - ci["sharpe"][0]


def test_page_is_deterministic(page, runs, offline, tmp_path):
    again = compare([runs["bb"], runs["cta"], runs["liq"]], tmp_path / "again")
    assert table(again.read_text(), "metrics").equals(table(page, "metrics"))


def test_rolling_sharpe_windows_are_each_runs_own_periods(page, runs):
    for folder, half, full in ((runs["bb"], 126, 252), (runs["cta"], 182, 365)):
        eq = daily(folder)
        roll = rolling_sharpe(eq, 100_000.0, ppy_of(folder))
        for name, window in (("6 months", half), ("12 months", full)):
            s = roll[name]
            assert s.iloc[: window - 1].isna().all() and not np.isnan(s.iloc[window - 1])
            r = (eq / eq.shift(1).fillna(100_000.0) - 1).to_numpy()[-window:]
            want = r.mean() / r.std(ddof=1) * math.sqrt(ppy_of(folder))
            assert s.iloc[-1] == pytest.approx(want, rel=1e-9)
    assert "126 periods at 252/yr, 182 periods at 365/yr" in page
    assert "252 periods at 252/yr, 365 periods at 365/yr" in page


def test_monthly_heatmap_blank_outside_the_run(page, runs):
    months = table(page, "monthly-1").set_index("year")  # cta: 2019-03-15 .. 2026-06-05
    assert months.loc[2019, "Jan"] == "" and months.loc[2019, "Feb"] == ""
    assert months.loc[2026, "Jul"] == "" and months.loc[2026, "Dec"] == ""
    assert "0.00%" not in set(months.loc[2019, ["Jan", "Feb"]])
    eq = daily(runs["cta"])
    month_end = eq.groupby(eq.index.to_period("M")).last()
    first = month_end.iloc[0] / 100_000.0 - 1  # March 2019, against the initial cash
    later = month_end[pd.Period("2020-05")] / month_end[pd.Period("2020-04")] - 1
    assert num(months.loc[2019, "Mar"]) == pytest.approx(first, abs=5e-5 + 1e-9)
    assert num(months.loc[2020, "May"]) == pytest.approx(later, abs=5e-5 + 1e-9)
    year = eq[eq.index.year == 2021].iloc[-1] / eq[eq.index.year == 2020].iloc[-1] - 1
    assert num(months.loc[2021, "whole year"]) == pytest.approx(year, abs=5e-5 + 1e-9)


def test_worst_drawdown_depth_and_an_unrecovered_one(page, runs, offline, tmp_path):
    eq = daily(runs["liq"])
    with_cash = pd.concat([pd.Series([100_000.0]), pd.Series(eq.to_numpy())])
    depth = float((with_cash / with_cash.cummax() - 1).min())
    worst = table(page, "drawdowns-2")
    assert len(worst) == 5
    assert num(worst.loc[0, "depth"]) == pytest.approx(depth, abs=5e-5 + 1e-9)
    assert list(worst["depth"].map(num)) == sorted(worst["depth"].map(num))
    # cut the run at its deepest point: that drawdown never recovers
    cut = tmp_path / "cut"
    shutil.copytree(runs["liq"], cut)
    frame = pd.read_csv(cut / "equity.csv")
    trough = int(np.argmin(frame["equity"] / frame["equity"].cummax()))
    frame.iloc[: trough + 1].to_csv(cut / "equity.csv", index=False)
    got = table(compare([cut, runs["cta"]], tmp_path / "out").read_text(), "drawdowns-0")
    assert got.loc[0, "end"] == "not recovered"
    peak = pd.Timestamp(got.loc[0, "start (peak)"])
    last = daily(cut).index[-1]
    assert int(got.loc[0, "days"]) == (last - peak).days


def test_worst_drawdowns_on_a_known_curve():
    days = pd.date_range("2024-01-01", periods=6)
    eq = pd.Series([100.0, 110.0, 99.0, 120.0, 90.0, 96.0], index=days)
    first, second = worst_drawdowns(eq, 100.0)
    assert first.depth == pytest.approx(90 / 120 - 1) and first.end is None
    assert (first.start, first.trough, first.days) == (days[3], days[4], 2)
    assert second.depth == pytest.approx(99 / 110 - 1)
    assert (second.start, second.trough, second.end, second.days) == (days[1], days[2], days[3], 2)


def test_page_loads_nothing_from_the_network(page):
    text = re.sub(r'data:image/png;base64,[A-Za-z0-9+/=]+"', 'data:"', page)
    assert "http://" not in text and "https://" not in text and "//" not in text
    assert re.findall(r"src=\"(?!data:)", text) == []
    assert re.findall(r"href=\"(?!data:)", text) == []
    assert "<script" not in text and "url(" not in text and "@import" not in text
    assert '<link rel="icon" href="data:,">' in text
    assert text.count("<img ") == 4  # linear, log, drawdown, rolling Sharpe


def test_values_from_files_are_escaped(runs, offline, tmp_path):
    evil = tmp_path / "x&y"
    shutil.copytree(runs["cta"], evil)
    metrics = json.loads((evil / "metrics.json").read_text())
    metrics["strategy"] = "<script>alert(1)</script>"
    (evil / "metrics.json").write_text(json.dumps(metrics))
    manifest = json.loads((evil / "manifest.json").read_text())
    manifest["strategy"]["params"] = {"note": "<b>bold</b>"}
    (evil / "manifest.json").write_text(json.dumps(manifest))
    text = compare([evil, runs["bb"]], tmp_path / "out", benchmark="").read_text()
    assert "<script" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (x&amp;y)" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "benchmark " not in table(text, "metrics").columns[-1]  # "" = no benchmark


def test_runs_table_has_parameters_universe_and_checksum(page, runs):
    got = table(page, "runs").set_index("run")
    manifest = json.loads((runs["cta"] / "manifest.json").read_text())
    row = got.loc[labels([runs["cta"]])[0]]
    assert row["data sha256"] == manifest["data"]["sha256"]
    assert row["universe"] == "crypto" and row["symbols"] == "BTC-USD, ETH-USD"
    assert json.loads(row["parameters"]) == manifest["strategy"]["params"]


def test_optimisation_summary_adds_dsr_and_trials(runs, offline, tmp_path):
    opt = tmp_path / "opt"
    shutil.copytree(runs["bb"], opt)
    (opt / "summary.json").write_text(json.dumps({"dsr": 0.4213, "n_trials": 17, "psr": 0.9}))
    got = table(compare([opt, runs["cta"]], tmp_path / "out").read_text(), "metrics")
    got = got.set_index("metric")
    assert got.iloc[:, 0]["DSR (optimisation)"] == "0.42"
    assert got.iloc[:, 0]["trials (optimisation)"] == "17"
    assert got.iloc[:, 1]["DSR (optimisation)"] == ""


def test_backtest_objects_compare_like_folders(bundle, offline, tmp_path):
    a = flowbt.backtest("buyback_blackout", bundle, start="2024-01-02")
    b = flowbt.backtest("cta_trend", bundle, symbols=["BTC-USD"], start="2024-01-01")
    got = table(flowbt.compare([a, b], tmp_path / "out").read_text(), "metrics")
    assert list(got.columns) == ["metric", "buyback_blackout", "cta_trend", "benchmark SPY"]


# ------------------------------------------------------------ mistakes


def test_fewer_than_two_runs(runs, tmp_path):
    for given in ([runs["bb"]], runs["bb"], []):
        with pytest.raises(ValueError, match="at least 2 runs"):
            compare(given, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_run(runs, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"not a flowbt run \(no equity.csv / metrics.json\)"):
        compare([runs["bb"], mine], tmp_path / "out")
    with pytest.raises(ValueError, match="does not exist"):
        compare([runs["bb"], tmp_path / "missing"], tmp_path / "out")
    opt = tmp_path / "opt"
    opt.mkdir()
    (opt / "summary.json").write_text(json.dumps({"best_params": {"threshold": 0.3}}))
    (opt / "manifest.json").write_text(json.dumps({"kind": "optimize", "strategy": "x"}))
    with pytest.raises(ValueError, match="flowbt backtest x --param threshold=0.3 --out DIR"):
        compare([runs["bb"], opt], tmp_path / "out")
    bad = tmp_path / "bad"
    shutil.copytree(runs["bb"], bad)
    (bad / "equity.csv").write_text("when,value\n1,2\n")
    with pytest.raises(ValueError, match=r"equity.csv is unreadable .*; fix:"):
        compare([runs["bb"], bad], tmp_path / "out")
    with pytest.raises(ValueError, match="cannot compare a int"):
        compare([runs["bb"], 3], tmp_path / "out")  # type: ignore[list-item]
    assert not (tmp_path / "out").exists()


def test_runs_without_common_days(runs, tmp_path):
    early, late = tmp_path / "early", tmp_path / "late"
    for folder, keep in ((early, slice(0, 50)), (late, slice(400, 450))):
        shutil.copytree(runs["bb"], folder)
        frame = pd.read_csv(folder / "equity.csv")
        frame.iloc[keep].to_csv(folder / "equity.csv", index=False)
    with pytest.raises(ValueError, match="share no UTC days .*; fix:"):
        compare([early, late], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_out_is_never_a_user_folder_or_a_run(runs, offline, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my data")
    with pytest.raises(ValueError, match="not empty and holds no flowbt run"):
        compare([runs["bb"], runs["cta"]], mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    before = (runs["bb"] / "manifest.json").read_text()
    with pytest.raises(ValueError, match="manifest.json the compare page would replace"):
        compare([runs["bb"], runs["cta"]], runs["bb"])
    assert (runs["bb"] / "manifest.json").read_text() == before
    assert not (runs["bb"] / PAGE).exists()
    # an earlier compare folder is ours: replaced, the user's extra file kept
    out = tmp_path / "cmp"
    compare([runs["bb"], runs["cta"]], out, benchmark="")
    (out / "keep.txt").write_text("mine")
    compare([runs["bb"], runs["cta"]], out, benchmark="")
    assert json.loads((out / "manifest.json").read_text())["kind"] == "compare"
    assert (out / "keep.txt").read_text() == "mine"


def test_quantstats_multi_column_charts_stop_at_nine_runs():
    """Why compare.html draws its own charts: quantstats 0.0.86's multi-column tearsheet
    colours column i with palette[i + 1] of a 10-colour palette, so a tenth run raises
    IndexError (bench/bench_report.py compares against it on 9 runs). If an upgrade
    fixes it, this fails and the compare page may reuse quantstats' charts."""
    import matplotlib
    from quantstats._plotting import core

    matplotlib.use("agg")
    days = pd.date_range("2020-01-01", periods=50, freq="D")
    returns = pd.DataFrame({f"run{i}": np.full(50, 0.001 * i) for i in range(10)}, index=days)
    core.plot_timeseries(returns.iloc[:, :9], show=False)  # 9 runs draw
    with pytest.raises(IndexError):
        core.plot_timeseries(returns, show=False)


def test_runs_shorter_than_the_rolling_window_still_compare(bundle, tmp_path):
    """Two 6-month runs: no 6- or 12-month rolling Sharpe exists; the page says so
    instead of failing on an empty chart (it raised 'bottom cannot be >= top')."""
    kw = {"start": "2024-01-02", "end": "2024-06-28"}
    runs = [flowbt.backtest(s, bundle, **kw) for s in ("buyback_blackout", "vix_hedge")]
    page = flowbt.compare(runs, tmp_path / "cmp").read_text(encoding="utf-8")
    assert "The runs are too short." in page and 'alt="rolling Sharpe"' not in page
    assert 'alt="equity (linear)"' in page
