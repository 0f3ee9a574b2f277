"""fed_pivot: the rule by hand on real sessions, the hold counted in NYSE sessions, and a
run that holds what it asks for in both simulators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import market_view, settled_gap
from pydantic import ValidationError

from data.calendars import session_close
from data.market import MarketData
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import run_market
from signals.fed import odds_swing_events, rate_cut_odds
from signals.fed_speak import fed_tone
from strategies.base import MarketView
from strategies.fed_pivot import FedPivot
from strategies.registry import get_strategy

UTC = "UTC"


def hand_weights(
    md: MarketData, start: str, end: str, dates: list[str]
) -> dict[str, dict[str, float]]:
    """The default rule in plain Python on the signals computed directly (SPY sessions)."""
    odds = rate_cut_odds(md)["expected_change_bp"]
    fast = fed_tone(md)["tone"]
    slow = fed_tone(md, halflife_days=182.0)["tone"]
    swings = odds_swing_events(md)
    sessions = list(md.price("SPY").loc[start:end].index)
    # hawkish swings detected after the first session of the run (earlier ones not in view)
    hawkish = [h for h, c in zip(swings.index, swings["change"], strict=True) if c < 0]
    hawkish = [h for h in hawkish if sessions[0] < h <= sessions[-1]]
    out = {}
    for day in dates:
        d = pd.Timestamp(day, tz=UTC)
        k = sessions.index(d)
        off = any(0 <= k - sessions.index(h) < 10 for h in hawkish if h <= d)
        on = odds[d] <= -5.0 or fast[d] <= slow[d] - 0.05
        if off:
            out[day] = {"SPY": 0.0, "BTC-USD": 0.0, "TLT": 1.0}
        elif on:
            out[day] = {"SPY": 0.8, "BTC-USD": 0.2, "TLT": 0.0}
        else:
            out[day] = {"SPY": 0.4, "BTC-USD": 0.1, "TLT": 0.0}
    return out


def rows_of(weights: pd.DataFrame, day: str) -> pd.DataFrame:
    """The NYSE row of ``day`` and the 24/7 row after it (the crypto day closing at the
    next midnight UTC), which sees the same signals."""
    ny = session_close(pd.DatetimeIndex([pd.Timestamp(day, tz=UTC)]), "XNYS")[0]
    crypto = pd.Timestamp(day, tz=UTC) + pd.Timedelta(days=1)
    return weights.loc[[ny, crypto]]


@pytest.mark.parametrize(
    ("start", "end", "states"),
    [
        (
            "2019-03-01",
            "2019-07-31",
            {
                # Fed-speak turned dovish (fast tone 0.18 vs slow 0.37): risk on
                "2019-05-01": "on",
                # P(cut) 42.6% -> 11.1% since 05-01: hawkish swing detected, risk off
                "2019-05-02": "off",
                "2019-05-15": "off",  # the 10th session from the detection
                "2019-05-16": "on",  # hold over, still dovish
                "2019-06-21": "on",  # -51.5 bp: a cut priced
            },
        ),
        (
            "2024-01-02",
            "2024-04-30",
            {
                "2024-03-19": "on",  # fast tone 0.11 vs slow 0.31
                "2024-03-20": "neutral",  # statement day: 0.28 vs 0.33, +11 bp priced
                "2024-04-01": "neutral",
            },
        ),
        (
            "2015-06-01",
            "2015-07-31",
            {"2015-06-16": "on", "2015-06-17": "neutral"},  # FOMC 2015-06-17: -0.06 vs -0.07
        ),
    ],
)
def test_weights_match_a_hand_computation_on_real_sessions(
    bundle: MarketData, start: str, end: str, states: dict[str, str]
) -> None:
    strat = FedPivot()
    weights = strat.target_weights(market_view(strat, bundle, start, end))
    want = hand_weights(bundle, start, end, list(states))
    spy = {"on": 0.8, "neutral": 0.4, "off": 0.0}
    for day, state in states.items():
        assert want[day]["SPY"] == spy[state], day  # the hand rule reads the dates as stated
        got = rows_of(weights, day)
        for symbol, w in want[day].items():
            assert got[symbol].tolist() == [pytest.approx(w)] * 2, (day, symbol)
    assert np.isfinite(weights.to_numpy()).all()
    assert (weights.sum(axis=1) <= 1.0 + 1e-12).all() and (weights >= 0).all().all()


def test_the_signals_on_the_switch_dates(bundle: MarketData) -> None:
    """The readings the hand computation above rests on, from the signal modules."""
    odds = rate_cut_odds(bundle)
    swings = odds_swing_events(bundle)
    fast, slow = fed_tone(bundle)["tone"], fed_tone(bundle, halflife_days=182.0)["tone"]
    row = swings.loc["2019-05-02"]
    assert row["start"] == pd.Timestamp("2019-05-01", tz=UTC)
    assert row["from"] == pytest.approx(42.63, abs=0.01)
    assert row["to"] == pytest.approx(11.07, abs=0.01)
    assert odds.loc["2019-06-21", "expected_change_bp"] == pytest.approx(-51.55, abs=0.01)
    assert fast["2024-03-19"] - slow["2024-03-19"] == pytest.approx(-0.197, abs=1e-3)
    assert fast["2024-03-20"] - slow["2024-03-20"] == pytest.approx(-0.044, abs=1e-3)


def synthetic_view(n_sessions: int, swing_at: int | None) -> MarketView:
    """NYSE rows (20:00 UTC) interleaved with 24/7 rows (00:00 UTC): neutral signals and,
    optionally, a hawkish swing first seen at NYSE session ``swing_at``."""
    days = pd.bdate_range("2024-01-01", periods=n_sessions, tz=UTC)
    ny = days + pd.Timedelta(hours=20)
    crypto = days + pd.Timedelta(days=1)
    index = ny.append(crypto).sort_values()
    is_ny = index.isin(ny)
    close = pd.DataFrame(
        {
            "SPY": np.where(is_ny, 100.0, np.nan),
            "BTC-USD": np.where(is_ny, np.nan, 50.0),
            "TLT": np.where(is_ny, 90.0, np.nan),
        },
        index=index,
    )
    start = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    change = pd.Series(np.nan, index=index)
    if swing_at is not None:
        seen = index >= ny[swing_at]
        start[seen] = days[max(swing_at - 2, 0)]
        change[seen] = -40.0
    signals = {
        "odds": pd.DataFrame({"expected_change_bp": 10.0}, index=index),
        "tone": pd.DataFrame({"tone": 0.3}, index=index),
        "tone_slow": pd.DataFrame({"tone": 0.3}, index=index),
        "swings": pd.DataFrame({"start": start, "change": change}),
    }
    return MarketView(close, close, close, close, signals=signals)


def test_the_hold_counts_nyse_sessions_not_bars() -> None:
    strat = FedPivot({"hold_sessions": 3})
    view = synthetic_view(10, swing_at=4)
    regime = strat.regime(view)
    ny = view.close["SPY"].notna().to_numpy()
    assert regime[ny].tolist() == [0, 0, 0, 0, -1, -1, -1, 0, 0, 0]
    # each 24/7 row keeps the state of the NYSE session before it
    assert regime[~ny].tolist() == regime[ny].tolist()
    w = strat.target_weights(view)
    assert w.loc[ny, "TLT"].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert w.loc[ny, "SPY"].tolist() == [0.4] * 4 + [0.0] * 3 + [0.4] * 3


def test_a_swing_known_at_the_first_bar_is_not_acted_on() -> None:
    strat = FedPivot()
    assert (strat.regime(synthetic_view(6, swing_at=0)) == 0).all()


def test_cash_until_a_signal_is_known() -> None:
    view = synthetic_view(4, swing_at=None)
    nan = {k: v * np.nan if k != "swings" else v for k, v in view.signals.items()}
    blank = MarketView(view.open, view.high, view.low, view.close, signals=nan)
    w = FedPivot().target_weights(blank)
    assert (w == 0).all().all()


def test_parameters_and_symbols() -> None:
    assert get_strategy("fed_pivot") is FedPivot
    assert FedPivot().symbols == ["SPY", "BTC-USD", "TLT"] == list(FedPivot.default_symbols)
    assert FedPivot({"equity": "QQQ", "off_asset": "IEF"}).symbols == ["QQQ", "BTC-USD", "IEF"]
    cash = FedPivot({"off_asset": "cash"})
    assert cash.symbols == ["SPY", "BTC-USD"]
    w = cash.target_weights(synthetic_view(8, swing_at=3))
    assert (w.iloc[6:10] == 0).all().all()  # risk off in cash
    assert FedPivot.default_universe == "equities" and FedPivot.benchmark == "SPY"
    assert set(r.signal for r in FedPivot().signal_requests().values()) == {
        "rate_cut_odds",
        "fed_tone",
        "odds_swing_events",
    }
    with pytest.raises(ValidationError, match="equity_weight \\+ btc_weight must be <= 1"):
        FedPivot({"equity_weight": 0.9, "btc_weight": 0.2})
    with pytest.raises(ValidationError, match="must be < slow_halflife_days"):
        FedPivot({"tone_halflife_days": 200})
    with pytest.raises(ValidationError):
        FedPivot({"hold_sessions": 0})
    v = synthetic_view(3, None)
    no_tlt = v.close.drop(columns="TLT")
    with pytest.raises(ValueError, match="fed_pivot trades TLT; not in the data"):
        FedPivot().target_weights(MarketView(no_tlt, no_tlt, no_tlt, no_tlt, v.signals))
    space = FedPivot.search_space()
    assert space["cut_bp"] == {"type": "float", "default": -5.0, "ge": -100.0, "le": 0.0}


def test_a_run_holds_what_it_asks_for_in_both_simulators(bundle: MarketData) -> None:
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    strat = FedPivot()
    ev = run_market(strat, bundle, cfg, mode="event", start="2019-01-02", end="2020-12-31")
    vec = run_market(strat, bundle, cfg, mode="vector", start="2019-01-02", end="2020-12-31")
    assert vec.equity.to_numpy() == pytest.approx(ev.equity.to_numpy(), rel=1e-9)
    share, gap = settled_gap(ev)
    assert share > 0.8 and gap < 0.05
    assert set(ev.orders["symbol"]) == {"SPY", "BTC-USD", "TLT"}
    # every state of the rule is held somewhere in the window
    held = ev.weights
    assert (held["TLT"] > 0.95).any() and (held[["SPY", "BTC-USD"]].sum(axis=1) > 0.95).any()
    assert ((held.sum(axis=1) - 0.5).abs() < 0.05).any()
    assert ev.manifest["signals"]["swings"]["signal"] == "odds_swing_events"
