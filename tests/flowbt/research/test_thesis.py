"""`flowbt thesis`: every study runs on the bundled data, its numbers match the event-study
functions applied directly, and every return starts after the signal is known."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json

import numpy as np
import pandas as pd
import pytest
from bt_helpers import assert_user_error
from bt_helpers import run_cli as run

import data
from data.market import MarketData, SeriesInfo
from flowbt.cli.main import main
from flowbt.research.event_study import mean_difference, slope_per_sd
from flowbt.research.thesis import StudyResult, causal_swings, run_theses, vix_study

HAS_FED = importlib.util.find_spec("signals.fed") is not None


@pytest.fixture(scope="module")
def thesis_run(tmp_path_factory, bundle) -> tuple[dict, str]:
    """One `flowbt thesis --json` run: the JSON payload and what it printed."""
    mp = pytest.MonkeyPatch()  # module-scoped: the function fixture is not available
    mp.setattr(data, "load", lambda *a, **k: bundle)
    path = tmp_path_factory.mktemp("thesis") / "thesis.json"
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            code = main(["thesis", "--horizon", "20", "--json", str(path)])
    finally:
        mp.undo()
    assert code == 0
    return json.loads(path.read_text()), printed.getvalue()


@pytest.fixture(scope="module")
def thesis_json(thesis_run) -> dict:
    return thesis_run[0]


def row(payload: dict, thesis: str, asset: str, contains: str) -> dict:
    hits = [
        r
        for r in payload["results"]
        if r["thesis"] == thesis and r["asset"] == asset and contains in r["test"] + r["horizon"]
    ]
    assert len(hits) == 1, (thesis, asset, contains, hits)
    return hits[0]


def test_cli_prints_one_row_per_study_with_samples(thesis_run):
    payload, out = thesis_run
    for name in ("buyback", "liquidity", "vix inversion", "fed odds swings"):
        assert name in out
    for sym in ("SPY", "BTC-USD", "MU", "WDC", "STX", "SNDK", "000660.KS", "005930.KS"):
        assert sym in out
    for r in payload["results"]:  # the printed t equals the JSON one
        if r["t_stat"] is not None:
            assert f"{r['t_stat']:+.2f}" in out
    assert "Newey-West" in out and "no multiple-testing adjustment" in out


def test_every_study_has_a_sample_and_a_finite_t(thesis_json):
    rows = thesis_json["results"]
    theses = {r["thesis"] for r in rows}
    assert {"buyback", "liquidity", "vix inversion", "fed odds swings"} <= theses
    assert thesis_json["horizon_sessions"] == 20 and thesis_json["horizon_weeks"] == 4
    for r in rows:
        if r["thesis"] == "fed odds swings" and not HAS_FED:
            assert r["n"] == 0 and "not available" in r["note"]
            continue
        assert r["n"] > 0 and np.isfinite(r["t_stat"]) and np.isfinite(r["effect"]), r
        assert r["reading"] in ("supports thesis", "contradicts thesis", "not significant")


def test_buyback_row_matches_event_study_called_directly(thesis_json, bundle):
    from signals.buyback import blackout_share

    share = blackout_share(bundle)
    s = share["share_projected"].where(share["members"] >= 100)
    flag = pd.Series(np.select([s >= 2 / 3, s <= 1 / 3], [1.0, 0.0], np.nan), index=s.index)
    flag = flag.where(s.notna())
    close = bundle.price("SPY")["adj_close"]
    for h in (1, 20):
        fwd = (close.shift(-h) / close - 1) * 1e4  # close t -> close t + h
        direct = mean_difference(fwd, flag, lags=h - 1)
        got = row(thesis_json, "buyback", "SPY", f"{h}d")
        assert got["effect"] == pytest.approx(direct.effect, rel=1e-9)
        assert got["t_stat"] == pytest.approx(direct.t, rel=1e-9)
        assert (got["n"], got["n_other"]) == (direct.n_in, direct.n_out)


@pytest.mark.parametrize("symbol", ["BTC-USD", "MU", "005930.KS"])
def test_liquidity_row_matches_an_independent_weekly_sample(thesis_json, bundle, symbol):
    from signals.liquidity import liquidity_drain

    drain = liquidity_drain(bundle, symbol=symbol, weeks=(13,))["change_13w"]
    field = "adj_close" if bundle.basis(symbol) == "raw+tr" else "close"
    frame = pd.DataFrame({"close": bundle.price(symbol)[field], "change": drain})
    weekly = frame.resample("W-SUN").agg(lambda x: x.iloc[-1] if len(x) else np.nan)
    fwd = (weekly["close"].shift(-4) / weekly["close"] - 1) * 1e4
    direct = slope_per_sd(fwd, weekly["change"], lags=3)
    got = row(thesis_json, "liquidity", symbol, "4w")
    assert got["effect"] == pytest.approx(direct.effect, rel=1e-9)
    assert got["t_stat"] == pytest.approx(direct.t, rel=1e-9)
    assert got["n"] == direct.n


def test_vix_rows_match_event_study_called_directly(thesis_json, bundle):
    from signals.volatility import inversion_spells, vix_term_structure

    ratio = vix_term_structure(bundle)["ratio"].dropna()
    spy = bundle.price("SPY")["adj_close"]
    fwd = (spy.shift(-20) / spy - 1) * 1e4
    known = spy.index > ratio.index[0]  # the 16:15 ET ratio reaches the next session
    starts = np.zeros(len(spy))
    starts[spy.index.searchsorted(inversion_spells(ratio)["start"], side="right")] = 1.0
    direct = mean_difference(fwd, pd.Series(starts, index=spy.index).where(known), lags=19)
    got = row(thesis_json, "vix inversion", "SPY", "spell starts")
    assert got["t_stat"] == pytest.approx(direct.t, rel=1e-9)
    assert got["n"] == direct.n_in == len(inversion_spells(ratio))
    prev = ratio.reindex(spy.index).ffill().shift(1)  # last ratio known at each close
    inverted = pd.Series((prev > 1).astype(float), index=spy.index).where(known)
    direct = mean_difference(fwd, inverted, lags=19)
    got = row(thesis_json, "vix inversion", "SPY", "while inverted")
    assert got["t_stat"] == pytest.approx(direct.t, rel=1e-9)


@pytest.mark.skipif(not HAS_FED, reason="signals.fed not available")
def test_fed_hindsight_rows_match_event_study_called_directly(thesis_json, bundle):
    from signals.fed import odds_swings, rate_cut_odds

    swings = odds_swings(bundle)
    odds = rate_cut_odds(bundle)
    spy = bundle.price("SPY")["adj_close"]
    fwd = (spy.shift(-20) / spy - 1) * 1e4
    covered = spy.index >= odds.index[odds["prob_cut"].notna()][0]
    for side, pick in (("up", swings["change"] > 0), ("down", swings["change"] < 0)):
        hits = np.zeros(len(spy))
        hits[spy.index.get_indexer(swings.loc[pick, "detected"])] = 1.0  # known at its close
        flag = pd.Series(hits, index=spy.index).where(covered)
        direct = mean_difference(fwd, flag, lags=19)
        got = row(thesis_json, "fed odds swings", "SPY", f"odds_swings {side}")
        assert got["t_stat"] == pytest.approx(direct.t, rel=1e-9)
        assert got["n"] == direct.n_in


def _synthetic_vix_market(jump: float = 0.10) -> tuple[MarketData, list[int]]:
    """VIX inverts for one session at a few dates; SPY jumps the session after each."""
    days = pd.bdate_range("2015-01-05", periods=400, tz="UTC")
    rng = np.random.default_rng(7)
    events = [50, 120, 200, 260, 330]
    vix = np.full(len(days), 15.0)
    vix[events] = 25.0
    r = rng.normal(0, 0.002, len(days))
    r[[e + 1 for e in events]] = jump  # the move happens on the next session
    spy = 100 * np.cumprod(1 + r)

    def frame(close: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {"open": close, "high": close, "low": close, "close": close, "volume": 0.0},
            index=days,
        )

    prices = {"VIX": frame(vix), "VIX3M": frame(np.full(len(days), 20.0)), "SPY": frame(spy)}
    info = {
        s: SeriesInfo(name=s, kind="price", source="test", basis=b, calendar="XNYS")
        for s, b in (("VIX", "index"), ("VIX3M", "index"), ("SPY", "adjusted"))
    }
    return MarketData(prices, {}, {}, info), events


def test_vix_study_starts_after_the_ratio_is_final():
    """The ratio is final at 16:15 ET, after SPY's close: an inversion on day d must get
    the return from d+1's close on, so the jump on d+1 is not credited to it."""
    md, events = _synthetic_vix_market()
    rows = vix_study(md, horizon=1)
    start_row = rows[0]
    assert start_row.n == len(events)
    spy = md.price("SPY")["close"]
    fwd = (spy.shift(-1) / spy - 1) * 1e4
    after = [e + 1 for e in events]  # event bar: the first SPY close after 16:15 ET
    others = np.setdiff1d(np.arange(1, len(spy) - 1), after)
    hand = fwd.iloc[after].mean() - fwd.iloc[others].mean()
    assert start_row.effect == pytest.approx(hand, rel=1e-9)
    assert abs(start_row.effect) < 50  # no jump inside
    lookahead = fwd.iloc[events].mean() - fwd.iloc[others].mean()  # from d's close
    assert lookahead > 900  # a look-ahead would credit the 10% jump


