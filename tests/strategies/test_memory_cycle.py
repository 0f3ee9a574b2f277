"""memory_cycle: the regime vote by hand on real sessions (New York and Seoul rows), SNDK
joining the basket at its first bar, and a run that holds what it asks for in both
simulators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import market_view, settled_gap
from pydantic import ValidationError

from data.calendars import session_close
from data.market import MarketData
from data.universes import universe
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import run_market
from signals.liquidity import capital_scarcity, liquidity_drain
from signals.rates import yield_trend
from strategies.base import MarketView
from strategies.memory_cycle import MemoryCycle
from strategies.registry import get_strategy

UTC = "UTC"
CHIPS = ["MU", "WDC", "STX", "005930.KS", "000660.KS"]


def hand_regime(md: MarketData, start: str, end: str, dates: list[str]) -> dict[str, str]:
    """The default rule in plain Python: three readings per NYSE session, scarce when at
    least half of the last 10 sessions' 30 readings are (cash before 10 sessions)."""
    z = liquidity_drain(md)["z_13w"]
    rise = yield_trend(md)["change_bp"]
    composite = capital_scarcity(md)["composite"]
    sessions = list(md.price("QQQ").loc[start:end].index)
    votes = [int(z[d] <= 0.0) + int(rise[d] >= 0.0) + int(composite[d] >= 0.0) for d in sessions]
    out = {}
    for day in dates:
        k = sessions.index(pd.Timestamp(day, tz=UTC))
        if k < 9:
            out[day] = "cash"
        else:
            out[day] = "chips" if 2 * sum(votes[k - 9 : k + 1]) >= 30 else "QQQ"
    return out


def test_weights_match_a_hand_computation_on_real_sessions(bundle: MarketData) -> None:
    start, end = "2019-03-01", "2019-07-31"
    strat = MemoryCycle()
    weights = strat.target_weights(market_view(strat, bundle, start, end))
    states = {
        "2019-03-13": "cash",  # 9 sessions in view: the pool is not full yet
        "2019-03-14": "QQQ",  # yields falling, composite < 0: 5 of 30 readings scarce
        "2019-05-07": "QQQ",  # 14 of 30
        "2019-05-08": "chips",  # 15 of 30: drain and composite scarce since 05-02
        "2019-06-20": "chips",  # 15 of 30
        "2019-06-21": "QQQ",  # 13 of 30: liquidity no longer draining
    }
    assert hand_regime(bundle, start, end, list(states)) == states
    want = {"cash": [0.0] * 6, "QQQ": [0.0] * 5 + [1.0], "chips": [0.2] * 5 + [0.0]}
    for day, state in states.items():
        d = pd.Timestamp(day, tz=UTC)
        ny = session_close(pd.DatetimeIndex([d]), "XNYS")[0]
        assert weights.loc[ny, CHIPS + ["QQQ"]].tolist() == pytest.approx(want[state]), day
        # the next Seoul close sees the same New York decision (Korea closes first)
        seoul = weights.index[(weights.index > ny) & (weights.index.hour == 6)][0]
        assert weights.loc[seoul, CHIPS + ["QQQ"]].tolist() == pytest.approx(want[state]), day
    assert np.isfinite(weights.to_numpy()).all()
    assert (weights.sum(axis=1) <= 1.0 + 1e-12).all() and (weights >= 0).all().all()


def test_the_readings_on_the_switch_dates(bundle: MarketData) -> None:
    """What the hand computation rests on, from the signal modules directly."""
    z = liquidity_drain(bundle)["z_13w"]
    composite = capital_scarcity(bundle)["composite"]
    rise = yield_trend(bundle)["change_bp"]
    assert z["2019-05-08"] == pytest.approx(-0.826, abs=1e-3)
    assert composite["2019-05-08"] == pytest.approx(0.130, abs=1e-3)
    assert rise["2019-05-08"] == pytest.approx(-21.0)  # 2.49% vs 2.70% on 2019-02-06
    assert z["2019-06-21"] == pytest.approx(0.036, abs=1e-3)


def test_sndk_joins_the_basket_at_its_first_bar(bundle: MarketData) -> None:
    strat = MemoryCycle(symbols=[*CHIPS, "SNDK", "QQQ"])
    weights = strat.target_weights(market_view(strat, bundle, "2024-12-02", "2025-03-31"))
    first = bundle.price("SNDK").index[0]
    assert first == pd.Timestamp("2025-02-13", tz=UTC)
    at_first = session_close(pd.DatetimeIndex([first]), "XNYS")[0]
    before = weights.loc[: at_first - pd.Timedelta(seconds=1)]
    after = weights.loc[at_first:]
    assert (before["SNDK"] == 0).all()
    chip_rows = after["QQQ"] == 0
    assert chip_rows.loc[at_first]  # the regime reads scarce on 2025-02-13
    np.testing.assert_allclose(after.loc[chip_rows, CHIPS + ["SNDK"]], 1 / 6)
    assert before.loc["2025-02-12", CHIPS].to_numpy() == pytest.approx(0.2)


def test_parameters_and_symbols() -> None:
    assert get_strategy("memory_cycle") is MemoryCycle
    strat = MemoryCycle()
    assert strat.symbols == [*CHIPS, "QQQ"]
    assert MemoryCycle.default_universe == "memory" and MemoryCycle.benchmark == "QQQ"
    assert set(MemoryCycle.default_symbols) - {"QQQ"} <= set(universe("memory"))
    assert strat.symbols_for_universe("memory", universe("memory"))[-1] == "QQQ"
    assert strat.required_symbols() == ["QQQ"]  # chip makers join the basket when they list
    requests = strat.signal_requests()
    assert {r.signal for r in requests.values()} == {
        "liquidity_drain",
        "yield_trend",
        "capital_scarcity",
    }
    assert requests["scarcity"].params == {"drain_weeks": 13, "trend_days": 91}
    with pytest.raises(ValidationError):
        MemoryCycle({"min_share": 0.0})
    with pytest.raises(ValidationError):
        MemoryCycle({"drain_weeks": 8})
    idx = pd.date_range("2024-01-01", periods=3, tz=UTC)
    only_chips = pd.DataFrame({"MU": 1.0}, index=idx)
    with pytest.raises(ValueError, match="memory_cycle trades QQQ"):
        strat.target_weights(MarketView(only_chips, only_chips, only_chips, only_chips))


def test_a_run_holds_what_it_asks_for_in_both_simulators(bundle: MarketData) -> None:
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    strat = MemoryCycle()
    ev = run_market(strat, bundle, cfg, mode="event", start="2019-01-02", end="2020-12-31")
    vec = run_market(strat, bundle, cfg, mode="vector", start="2019-01-02", end="2020-12-31")
    assert vec.equity.to_numpy() == pytest.approx(ev.equity.to_numpy(), rel=1e-9)
    share, gap = settled_gap(ev)
    assert share > 0.8 and gap < 0.05
    assert set(ev.orders["symbol"]) == {*CHIPS, "QQQ"}
    held = ev.weights
    assert (held["QQQ"] > 0.95).any() and (held[CHIPS].sum(axis=1) > 0.95).any()
    assert ev.stats()["periods_per_year"] == 252  # NYSE and Seoul sessions, no 24/7 bars
