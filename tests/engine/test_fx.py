"""KRW-quoted stocks in a USD portfolio: OHLC / DEXKOUS known at the Seoul close.

The numbers below are typed from the shared CSVs (prices/000660.KS_SKHYNIX.csv and
macro/DEXKOUS.csv), not read back through the code under test. A Seoul session on
date D closes at 15:30 KST (06:30 UTC), before New York noon of D, so it uses the
noon rate of the previous New York business day.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from test_parity import assert_same

from data.errors import StaleDataWarning, StaleRateWarning
from data.market import MarketData
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import bars_from_market, market_bars, run_market
from strategies.base import MarketView, Strategy

UTC = "UTC"


class HalfTrend(Strategy):
    """0.45 in each symbol while its close is above its 10-bar mean (own sessions), else 0."""

    name = "half_trend"

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        out = {}
        for col in view.close.columns:
            own = view.close[col].dropna()
            on = (own > own.rolling(10).mean()).astype(float) * 0.45
            out[col] = on.reindex(view.close.index).ffill().fillna(0.0)
        return pd.DataFrame(out, index=view.close.index)


def _seoul(bars, symbol: str = "000660.KS") -> pd.DataFrame:
    """The converted OHLC of one symbol on its own sessions, indexed by session date."""
    k = bars.symbols.index(symbol)
    rows = bars.tradable[:, k]
    frame = pd.DataFrame(
        {f: getattr(bars, f)[rows, k] for f in ("open", "high", "low", "close")},
        index=bars.index[rows],
    )
    return frame.set_axis(frame.index.normalize())


def test_sk_hynix_in_usd_by_hand(bundle):
    bars, _ = bars_from_market(bundle, ["000660.KS"], start="2024-07-01", end="2024-07-09")
    usd = _seoul(bars)
    # Tuesday 2024-07-02: 232,000 KRW at the close / Monday 07-01's noon rate 1383.00
    assert usd.loc["2024-07-02", "close"] == pytest.approx(232000.0 / 1383.00, rel=1e-15)
    # one rate for the whole bar: open 235,500, high 237,000, low 230,500 (same rate)
    assert usd.loc["2024-07-02", "open"] == pytest.approx(235500.0 / 1383.00, rel=1e-15)
    assert usd.loc["2024-07-02", "high"] == pytest.approx(237000.0 / 1383.00, rel=1e-15)
    assert usd.loc["2024-07-02", "low"] == pytest.approx(230500.0 / 1383.00, rel=1e-15)
    # Monday 2024-07-08 uses Friday 07-05's rate 1379.87 (not Monday's 1382.73)
    assert usd.loc["2024-07-08", "close"] == pytest.approx(233500.0 / 1379.87, rel=1e-15)
    # Monday 2024-07-01 uses Friday 06-28's 1376.55 (not Monday's own 1383.00)
    assert usd.loc["2024-07-01", "close"] == pytest.approx(235500.0 / 1376.55, rel=1e-15)


def test_us_holidays_use_the_last_new_york_business_day(bundle):
    bars, _ = bars_from_market(bundle, ["SKHYNIX"], start="2024-01-12", end="2024-11-29")
    usd = _seoul(bars, "SKHYNIX")
    # Independence Day (Thu 2024-07-04) has no rate: Seoul Friday 07-05 (236,000) uses
    # Wednesday 07-03's 1384.85, like Seoul Thursday 07-04 (230,000)
    assert usd.loc["2024-07-05", "close"] == pytest.approx(236000.0 / 1384.85, rel=1e-15)
    assert usd.loc["2024-07-04", "close"] == pytest.approx(230000.0 / 1384.85, rel=1e-15)
    # Martin Luther King Day (Mon 2024-01-15): Seoul Tuesday 01-16 (132,100) still uses
    # Friday 01-12's 1313.41, and so does Seoul Monday 01-15 (134,100)
    assert usd.loc["2024-01-16", "close"] == pytest.approx(132100.0 / 1313.41, rel=1e-15)
    assert usd.loc["2024-01-15", "close"] == pytest.approx(134100.0 / 1313.41, rel=1e-15)
    # Thanksgiving (Thu 2024-11-28): Seoul Friday 11-29 (159,900) uses Wed 11-27's 1391.14
    assert usd.loc["2024-11-29", "close"] == pytest.approx(159900.0 / 1391.14, rel=1e-15)


def test_every_bar_uses_the_last_rate_dated_before_its_session(bundle):
    """Independent rule over 2016-2025: the rate of a Seoul session dated D is the
    DEXKOUS observation with the latest date strictly before D."""
    bars, _ = bars_from_market(bundle, ["005930.KS"], start="2016-08-08", end="2025-12-31")
    usd = _seoul(bars, "005930.KS")
    raw = bundle.price("005930.KS").loc["2016-08-08":"2025-12-31"]
    rates = bundle.series("DEXKOUS")
    pos = rates.index.searchsorted(raw.index, side="left") - 1  # dated before D
    expected = raw["close"].to_numpy() / rates.to_numpy()[pos]
    np.testing.assert_allclose(usd["close"].to_numpy(), expected, rtol=1e-15)
    # SPY and other USD symbols are untouched
    spy, _ = bars_from_market(bundle, ["SPY"], start="2024-07-01", end="2024-07-09")
    same, _ = bars_from_market(bundle, ["SPY"], start="2024-07-01", end="2024-07-09", currency=None)
    assert np.array_equal(spy.close, same.close)


def _rewritten(md: MarketData, after: str, factor: float) -> MarketData:
    """``md`` with every DEXKOUS value dated after ``after`` multiplied by ``factor``."""
    frame = md.macro["DEXKOUS"].copy()
    later = frame.index > pd.Timestamp(after, tz=UTC)
    frame.loc[later, "value"] = frame.loc[later, "value"] * factor
    return MarketData(md.prices, {**md.macro, "DEXKOUS": frame}, md.events, md.info, md.quirks)


def test_rates_published_later_never_reach_earlier_bars(bundle):
    """Rewrite every DEXKOUS value dated after Wed 2024-07-03 (x1.5). Seoul bars through
    Friday 07-05 use at most 07-03's noon rate (07-04 is a US holiday), so they are
    unchanged; from Monday 07-08 (Friday 07-05's rate) on they change."""
    other = _rewritten(bundle, "2024-07-03", 1.5)
    symbols = ["000660.KS", "SPY"]
    base, _ = bars_from_market(bundle, symbols, start="2024-06-03", end="2024-08-30")
    moved, _ = bars_from_market(other, symbols, start="2024-06-03", end="2024-08-30")
    a, b = _seoul(base), _seoul(moved)
    assert a.loc[:"2024-07-05"].equals(b.loc[:"2024-07-05"])
    assert (b.loc["2024-07-08":, "close"] < a.loc["2024-07-08":, "close"]).all()
    # a whole run: equity, positions and orders up to the 07-08 Seoul close do not move
    cfg = BacktestConfig(costs=CostModel(fees=0.001))
    kw = {"symbols": symbols, "start": "2024-06-03", "end": "2024-08-30"}
    r1 = run_market(HalfTrend(), bundle, cfg, **kw)
    r2 = run_market(HalfTrend(), other, cfg, **kw)
    cut = pd.Timestamp("2024-07-08 06:30", tz=UTC)
    before = r1.equity.index < cut
    assert r1.equity[before].equals(r2.equity[before])
    assert r1.positions[before].equals(r2.positions[before])
    o1, o2 = r1.orders, r2.orders
    pd.testing.assert_frame_equal(
        o1[o1["date"] < cut].reset_index(drop=True), o2[o2["date"] < cut].reset_index(drop=True)
    )
    assert not r1.equity.equals(r2.equity)  # the rewrite does reach the later bars


def test_stale_rate_after_dexkous_ends(bundle):
    # Monday 2026-03-30 legitimately uses Friday 03-27's rate: not stale yet
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleDataWarning)
        bars, _, fx = market_bars(bundle, ["000660.KS"], start="2026-03-23", end="2026-03-30")
    assert fx.stale_from is None
    assert _seoul(bars).loc["2026-03-30", "close"] == pytest.approx(873000.0 / 1509.86)
    # Tuesday 03-31 should see Monday's rate, which the series does not have: stale
    with pytest.warns(StaleRateWarning, match="DEXKOUS ends 2026-03-27"):
        bars, _, fx = market_bars(bundle, ["000660.KS"], start="2026-03-23", end="2026-04-09")
    assert fx.stale_from == "2026-03-27"
    usd = _seoul(bars)
    assert usd.loc["2026-03-31", "close"] == pytest.approx(807000.0 / 1509.86, rel=1e-15)
    assert usd.loc["2026-04-09", "close"] == pytest.approx(998000.0 / 1509.86, rel=1e-15)
    # the run says so in its manifest (and warns, which the CLI prints as stale data)
    with pytest.warns(StaleRateWarning):
        res = run_market(
            HalfTrend(), bundle, symbols=["SKHYNIX", "SPY"], start="2026-01-02", end="2026-06-30"
        )
    assert res.manifest["fx"] == {
        "currency": "USD",
        "converted": ["SKHYNIX"],
        "rate": "DEXKOUS",
        "stale_from": "2026-03-27",
    }


