"""vix_hedge: the rule by hand on real sessions, the one-session lag that keeps a bar from
seeing a VIX close before 16:15 ET, and a run that holds what it asks for in both
simulators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import market_view, settled_gap
from pydantic import ValidationError

from data.market import MarketData
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import known_instants, run_market
from signals.volatility import vix_term_structure
from strategies.base import MarketView
from strategies.registry import get_strategy
from strategies.vix_hedge import VixHedge

UTC = "UTC"


def hand_weights(md: MarketData, start: str, end: str) -> dict[pd.Timestamp, float]:
    """The default rule in plain Python: at session k the last final ratio is the one of
    session k - 1; 1.0 while it is > 1 and for 20 sessions after, else 0.5."""
    ratio = vix_term_structure(md)["ratio"]
    sessions = list(md.price("SPY").loc[start:end].index)
    out: dict[pd.Timestamp, float] = {sessions[0]: 0.0}  # no earlier session in view
    last_inverted = None
    for k in range(1, len(sessions)):
        known = ratio.get(sessions[k - 1], np.nan)
        if known > 1.0:
            last_inverted = k
        raised = last_inverted is not None and k - last_inverted <= 20
        out[sessions[k]] = 1.0 if raised else 0.5
    return out


def test_weights_match_a_hand_computation_on_real_sessions(bundle: MarketData) -> None:
    start, end = "2019-03-01", "2019-07-31"
    strat = VixHedge()
    weights = strat.target_weights(market_view(strat, bundle, start, end))["SPY"]
    want = hand_weights(bundle, start, end)
    assert weights.to_dict() == pytest.approx(want)
    expected = {
        "2019-03-01": 0.0,  # first bar: the previous session's ratio is not in view
        "2019-05-06": 0.5,
        "2019-05-07": 0.5,  # inverted (1.029) at 16:15 ET, after this bar's close
        "2019-05-08": 1.0,  # the switch: the 05-07 inversion is final
        "2019-07-02": 1.0,  # the 20th session after 06-04, which saw the 06-03 inversion
        "2019-07-03": 0.5,
    }
    for day, w in expected.items():
        assert weights[pd.Timestamp(day, tz=UTC)] == w, day
    ratio = vix_term_structure(bundle)["ratio"]
    assert ratio["2019-05-06"] < 1.0 < ratio["2019-05-07"]
    assert ratio["2019-06-03"] > 1.0 and (ratio["2019-06-04":"2019-07-31"] <= 1.0).all()


def test_a_bar_never_sees_its_own_sessions_ratio(bundle: MarketData) -> None:
    """The engine stamps the ratio at the NYSE close (16:00 ET), the SPY bar's own close
    instant, although Cboe finalises it at 16:15 ET: the strategy lags it one session."""
    strat = VixHedge()
    view = market_view(strat, bundle, "2019-03-01", "2019-04-30")
    ratio = vix_term_structure(bundle).loc["2019-03-01":"2019-04-30"]
    stamped = known_instants(ratio, "XNYS")
    assert stamped[0] == pd.Timestamp("2019-03-01 16:00", tz="America/New_York")
    assert view.signals["vix"]["ratio"].loc["2019-04-01"] == ratio.loc["2019-04-01", "ratio"]
    frame = view.signals["vix"].copy()
    frame.loc["2019-04-01", "ratio"] = 2.0  # a spike on 04-01 only
    spiked = MarketView(view.open, view.high, view.low, view.close, signals={"vix": frame})
    base = strat.target_weights(view)["SPY"]
    got = strat.target_weights(spiked)["SPY"]
    assert got[:"2019-04-01"].equals(base[:"2019-04-01"])  # not seen on its own session
    assert (base["2019-04-02":] == 0.5).all()
    assert (got["2019-04-02":"2019-04-30"] == 1.0).all()  # seen from the next session on


def test_hold_counts_sessions_of_the_traded_symbol() -> None:
    """On merged NYSE and 24/7 rows, crypto bars neither lag nor extend the hold."""
    days = pd.bdate_range("2024-01-01", periods=8, tz=UTC)
    ny = days + pd.Timedelta(hours=21)
    index = ny.append(days + pd.Timedelta(days=1)).sort_values()
    is_ny = index.isin(ny)
    close = pd.DataFrame(
        {"SPY": np.where(is_ny, 100.0, np.nan), "BTC-USD": np.where(is_ny, np.nan, 9.0)},
        index=index,
    )
    ratio = pd.Series(0.9, index=index)
    ratio[index >= ny[2]] = 1.2  # session 2 inverted ...
    ratio[index >= ny[3]] = 0.9  # ... and only session 2
    view = MarketView(close, close, close, close, signals={"vix": pd.DataFrame({"ratio": ratio})})
    w = VixHedge({"hold_sessions": 2}).target_weights(view)
    assert w.loc[is_ny, "SPY"].tolist() == [0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 0.5, 0.5]
    assert w.loc[~is_ny, "SPY"].tolist() == w.loc[is_ny, "SPY"].tolist()
    assert (w["BTC-USD"] == 0).all()


def test_parameters_and_symbols() -> None:
    assert get_strategy("vix_hedge") is VixHedge
    strat = VixHedge()
    assert strat.symbols == ["SPY"] and VixHedge.benchmark == "SPY"
    assert VixHedge.default_universe == "equities"
    assert [r.signal for r in strat.signal_requests().values()] == ["vix_term_structure"]
    assert strat.symbols_for_universe("equities", ["SPY", "QQQ"]) == ["SPY"]
    with pytest.raises(ValidationError):
        VixHedge({"inverted_weight": 1.5})
    with pytest.raises(ValidationError):
        VixHedge({"threshold": 0.5})
    assert VixHedge.search_space()["hold_sessions"] == {
        "type": "int",
        "default": 20,
        "ge": 0,
        "le": 126,
    }


def test_a_run_holds_what_it_asks_for_in_both_simulators(bundle: MarketData) -> None:
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    strat = VixHedge()
    ev = run_market(strat, bundle, cfg, mode="event", start="2019-01-02", end="2020-12-31")
    vec = run_market(strat, bundle, cfg, mode="vector", start="2019-01-02", end="2020-12-31")
    assert vec.equity.to_numpy() == pytest.approx(ev.equity.to_numpy(), rel=1e-9)
    share, gap = settled_gap(ev)
    assert share > 0.8 and gap < 0.05
    held = ev.weights["SPY"]
    assert (held > 0.95).any() and ((held - 0.5).abs() < 0.05).any()
    # the whole COVID spell (2020-02-24..04-23, seen from 02-25) is held at the raised weight
    assert (held["2020-03-02":"2020-05-20"] > 0.95).all()
