"""`flowbt.optimize(...)`: every trial is the event engine's run of its parameters, the
ledger does not depend on how the work is cut or where it runs, a killed sweep resumes,
and the overfitting statistics are what the papers' formulas give on the trials' returns.

Every sweep here is a few trials on the bundled snapshot from 2015 on (fast)."""

from __future__ import annotations

import json
import math
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from data.market import MarketData
from engine.api import run
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import bars_from_market, run_market
from engine.stats import performance
from flowbt.optimize import api as api_module
from flowbt.optimize import executors
from flowbt.optimize.api import optimize
from flowbt.optimize.overfitting import pbo_cscv
from flowbt.optimize.snooping import spa_test
from flowbt.optimize.store import CHUNK_DIR, SWEEP_FILE, code_version, market_checksum
from flowbt.optimize.trials import params_of, trial_weights
from flowbt.optimize.validate import benchmark_returns, trial_returns
from flowbt.report.tearsheet import benchmark_close
from strategies.registry import get_strategy

START = "2015-01-02"
FEES = 0.001
GRID = ["threshold=0.2:0.8:3", "blackout_weight=0,0.5"]  # 6 trials, 2 parameters
FIXED_GRID = ["threshold=0.2:0.8:3", "blackout_weight=0"]  # blackout_weight fixed at 0
KW = {"grid": GRID, "start": START, "fees": FEES, "spa_reps": 100}
CONFIG = BacktestConfig(costs=CostModel(fees=FEES))


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stale-data / FX notes of the snapshot
        yield


@pytest.fixture(scope="module")
def md(bundle) -> MarketData:
    return bundle


@pytest.fixture(scope="module")
def fast(tmp_path_factory) -> dict:
    """Options of the sweeps other than the reference one: the signals computed once and
    kept on disk (``signal_cache``), a short SPA bootstrap."""
    return {**KW, "spa_reps": 20, "signal_cache": tmp_path_factory.mktemp("signals")}


@pytest.fixture(scope="module")
def signal_cache() -> dict:
    """For run_market: each signal computed once for the module."""
    return {}


@pytest.fixture(scope="module")
def base(md):
    """The reference sweep: in memory, one chunk, local."""
    return optimize("buyback_blackout", md, **KW)


@pytest.fixture(scope="module")
def on_disk(md, tmp_path_factory, fast):
    """The same sweep in chunks of two trials, kept under ``out``."""
    out = tmp_path_factory.mktemp("sweep") / "run"
    opt = optimize("buyback_blackout", md, **fast, chunk=2, seed=7, out=out, command="flowbt test")
    return opt, out


def _ledger_params(opt) -> list[dict]:
    """Every trial's full parameter set (searched values and the fixed ones)."""
    names = opt.space.names()
    return [{**opt.space.fixed, **params_of(row, names)} for _, row in opt.results.iterrows()]


def _count_evaluated(monkeypatch) -> list[int]:
    """Trial ids handed to ``evaluate`` by the local executor, in order."""
    seen: list[int] = []
    real = executors.evaluate

    def counting(setup, trials):
        seen.extend(int(t) for t, _ in trials)
        return real(setup, trials)

    monkeypatch.setattr(executors, "evaluate", counting)
    return seen


# -- each trial is run_market of its parameters ------------------------------------------


def test_every_buyback_trial_equals_run_market(base, md, signal_cache):
    assert base.setup.config.model_dump() == CONFIG.model_dump()
    cls = get_strategy("buyback_blackout")
    ledger = base.results
    assert len(ledger) == 6 and (ledger["status"] == "ok").all()
    assert sorted(set(ledger["threshold"])) == [0.2, 0.5, 0.8]
    assert sorted(set(ledger["blackout_weight"])) == [0.0, 0.5]
    for params, (_, row) in zip(_ledger_params(base), ledger.iterrows(), strict=True):
        strat = cls(cls.Params(**params))
        s = run_market(strat, md, CONFIG, start=START, signal_cache=signal_cache).stats()
        assert row["final_equity"] == pytest.approx(s["final_equity"], rel=1e-12)
        assert row["sharpe"] == pytest.approx(s["sharpe"], rel=1e-12)
        assert row["max_drawdown"] == pytest.approx(s["max_drawdown"], rel=1e-12)
        assert row["n_orders"] == s["n_orders"]
        assert row["off_target_days"] == s["off_target_days"]
        assert row["longest_off_target_days"] == s["longest_off_target_days"]
        assert row["objective"] == row["sharpe"]
    assert ledger["final_equity"].nunique() == 6  # the parameters matter


