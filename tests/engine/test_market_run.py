"""MarketData -> bars and point-in-time signals -> both simulators (engine/market.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import bars_from_market, run_market, signal_on_bars, warmup_end
from signals.buyback import blackout_share
from signals.liquidity import liquidity_drain
from strategies.registry import get_strategy

UTC = "UTC"


def test_total_return_adjustment_by_hand(bundle):
    bars, cals = bars_from_market(bundle, ["SPY"], start="2020-03-16", end="2020-03-20")
    raw = bundle.price("SPY").loc["2020-03-16":"2020-03-20"]
    factor = raw["adj_close"] / raw["close"]
    assert cals == {"SPY": "XNYS"}
    assert np.allclose(bars.open[:, 0], raw["open"] * factor, rtol=0, atol=0)
    assert np.allclose(bars.close[:, 0], raw["adj_close"], rtol=1e-15)
    assert factor.iloc[0] < 1.0  # dividends since then: the adjustment is real
    unadjusted, _ = bars_from_market(bundle, ["SPY"], start="2020-03-16", adjust=False)
    assert unadjusted.open[0, 0] == raw["open"].iloc[0]


def test_raw_prices_stay_as_traded(bundle):
    # currency=None: as quoted (KRW); the default converts to USD (tests/engine/test_fx.py)
    bars, cals = bars_from_market(
        bundle, ["000660.KS"], start="2024-01-02", end="2024-01-05", currency=None
    )
    assert cals["000660.KS"] == "XKRX"
    raw = bundle.price("000660.KS").loc["2024-01-02":"2024-01-05"]
    assert bars.close[:, 0].tolist() == raw["close"].tolist()


def test_three_calendars_merge_on_close_instants(bundle):
    symbols = ["000660.KS", "SPY", "BTC-USD"]
    bars, _ = bars_from_market(bundle, symbols, start="2024-03-04", end="2024-03-05")
    # Seoul closes 06:30 UTC, New York 21:00 UTC (EST), the crypto day at 00:00 next day
    expected = pd.DatetimeIndex(
        [
            "2024-03-04 06:30",
            "2024-03-04 21:00",
            "2024-03-05 00:00",
            "2024-03-05 06:30",
            "2024-03-05 21:00",
            "2024-03-06 00:00",
        ],
        tz=UTC,
    )
    assert bars.index.equals(expected)
    assert bars.tradable.tolist() == [[k == j % 3 for k in range(3)] for j in range(6)]


def _session_signal(values: list[float], dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"x": values}, index=pd.DatetimeIndex(dates, tz=UTC))


def test_a_session_signal_reaches_only_bars_that_close_after_it():
    sig = _session_signal([1.0, 2.0], ["2024-03-04", "2024-03-05"])  # NYSE, 21:00 UTC
    instants = pd.DatetimeIndex(
        ["2024-03-04 06:30", "2024-03-04 21:00", "2024-03-05 00:00", "2024-03-05 06:30"], tz=UTC
    )
    got = signal_on_bars(sig, "XNYS", instants)["x"].tolist()
    # Seoul 03-04 closes before NY 03-04: nothing known yet; Seoul 03-05 sees NY 03-04
    assert got[0] != got[0]  # NaN
    assert got[1:] == [1.0, 1.0, 1.0]


def test_a_known_at_column_overrides_the_index():
    sig = pd.DataFrame(
        {"x": [1.0, 2.0], "known_at": pd.DatetimeIndex(["2024-03-07 21:30", "2024-03-05"], tz=UTC)},
        index=pd.DatetimeIndex(["2024-03-01", "2024-03-02"], tz=UTC),
    )
    instants = pd.DatetimeIndex(["2024-03-06", "2024-03-07 21:00", "2024-03-08"], tz=UTC)
    assert signal_on_bars(sig, "XNYS", instants)["x"].tolist() == [2.0, 2.0, 1.0]


def test_signals_reach_the_strategy_point_in_time(bundle):
    """The adapter gives each SPY session the liquidity_drain row of that same session."""
    strat = get_strategy("liquidity_rotation")()
    bars, cals = bars_from_market(bundle, ["SPY"], start="2023-01-03", end="2023-03-31")
    from engine.market import signals_for

    got = signals_for(strat, bundle, bars, cals)["drain"]
    want = liquidity_drain(bundle).loc["2023-01-03":"2023-03-31"]
    pd.testing.assert_frame_equal(got, want, check_freq=False)


def test_warmup_waits_for_every_signal_and_symbol(bundle):
    strat = get_strategy("liquidity_rotation")()
    res = run_market(strat, bundle, mode="event", end="2016-12-31")
    btc_first = bundle.price("BTC-USD").index[0]
    assert res.equity.index[0] == btc_first + pd.Timedelta(days=1)  # BTC's first close
    sig = pd.DataFrame({"a": [np.nan, 1.0, 2.0], "b": [0.0, np.nan, 3.0]})
    from engine.bars import bars_from_frames

    frame = pd.DataFrame(
        {f: [1.0, 1.0, 1.0] for f in ("open", "high", "low", "close")},
        index=pd.date_range("2024-01-01", periods=3, tz=UTC),
    )
    assert warmup_end({"s": sig}, bars_from_frames(frame)) == 2


def reference_weights_run(opens, closes, weights, init_cash=100_000.0):
    """Plain Python, no fees: the weight decided at close t is traded at open t + 1."""
    cash, units, equity = init_cash, 0.0, []
    sent = 0.0
    for t in range(len(closes)):
        if t > 0 and weights[t - 1] == weights[t - 1] and weights[t - 1] != sent:
            value = cash + units * opens[t]
            target = weights[t - 1] * value / opens[t]
            cash -= (target - units) * opens[t]
            units = target
            sent = weights[t - 1]
        equity.append(cash + units * closes[t])
    return equity


@pytest.mark.parametrize("mode", ["event", "vector"])
def test_buyback_strategy_matches_a_reference_on_real_data(bundle, mode):
    res = run_market(
        get_strategy("buyback_blackout")(),
        bundle,
        BacktestConfig(costs=CostModel(fees=0.0)),
        mode=mode,
        start="2018-01-02",
        end="2019-12-31",
    )
    spy = bundle.price("SPY").loc["2018-01-02":"2019-12-31"]
    factor = spy["adj_close"] / spy["close"]
    share = blackout_share(bundle)["share_projected"].loc["2018-01-02":"2019-12-31"]
    weights = [0.5 if s >= 0.5 else 1.0 for s in share]
    assert 0.2 < weights.count(0.5) / len(weights) < 0.8  # the signal really switches
    want = reference_weights_run(
        (spy["open"] * factor).tolist(), spy["adj_close"].tolist(), weights
    )
    assert res.equity.to_numpy() == pytest.approx(want, rel=1e-9)


def test_multi_calendar_rotation_agrees_across_simulators(bundle):
    strat = get_strategy("liquidity_rotation")()
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    ev = run_market(strat, bundle, cfg, mode="event", start="2019-01-01", end="2021-12-31")
    vec = run_market(strat, bundle, cfg, mode="vector", start="2019-01-01", end="2021-12-31")
    assert len(ev.orders) > 20
    assert ev.orders["symbol"].nunique() == 4
    assert vec.equity.to_numpy() == pytest.approx(ev.equity.to_numpy(), rel=1e-9)
    assert ev.stats()["periods_per_year"] == 365
    assert ev.manifest["signals"]["drain"]["signal"] == "liquidity_drain"
    assert ev.manifest["data"]["symbols_info"]["MU"]["prices"] == "total return (back-adjusted)"


def test_period_equity_counts_each_utc_day_once(bundle):
    strat = get_strategy("liquidity_rotation")()
    res = run_market(strat, bundle, mode="event", start="2021-01-04", end="2021-03-31")
    daily = res.period_equity()
    assert not daily.index.has_duplicates
    assert len(daily) == len(pd.date_range("2021-01-04", "2021-04-01"))  # incl. BTC's last
    assert len(res.equity) > len(daily)
    r = daily.pct_change().fillna(daily.iloc[0] / res.init_cash - 1.0).to_numpy()
    sharpe = r.mean() / r.std(ddof=1) * np.sqrt(365)
    assert res.stats()["sharpe"] == pytest.approx(sharpe, rel=1e-9)


def test_unknown_symbol_and_empty_window_are_clear(bundle):
    with pytest.raises(ValueError, match="NOPE"):
        bars_from_market(bundle, ["NOPE"])
    with pytest.raises(ValueError, match="no bars for SPY"):
        bars_from_market(bundle, ["SPY"], start="2031-01-01")
    with pytest.raises(ValueError, match="no symbols"):
        bars_from_market(bundle, [])


@pytest.mark.parametrize("tz", [None, "UTC", "Asia/Seoul"])
def test_calendar_inference_agrees_with_pandas_weekdays(tz):
    from data.calendars import calendar_kind, infer_calendar

    rng = np.random.default_rng(7)
    stamps = pd.to_datetime(rng.integers(-(10**18), 2 * 10**18, 400)).floor("min")
    for days in (stamps, stamps[stamps.dayofweek < 5]):
        index = pd.DatetimeIndex(days).sort_values()
        index = index.tz_localize(tz) if tz else index
        want = "24/7" if (index.dayofweek >= 5).any() else "sessions"
        assert calendar_kind(infer_calendar(index)) == want