def test_causal_swings_are_point_in_time():
    rng = np.random.default_rng(8)
    odds = pd.Series(
        np.clip(np.cumsum(rng.normal(0, 12, 300)), 0, 100),
        index=pd.bdate_range("2020-01-01", periods=300, tz="UTC"),
    )
    full = causal_swings(odds, None, points=30, days=10)
    assert len(full) > 5
    for cut in (60, 150, 299):
        part = causal_swings(odds.iloc[:cut], None, points=30, days=10)
        expected = full.loc[full["detected"] < odds.index[cut]].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, expected)


def test_causal_swings_by_hand():
    odds = pd.Series([0, 0, 40, 45, 0, 0, 0, 0, 50, 50.0])
    out = causal_swings(odds, None, points=30, days=2)
    # t=2: +40 vs t=0/1; t=4: -45 within 2 of t=2 (cooldown); t=5: -45 vs t=3 (5-2 = 3 > 2)
    assert out["detected"].tolist() == [2, 5, 8]
    assert out["change"].tolist() == [40, -45, 50]
    method = pd.Series(["a"] * 8 + ["b"] * 2)
    assert causal_swings(odds, method, points=30, days=2)["detected"].tolist() == [2, 5]


def test_reading_is_honest_about_sign_and_size():
    def result(t: float | None, expected: str) -> StudyResult:
        return StudyResult("x", "y", "SPY", 1.0, "bp", t, 10, 10, "1d", expected, "")

    assert result(2.5, "+").reading == "supports thesis"
    assert result(2.5, "-").reading == "contradicts thesis"
    assert result(-2.5, "-").reading == "supports thesis"
    assert result(1.0, "+").reading == "not significant"
    assert result(None, "+").reading == "n/a"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["thesis", "--horizon", "0"], "--horizon must be in 1..250"),
        (["thesis", "--horizon", "x"], "Invalid value for '--horizon'"),
        (["thesis", "--json", "out.txt"], "must end in .json"),
        (["thesis", "--json", "/nonexistent/dir/out.json"], "does not exist"),
    ],
)
def test_thesis_user_mistakes_are_one_line(capsys, bundled, args, needle):
    assert_user_error(*run(capsys, *args), needle)


def test_run_theses_rejects_a_bad_horizon(bundle):
    with pytest.raises(ValueError, match="horizon"):
        run_theses(bundle, 0)