def test_manifest_says_what_was_converted(bundle):
    res = run_market(
        HalfTrend(), bundle, symbols=["SAMSUNG", "000660.KS", "SPY"], start="2024-01-02",
        end="2024-06-28",
    )  # fmt: skip
    assert res.manifest["fx"] == {
        "currency": "USD",
        "converted": ["SAMSUNG", "000660.KS"],
        "rate": "DEXKOUS",
        "stale_from": None,
    }
    info = res.manifest["data"]["symbols_info"]
    assert info["SAMSUNG"]["currency"] == "USD"
    assert info["SAMSUNG"]["quote_currency"] == "KRW"
    assert "converted KRW -> USD at DEXKOUS" in info["SAMSUNG"]["prices"]
    assert info["SPY"]["currency"] == "USD" and "converted" not in info["SPY"]["prices"]
    # as quoted: nothing converted, the prices are KRW
    raw = run_market(
        HalfTrend(), bundle, symbols=["SAMSUNG", "SPY"], start="2024-01-02", end="2024-06-28",
        currency=None,
    )  # fmt: skip
    assert raw.manifest["fx"]["converted"] == [] and raw.manifest["fx"]["currency"] is None
    assert raw.manifest["data"]["symbols_info"]["SAMSUNG"]["currency"] == "KRW"
    first = raw.orders[raw.orders["symbol"] == "SAMSUNG"]["price"].iloc[0]
    assert first > 10_000  # a KRW price, not ~50 USD