def test_every_liquidity_rotation_trial_on_three_calendars_equals_run_market(md, signal_cache):
    start = "2021-01-04"
    grid = ["drain_z=-1:0:3", "weeks=4,13"]
    opt = optimize(
        "liquidity_rotation", md, universe="memory", grid=grid, start=start, spa_reps=100
    )
    assert len(set(opt.setup.calendars.values())) == 3  # 24/7, XNYS, XKRX
    assert opt.setup.batch.on_grid
    cls = get_strategy("liquidity_rotation")
    for params, (_, row) in zip(_ledger_params(opt), opt.results.iterrows(), strict=True):
        strat = cls(cls.Params(**params), symbols=list(opt.setup.symbols))
        res = run_market(strat, md, CONFIG, start=start, signal_cache=signal_cache)
        s = res.stats()
        assert row["status"] == "ok"
        assert row["final_equity"] == pytest.approx(s["final_equity"], rel=1e-12)
        assert row["sharpe"] == pytest.approx(s["sharpe"], rel=1e-12)
        assert row["n_orders"] == s["n_orders"]
        assert row["n_returns"] == len(res.period_equity())
        # held against asked for, on the instant grid of three calendars
        assert (row["off_target_days"], row["longest_off_target_days"]) == res.off_target_days()


# -- failed and rejected trials ------------------------------------------------------------


def _pydantic_reason(fast: int, slow: int) -> str | None:
    try:
        get_strategy("sma_cross").Params(fast=fast, slow=slow)
    except ValidationError as exc:
        return exc.errors()[0]["msg"].removeprefix("Value error, ")
    return None


def test_invalid_params_fail_with_the_reason_and_constraints_reject_unevaluated(md, monkeypatch):
    kw = {"symbols": ["SPY"], "start": START, "spa_reps": 100}
    opt = optimize("sma_cross", md, **kw)  # the default space: the pydantic bounds
    ledger = opt.results
    invalid = ledger["fast"] >= ledger["slow"]
    assert invalid.sum() >= 1 and (~invalid).sum() >= 2
    for _, row in ledger.iterrows():
        reason = _pydantic_reason(int(row["fast"]), int(row["slow"]))
        if reason is None:
            assert row["status"] == "ok"
        else:
            assert row["status"] == "failed"
            assert reason in row["reason"] and "must be < slow" in row["reason"]
            assert np.isnan(row["objective"]) and np.isnan(row["final_equity"])
    assert opt.summary["n_trials_failed"] == invalid.sum()
    # the valid trials are run_market's runs (the per-set target_weights path)
    cls = get_strategy("sma_cross")
    for _, row in ledger[~invalid].head(4).iterrows():
        strat = cls(cls.Params(fast=int(row["fast"]), slow=int(row["slow"])), symbols=["SPY"])
        s = run_market(strat, md, CONFIG, start=START).stats()
        assert row["final_equity"] == pytest.approx(s["final_equity"], rel=1e-12)
        assert row["n_orders"] == s["n_orders"]

    seen = _count_evaluated(monkeypatch)
    con = optimize("sma_cross", md, **kw, constraint=["fast < slow"])
    rejected = con.results["status"] == "rejected"
    assert (rejected == invalid).all()
    assert (con.results.loc[rejected, "reason"] == "constraint fast < slow").all()
    assert con.summary["n_trials_rejected"] == invalid.sum()
    assert con.summary["n_trials_failed"] == 0
    assert sorted(seen) == sorted(ledger.index[~invalid])  # rejected never evaluated
    ok = ~invalid
    pd.testing.assert_series_equal(con.results.loc[ok, "sharpe"], ledger.loc[ok, "sharpe"])


# -- the same ledger whatever the chunking, seeded methods reproducible ----------------------


def test_ledger_identical_for_chunk_1_2_and_256(base, on_disk, md, fast):
    one = optimize("buyback_blackout", md, **fast, chunk=1)
    two, _ = on_disk
    for other in (one, two):
        pd.testing.assert_frame_equal(other.results, base.results)
        np.testing.assert_array_equal(other.window_sums, base.window_sums)
    assert base.summary["pbo"] == one.summary["pbo"] == two.summary["pbo"]
    assert base.summary["best_params"] == one.summary["best_params"]


