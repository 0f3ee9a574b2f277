"""Data that ends: a symbol whose data stops before the run's last bar is closed at its
last bar and never traded again (engine/market.py, ``manifest["data_end"]``).

In the bundle BTC-USD ends 2026-06-05 (a Friday) while SPY goes on to 2026-08-20. The
prices below are typed from the shared CSVs (prices/BTC-USD.csv, prices/MU.csv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_parity import assert_same

from data.calendars import session_close
from data.market import MarketData
from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import run_market
from strategies.base import MarketView, Strategy

UTC = "UTC"
BTC_LAST_OPEN = 63812.18  # BTC-USD 2026-06-05 open
BTC_LAST_CLOSE = 61488.45  # BTC-USD 2026-06-05 close


class Hold(Strategy):
    """0.45 of the portfolio in each symbol on every bar."""

    name = "hold"

    def target_weights(self, view: MarketView) -> pd.DataFrame:
        return pd.DataFrame(0.45, index=view.close.index, columns=view.close.columns)


def _only_spy_moves(res, spy_close: pd.Series, after: pd.Timestamp) -> None:
    """From ``after`` on: cash is constant and equity = cash + SPY units x SPY close."""
    rows = res.equity.index >= after
    cash = res.cash[rows]
    assert (cash == cash.iloc[0]).all()
    units = res.positions.loc[rows, "SPY"]
    assert (units == units.iloc[0]).all()
    close = spy_close.reindex(res.equity.index).ffill()[rows]
    np.testing.assert_allclose(res.equity[rows], cash + units * close, rtol=1e-12)


@pytest.mark.parametrize("mode", ["event", "vector"])
def test_btc_is_sold_at_its_last_open_and_never_traded_again(bundle, mode):
    res = run_market(Hold(), bundle, mode=mode, symbols=["SPY", "BTC-USD"], start="2026-05-01")
    assert res.manifest["data_end"] == {"BTC-USD": "2026-06-05"}
    btc = res.orders[res.orders["symbol"] == "BTC-USD"]
    assert btc["side"].tolist() == ["buy", "sell"]
    sale = btc.iloc[-1]
    # decided at the close of 06-04 (its second-to-last bar), filled at 06-05's open,
    # recorded on 06-05's bar row (its close, 2026-06-06 00:00 UTC)
    assert sale["price"] == pytest.approx(BTC_LAST_OPEN, rel=1e-12)
    assert str(sale["date"]) == "2026-06-06 00:00:00+00:00"
    assert sale["size"] == pytest.approx(-btc.iloc[0]["size"], rel=1e-12)
    held = res.positions["BTC-USD"]
    assert (held[held.index >= sale["date"]] == 0.0).all()
    assert res.equity.index[-1] == pd.Timestamp("2026-08-20 20:00", tz=UTC)  # SPY goes on
    spy = bundle.price("SPY")
    spy_close = spy["adj_close"].set_axis(session_close(spy.index, "XNYS"))
    _only_spy_moves(res, spy_close, sale["date"])


def test_close_fills_sell_at_the_last_close_and_both_simulators_agree(bundle):
    cfg = BacktestConfig(costs=CostModel(fees=0.001), fill="close")
    kw = {"symbols": ["SPY", "BTC-USD"], "start": "2026-05-01"}
    ev = run_market(Hold(), bundle, cfg, mode="event", **kw)
    vec = run_market(Hold(), bundle, cfg, mode="vector", **kw)
    assert_same(ev, vec)
    sale = ev.orders[ev.orders["symbol"] == "BTC-USD"].iloc[-1]
    assert sale["side"] == "sell"
    assert sale["price"] == pytest.approx(BTC_LAST_CLOSE, rel=1e-12)
    assert str(sale["date"]) == "2026-06-06 00:00:00+00:00"
    assert ev.positions["BTC-USD"].iloc[-1] == 0.0
    # next-open fills agree too
    ev = run_market(Hold(), bundle, mode="event", **kw)
    vec = run_market(Hold(), bundle, mode="vector", **kw)
    assert_same(ev, vec)


def test_a_window_that_ends_with_the_data_closes_nothing(bundle):
    res = run_market(
        Hold(), bundle, symbols=["SPY", "BTC-USD"], start="2026-05-01", end="2026-06-05"
    )
    assert res.manifest["data_end"] == {}
    assert (res.orders["side"] == "buy").all()
    assert res.positions["BTC-USD"].iloc[-1] > 0.0


def test_a_truncated_symbol_on_one_calendar(bundle):
    """MU cut after Friday 2024-06-28 in a MarketData while SPY goes on: sold at its last
    open (total-return adjusted, as the run trades it), flat afterwards."""
    prices = {**bundle.prices, "MU": bundle.prices["MU"].loc[:"2024-06-28"]}
    md = MarketData(prices, bundle.macro, bundle.events, bundle.info, bundle.quirks)
    cfg = BacktestConfig(costs=CostModel(fees=0.0005))
    kw = {"symbols": ["SPY", "MU"], "start": "2024-04-01", "end": "2024-09-30"}
    ev = run_market(Hold(), md, cfg, mode="event", **kw)
    vec = run_market(Hold(), md, cfg, mode="vector", **kw)
    assert_same(ev, vec)
    assert ev.manifest["data_end"] == {"MU": "2024-06-28"}
    sale = ev.orders[ev.orders["symbol"] == "MU"].iloc[-1]
    assert sale["side"] == "sell" and str(sale["date"].date()) == "2024-06-28"
    # 2024-06-28: open 132.82, close 131.53, adj_close 130.6138 (total-return factor)
    assert sale["price"] == pytest.approx(132.82 * 130.6138 / 131.53, rel=1e-12)
    assert (ev.positions.loc["2024-06-28":, "MU"] == 0.0).all()
    assert (ev.positions.loc[:"2024-06-27", "MU"].iloc[-1]) > 0.0
    spy = bundle.price("SPY")
    _only_spy_moves(ev, spy["adj_close"], pd.Timestamp("2024-06-28", tz=UTC))
    # the same run on the untruncated bundle keeps MU
    full = run_market(Hold(), bundle, cfg, mode="event", **kw)
    assert full.manifest["data_end"] == {}
    assert full.positions["MU"].iloc[-1] > 0.0


@pytest.mark.parametrize(
    ("as_of", "last_seoul", "last_spy"),
    [
        ("2024-10-03", "2024-10-02", "2024-10-03"),  # Seoul closed (National Foundation Day)
        ("2024-10-04 12:00", "2024-10-04", "2024-10-03"),  # Seoul closed, New York not yet
    ],
)
def test_holidays_and_time_zones_are_not_an_end(bundle, as_of, last_seoul, last_spy):
    md = bundle.as_of(as_of)
    assert str(md.price("SKHYNIX").index[-1].date()) == last_seoul
    assert str(md.price("SPY").index[-1].date()) == last_spy
    res = run_market(Hold(), md, symbols=["SKHYNIX", "SPY"], start="2024-09-02")
    assert res.manifest["data_end"] == {}
    assert (res.positions.iloc[-1] > 0.0).all()