def test_a_currency_without_a_rate_is_a_clear_error(bundle):
    info = dict(bundle.info)
    info["SPY"] = info["SPY"].model_copy(update={"currency": "EUR"})
    euro = MarketData(bundle.prices, bundle.macro, bundle.events, info, bundle.quirks)
    with pytest.raises(ValueError, match=r"SPY is quoted in EUR.*currency=None"):
        bars_from_market(euro, ["SPY"], start="2024-01-02", end="2024-01-31")
    bars, _ = bars_from_market(euro, ["SPY"], start="2024-01-02", end="2024-01-31", currency=None)
    assert bars.n_bars == 21
    # the rate series not loaded
    no_fx = MarketData(
        bundle.prices,
        {k: v for k, v in bundle.macro.items() if k != "DEXKOUS"},
        bundle.events,
        bundle.info,
    )
    with pytest.raises(ValueError, match=r"needs the macro series DEXKOUS"):
        bars_from_market(no_fx, ["SKHYNIX"], start="2024-01-02", end="2024-01-31")
    # no rate known yet at the bar's close
    late = MarketData(
        bundle.prices,
        {**bundle.macro, "DEXKOUS": bundle.macro["DEXKOUS"].loc["2024-01-10":]},
        bundle.events,
        bundle.info,
    )
    with pytest.raises(ValueError, match=r"no DEXKOUS rate .* bar of 2024-01-02"):
        bars_from_market(late, ["SKHYNIX"], start="2024-01-02", end="2024-01-31")
    with pytest.raises(ValueError, match="currency must be"):
        bars_from_market(bundle, ["SPY"], currency="EUR")


@pytest.mark.parametrize("fill", ["next_open", "close"])
def test_event_and_vector_agree_with_a_krw_stock_and_spy(bundle, fill):
    cfg = BacktestConfig(costs=CostModel(fees=0.001), fill=fill)
    kw = {"symbols": ["000660.KS", "SPY"], "start": "2023-01-02", "end": "2024-12-30"}
    ev = run_market(HalfTrend(), bundle, cfg, mode="event", **kw)
    vec = run_market(HalfTrend(), bundle, cfg, mode="vector", **kw)
    assert_same(ev, vec)
    fills = ev.orders[(ev.orders["symbol"] == "000660.KS") & (ev.orders["status"] == "filled")]
    assert len(fills) > 10
    # every Hynix fill is the KRW price of its session / the rate dated before it
    raw = bundle.price("000660.KS")
    rates = bundle.series("DEXKOUS")
    days = pd.DatetimeIndex(fills["date"]).normalize()
    rate = rates.to_numpy()[rates.index.searchsorted(days, side="left") - 1]
    krw = raw.loc[days, "open" if fill == "next_open" else "close"].to_numpy()
    np.testing.assert_allclose(fills["price"].to_numpy(), krw / rate, rtol=1e-12)