def test_random_search_is_seeded(md, fast):
    kw = {**fast, "random": 5}
    a = optimize("buyback_blackout", md, **kw, seed=1)
    b = optimize("buyback_blackout", md, **kw, seed=1, chunk=2)
    c = optimize("buyback_blackout", md, **kw, seed=2)
    pd.testing.assert_frame_equal(a.results, b.results)
    assert len(a.results) == 5
    assert a.results["threshold"].between(0.2, 0.8).all()
    assert set(a.results["blackout_weight"]) <= {0.0, 0.5}
    assert not np.array_equal(a.results["threshold"], c.results["threshold"])
    # a random search's robustness uses the nearest trials (the grid's rank rule would
    # find none among continuous draws); the base grid sweep keeps the grid rule
    assert a.summary["neighbourhood"] == "nearest" and a.summary["neighbours"] > 0
    assert a.summary["verdict"] in ("plateau", "spike")


def test_optuna_is_reproducible_across_runs_and_chunk_sizes(md, fast):
    kw = {**fast, "optuna": 34}  # two ask batches: the second one sampled by TPE
    a = optimize("buyback_blackout", md, **kw, seed=3)
    b = optimize("buyback_blackout", md, **kw, seed=3)
    c = optimize("buyback_blackout", md, **kw, seed=3, chunk=5)
    pd.testing.assert_frame_equal(a.results, b.results)
    pd.testing.assert_frame_equal(a.results, c.results)
    assert list(a.results.index) == list(range(34))
    assert a.results["threshold"].between(0.2, 0.8).all()
    assert a.results["threshold"].nunique() > 20


# -- resume ----------------------------------------------------------------------------------


def _record_tearsheets(monkeypatch) -> list:
    """Tearsheet jobs the output folder asks for, recorded instead of drawn (quantstats
    takes seconds; one test draws a real one)."""
    jobs: list = []
    monkeypatch.setattr("flowbt.optimize.outputs.run_job", jobs.append)
    return jobs


def _chunk_files(out):
    return sorted((out / CHUNK_DIR).glob("chunk-*.parquet"))


def test_resume_recomputes_only_the_missing_chunk(on_disk, tmp_path, md, monkeypatch, fast):
    full, src = on_disk
    out = tmp_path / "killed"
    shutil.copytree(src, out)
    files = _chunk_files(out)
    assert [f.name for f in files] == [
        "chunk-0000000-0000001.parquet",
        "chunk-0000002-0000003.parquet",
        "chunk-0000004-0000005.parquet",
    ]
    # killed while writing the last chunk: its file missing, a partial temporary left
    last = files[-1]
    last.unlink()
    last.with_suffix(".parquet.tmp").write_bytes(b"PAR1\x00\x15half a chunk")
    kept = {f.name: f.read_bytes() for f in files[:-1]}
    seen = _count_evaluated(monkeypatch)
    jobs = _record_tearsheets(monkeypatch)
    again = optimize(
        "buyback_blackout", md, **fast, chunk=2, seed=7, out=out, resume=True, command="x"
    )
    assert seen == [4, 5]
    pd.testing.assert_frame_equal(again.results, full.results)
    np.testing.assert_array_equal(again.window_sums, full.window_sums)
    assert [f.name for f in _chunk_files(out)] == [f.name for f in files]
    assert not list((out / CHUNK_DIR).glob("*.tmp"))
    assert {f.name: f.read_bytes() for f in _chunk_files(out)[:-1]} == kept
    assert again.summary["pbo"] == full.summary["pbo"]
    # the outputs are written again; the tearsheet is the chosen trial's run
    (job,) = jobs
    assert job.html == out / "tearsheet.html"
    growth = float(np.prod(1.0 + job.returns.to_numpy()))
    assert growth * CONFIG.init_cash == pytest.approx(full.best["final_equity"], rel=1e-9)
    saved = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(saved, full.results.reset_index(drop=True), check_dtype=False)


def test_resume_recomputes_an_unreadable_chunk(on_disk, tmp_path, md, monkeypatch, fast):
    full, src = on_disk
    out = tmp_path / "truncated"
    shutil.copytree(src, out)
    middle = _chunk_files(out)[1]
    middle.write_bytes(middle.read_bytes()[:50])  # a torn write
    seen = _count_evaluated(monkeypatch)
    _record_tearsheets(monkeypatch)
    again = optimize("buyback_blackout", md, **fast, chunk=2, seed=7, out=out, resume=True)
    assert seen == [2, 3]
    pd.testing.assert_frame_equal(again.results, full.results)


def test_resume_with_another_grid_or_without_a_sweep_is_refused(on_disk, tmp_path, md, fast):
    _, src = on_disk
    out = tmp_path / "other"
    shutil.copytree(src, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = {**fast, "grid": ["threshold=0.2:0.8:4", "blackout_weight=0,0.5"]}
    with pytest.raises(ValueError, match="fix:") as err:
        optimize("buyback_blackout", md, **other, chunk=2, seed=7, out=out, resume=True)
    assert "--resume" in str(err.value) and "space" in str(err.value)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"{SWEEP_FILE} missing.*fix:"):
        optimize("buyback_blackout", md, **fast, out=empty, resume=True)
    assert not list(empty.iterdir())
    with pytest.raises(ValueError, match="no sweep to resume"):
        optimize("buyback_blackout", md, **fast, out=tmp_path / "never", resume=True)


# -- dask --------------------------------------------------------------------------------------


def test_dask_local_cluster_gives_the_local_ledger(base, md, fast):
    try:
        from distributed import LocalCluster  # noqa: F401
    except ImportError:  # pragma: no cover - the dask extra is part of dev
        pytest.skip("distributed is not installed")
    opt = optimize("buyback_blackout", md, **fast, chunk=2, executor="dask")
    pd.testing.assert_frame_equal(opt.results, base.results)
    np.testing.assert_array_equal(opt.window_sums, base.window_sums)


def test_unreachable_dask_scheduler_is_one_line_with_a_fix(md, fast, tmp_path):
    out = tmp_path / "never"
    with pytest.raises(ValueError, match="cannot reach a dask scheduler.*fix:"):
        optimize(
            "buyback_blackout", md, **fast, executor="dask", address="tcp://127.0.0.1:1", out=out
        )
    with pytest.raises(ValueError, match="--address is for --executor dask; fix:"):
        optimize("buyback_blackout", md, **fast, address="tcp://127.0.0.1:1", out=out)
    assert not out.exists()


# -- summary: PSR, DSR, PBO, edge ----------------------------------------------------------------


@pytest.fixture(scope="module")
def returns(base):
    """Per-period returns (periods x trials) of every trial, re-run on the setup."""
    return trial_returns(base.setup, _ledger_params(base))


def test_psr_and_dsr_are_the_papers_formulas_on_the_ledger(base, returns):
    s, ledger = base.summary, base.results
    ok = ledger[ledger["status"] == "ok"]
    best = int(ok["objective"].to_numpy().argmax())
    assert s["best_trial"] == int(ok.index[best])
    assert s["best_params"] == {n: ok.iloc[best][n] for n in base.space.names()}
    assert s["n_trials"] == len(ledger) == 6
    r = returns[:, best]
    sr = r.mean() / r.std(ddof=1)
    g3 = stats.skew(r)
    g4 = stats.kurtosis(r, fisher=False)  # raw kurtosis, 3 for normal returns
    t = len(r)
    row = ok.iloc[best]
    assert row["sharpe_per_period"] == pytest.approx(sr, rel=1e-9)
    assert row["n_returns"] == t == base.setup.batch.n_periods
    assert row["skew"] == pytest.approx(g3, rel=1e-8)
    assert row["kurtosis"] == pytest.approx(g4, rel=1e-8)

    def psr(sr_star: float) -> float:
        z = (sr - sr_star) * math.sqrt(t - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
        return float(stats.norm.cdf(z))

    assert s["psr"] == pytest.approx(psr(0.0), rel=1e-9)
    sharpes = ok["sharpe_per_period"].to_numpy()
    var = np.var(sharpes, ddof=1)
    assert s["var_trial_sharpe_per_period"] == pytest.approx(var, rel=1e-12)
    n, gamma = len(sharpes), np.euler_gamma
    sr0 = math.sqrt(var) * (
        (1 - gamma) * stats.norm.ppf(1 - 1 / n) + gamma * stats.norm.ppf(1 - 1 / (n * math.e))
    )
    assert s["expected_max_sharpe_per_period"] == pytest.approx(sr0, rel=1e-9)
    assert s["dsr"] == pytest.approx(psr(sr0), rel=1e-9)
    assert s["dsr"] < s["psr"]


def test_pbo_equals_cscv_on_the_trials_return_matrix(base, returns):
    s = base.summary
    want = pbo_cscv(returns, blocks=16)
    assert 0.0 <= s["pbo"] <= 1.0
    assert s["pbo_blocks"] == 16
    assert s["pbo"] == pytest.approx(want.pbo, abs=1e-12)
    np.testing.assert_allclose(s["pbo_logits"], want.logits, rtol=1e-9)


def test_spa_pvalue_is_the_bootstrap_of_the_trials_returns(base, md, returns):
    order = np.argsort(-base.results["objective"].to_numpy(), kind="stable")
    bench = benchmark_returns(base.setup, benchmark_close(md, "SPY"))
    want = spa_test(bench, returns[:, order], reps=100, seed=0)
    assert base.summary["spa_models"] == 6
    assert base.summary["spa_pvalue"] == pytest.approx(want.spa_pvalue, abs=1e-12)


def _best_of(opt) -> float:
    ok = opt.results[opt.results["status"] == "ok"]
    return float(ok.iloc[int(ok["objective"].to_numpy().argmax())]["threshold"])


def test_edge_flag_follows_where_the_best_lies_in_the_grid(base, md, fast):
    # the base sweep: flagged iff the best threshold is an end of its 3-point grid
    best = _best_of(base)
    assert base.summary["edge"] == (best in (0.2, 0.8))
    assert ("threshold" in base.summary["on_edge"]) == base.summary["edge"]
    assert "blackout_weight" not in base.summary["on_edge"]  # 2 values: no interior
    kw = {k: v for k, v in fast.items() if k != "grid"}
    five = optimize("buyback_blackout", md, grid=["threshold=0.2:0.8:5"], **kw)
    values = sorted(five.results["threshold"])
    b = _best_of(five)
    i = values.index(b)
    # three of the five points with the best at one end: the best stays best, on the edge
    side = values[i : i + 3] if i + 3 <= len(values) else values[i - 2 : i + 1]
    edge = optimize("buyback_blackout", md, grid={"threshold": side}, **kw)
    assert _best_of(edge) == b
    assert edge.summary["edge"] is True and edge.summary["on_edge"] == ["threshold"]
    if 0 < i < len(values) - 1:  # the best with a worse point either side: interior
        inner = optimize("buyback_blackout", md, grid={"threshold": values[i - 1 : i + 2]}, **kw)
        assert _best_of(inner) == b
        assert inner.summary["edge"] is False and inner.summary["on_edge"] == []


# -- walk-forward -----------------------------------------------------------------------------


def _stitched(opt, full_params: bool) -> np.ndarray:
    """The walk-forward portfolio rebuilt by hand: each fold's parameters decide from the
    close before its test window to the close before the next one."""
    setup, wf = opt.setup, opt.walk_forward
    rows, n_bars = setup.batch.bar_rows, setup.bars.n_bars
    w = np.full((n_bars, setup.bars.n_assets), np.nan)
    first = None
    for f, fold in enumerate(opt.plan.wf_folds):
        params = {n: wf.folds.loc[f, n] for n in opt.space.names()}
        if full_params:
            params = {**opt.space.fixed, **params}
        a, b = int(fold.test[0]), int(fold.test[-1]) + 1
        lo = int(rows[a - 1])
        hi = int(rows[b - 1]) if b < len(rows) else n_bars
        w[lo:hi] = trial_weights(setup, params)[lo:hi]
        first = lo if first is None else first
    res = run(None, setup.bars.rows(first), setup.config, weights=w[first:])
    return res.equity.to_numpy()


@pytest.fixture(scope="module")
def walked(md, fast):
    return optimize("buyback_blackout", md, **fast, walk_forward_folds={"folds": 3}, top_curves=2)


def test_walk_forward_chooses_each_fold_in_sample(walked):
    wf, setup = walked.walk_forward, walked.setup
    folds = wf.folds
    assert len(folds) == 3 == walked.summary["walk_forward"]["folds"]
    params = _ledger_params(walked)
    rets = trial_returns(setup, params)
    ppy = setup.batch.periods_per_year
    index = setup.batch.period_index
    for f, fold in enumerate(walked.plan.wf_folds):
        a, b = int(fold.train[0]), int(fold.train[-1]) + 1
        assert b <= int(fold.test[0])  # trained before it trades
        r = rets[a:b]
        sharpe = r.mean(axis=0) / r.std(axis=0, ddof=1) * math.sqrt(ppy)
        pick = int(np.argmax(sharpe))
        assert folds.loc[f, "trial"] == walked.results.index[pick]
        for name in walked.space.names():
            assert folds.loc[f, name] == params[pick][name]
        assert folds.loc[f, "is_sharpe"] == pytest.approx(sharpe[pick], rel=1e-9)
        assert folds.loc[f, "train_start"] == str(index[a].date())
        assert folds.loc[f, "train_end"] == str(index[b - 1].date())
        assert folds.loc[f, "test_start"] == str(index[int(fold.test[0])].date())
    # the test windows follow each other up to the last period
    tests = [fold.test for fold in walked.plan.wf_folds]
    assert int(tests[-1][-1]) == setup.batch.n_periods - 1
    assert all(int(x[-1]) + 1 == int(y[0]) for x, y in zip(tests, tests[1:], strict=False))


def test_walk_forward_stitched_result_starts_at_the_first_test_window(walked):
    wf, setup = walked.walk_forward, walked.setup
    a0 = int(walked.plan.wf_folds[0].test[0])
    index = setup.batch.period_index
    equity = wf.result.period_equity()
    # valued at the close that decides the first test window, nothing traded before it
    assert equity.index[0] == index[a0 - 1] and equity.iloc[0] == setup.config.init_cash
    assert equity.index[1] == index[a0] and equity.index[-1] == index[-1]
    np.testing.assert_allclose(wf.result.equity.to_numpy(), _stitched(walked, True), rtol=1e-12)
    # each fold's OOS figures are those of the stitched equity over its test window
    eq = equity.to_numpy()
    for f, fold in enumerate(walked.plan.wf_folds):
        a, b = int(fold.test[0]) - (a0 - 1), int(fold.test[-1]) + 1 - (a0 - 1)
        want = performance(eq[a:b], eq[a - 1], setup.batch.periods_per_year)
        assert wf.folds.loc[f, "oos_sharpe"] == pytest.approx(want["sharpe"], rel=1e-12)


@pytest.fixture(scope="module")
def with_fixed(md, fast):
    """A sweep with one parameter fixed by a one-value grid (blackout_weight=0)."""
    kw = {**fast, "grid": FIXED_GRID}
    return optimize("buyback_blackout", md, **kw, walk_forward_folds={"folds": 3}, top_curves=2)


def test_walk_forward_trades_the_fixed_parameters_too(with_fixed):
    assert with_fixed.space.fixed == {"blackout_weight": 0.0}
    # every trial of the ledger ran with blackout_weight = 0 ...
    assert (with_fixed.results["blackout_weight"] == 0.0).all()
    # ... so the out-of-sample portfolio must trade it too
    np.testing.assert_allclose(
        with_fixed.walk_forward.result.equity.to_numpy(), _stitched(with_fixed, True), rtol=1e-12
    )


def test_top_curves_are_the_best_trials_equity(walked):
    curves = walked.curves
    top = walked.results.sort_values("objective", ascending=False, kind="stable").head(2)
    assert list(curves.columns) == list(top.index)
    assert curves.index.equals(walked.setup.batch.period_index)
    np.testing.assert_allclose(curves.iloc[-1], top["final_equity"], rtol=1e-9)


def test_top_curves_keep_the_fixed_parameters(with_fixed):
    top = with_fixed.results.sort_values("objective", ascending=False, kind="stable").head(2)
    np.testing.assert_allclose(with_fixed.curves.iloc[-1], top["final_equity"], rtol=1e-9)


@pytest.mark.parametrize("grid", [GRID, FIXED_GRID])
def test_spa_models_are_the_ledgers_trials(md, fast, monkeypatch, grid):
    """The returns the SPA bootstraps compound to each model's ledger final equity."""
    import flowbt.optimize.validate as validate

    seen = {}
    real = validate.spa_test

    def capture(bench, models, **kw):
        seen["models"] = np.array(models)
        return real(bench, models, **kw)

    monkeypatch.setattr(validate, "spa_test", capture)
    opt = optimize("buyback_blackout", md, **{**fast, "grid": grid})
    order = np.argsort(-opt.results["objective"].to_numpy(), kind="stable")
    final = np.prod(1.0 + seen["models"], axis=0) * opt.setup.config.init_cash
    np.testing.assert_allclose(final, opt.results["final_equity"].to_numpy()[order], rtol=1e-9)


# -- the output folder --------------------------------------------------------------------------


SUMMARY_KEYS = {
    "best_params", "objective_value", "sharpe", "psr", "dsr", "n_trials",
    "var_trial_sharpe_per_period", "pbo", "spa_pvalue", "edge",
}  # fmt: skip


def test_output_folder_holds_results_summary_heatmap_manifest_tearsheet(on_disk, md):
    opt, out = on_disk
    ledger = opt.results.reset_index(drop=True)
    parquet = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(parquet, ledger, check_dtype=False)
    csv = pd.read_csv(out / "results.csv", keep_default_na=False, na_values=[""])
    assert list(csv.columns) == list(ledger.columns) and len(csv) == len(ledger) == 6
    assert list(csv["trial"]) == list(ledger["trial"])
    np.testing.assert_allclose(csv["sharpe"], ledger["sharpe"], rtol=1e-12)
    np.testing.assert_allclose(csv["threshold"], ledger["threshold"])
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert summary["best_params"] == opt.summary["best_params"]
    assert summary["n_trials"] == 6
    assert summary["sharpe"] == pytest.approx(opt.best["sharpe"], rel=1e-12)
    assert summary["pbo"] == pytest.approx(opt.summary["pbo"], rel=1e-12)
    heatmap = out / "heatmap_threshold_blackout_weight.png"
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and heatmap.stat().st_size > 5000
    manifest = json.loads((out / "manifest.json").read_text())
    # the whole snapshot's checksum; the sweep's own bars are in its identity
    assert manifest["data_checksum"] == opt.summary["data_checksum"] == market_checksum(md)
    assert len(manifest["data_checksum"]) == 64
    bars, _ = bars_from_market(md, ["SPY"], start=START)
    identity = json.loads((out / SWEEP_FILE).read_text())["identity"]
    assert identity["bars_checksum"] == bars.checksum()
    assert manifest["code_version"] == code_version() and "+" in manifest["code_version"]
    assert manifest["seed"] == 7 and manifest["command"] == "flowbt test"
    html = (out / "tearsheet.html").read_text()
    assert len(html) > 10_000 and "<html" in html.lower()
    assert len(_chunk_files(out)) == 3 and (out / SWEEP_FILE).is_file()


def test_a_foreign_folder_is_refused_and_left_untouched(tmp_path, md, fast, monkeypatch):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own work\n")
    (out / "sub").mkdir()
    setups: list[int] = []
    real = api_module.build_setup
    monkeypatch.setattr(
        api_module, "build_setup", lambda *a, **k: setups.append(1) or real(*a, **k)
    )
    with pytest.raises(ValueError, match=r"not empty and holds no flowbt run \(.*\); fix:"):
        optimize("buyback_blackout", md, **fast, out=out)
    assert not setups  # refused before the sweep's setup (signals, bars) was built
    assert sorted(p.name for p in out.rglob("*")) == ["notes.txt", "sub"]
    assert (out / "notes.txt").read_text() == "my own work\n"
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is a file.*fix:"):
        optimize("buyback_blackout", md, **fast, out=afile)
    assert afile.read_text() == "x"


def test_an_experiment_with_adjust_none_sweeps_the_stored_prices(md, tmp_path, signal_cache):
    """``adjust = "none"`` in the experiment file: every trial, and the chosen one's
    backtest, trade SPY as stored (no dividend back-adjustment), as run_market does."""
    config = tmp_path / "exp.toml"
    config.write_text('strategy = "sma_cross"\nsymbols = ["SPY"]\nadjust = "none"\n')
    opt = optimize(config=config, md=md, grid=["fast=5,10", "slow=50"], start=START,
                   spa_reps=20)  # fmt: skip
    cls = get_strategy("sma_cross")
    for _, row in opt.results.iterrows():
        strat = cls(cls.Params(fast=int(row["fast"]), slow=int(row["slow"])), symbols=["SPY"])
        raw = run_market(strat, md, opt.setup.config, start=START, adjust=False).stats()
        tr = run_market(strat, md, opt.setup.config, start=START).stats()
        assert row["final_equity"] == pytest.approx(raw["final_equity"], rel=1e-12)
        assert raw["final_equity"] != pytest.approx(tr["final_equity"], rel=1e-6)
    best = opt.backtest().stats()
    assert best["final_equity"] == pytest.approx(opt.results["final_equity"].max(), rel=1e-12)
