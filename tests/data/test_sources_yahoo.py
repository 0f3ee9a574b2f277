"""Yahoo adapter, offline: recorded v8 chart JSON goes through yfinance's own parsing.

Only the transport is replaced: a ``requests.Session`` subclass handed to yfinance as its
``session`` answers the cookie, crumb and chart URLs, slicing the recorded bars by the
``period1``/``period2`` the adapter asked for, like Yahoo does.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import requests
import yfinance.cache as yf_cache
from yfinance.data import YfData

from data.cache import Cache, update
from data.errors import DataError
from data.schema import PriceBasis
from data.sources import yahoo
from data.sources.yahoo import fetch_yahoo

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded"
NY = ZoneInfo("America/New_York")


def _response(url: str, status: int, body: str, ctype: str = "application/json"):
    resp = requests.Response()
    resp.status_code = status
    resp.url = url
    resp._content = body.encode()
    resp.headers["Content-Type"] = ctype
    resp.encoding = "utf-8"
    return resp


class FakeYahoo(requests.Session):
    """Yahoo's HTTP endpoints, served from a recorded chart; records every chart request."""

    def __init__(self, chart: dict | None = None, *, status: int = 200, body: str | None = None):
        super().__init__()
        self.chart = chart
        self.status = status
        self.body = body
        self.chart_calls: list[dict] = []

    def _slice(self, params: dict) -> dict:
        if "period1" not in params:
            return self.chart
        out = copy.deepcopy(self.chart)
        res = out["chart"]["result"][0]
        keep = [
            i
            for i, t in enumerate(res.get("timestamp", []))
            if params["period1"] <= t < (params.get("period2") or 1 << 62)
        ]
        if not keep:  # Yahoo's answer to a range without bars
            res.pop("timestamp", None)
            res["indicators"] = {"quote": [{}], "adjclose": [{}]}
            return out
        res["timestamp"] = [res["timestamp"][i] for i in keep]
        quote = res["indicators"]["quote"][0]
        for key in quote:
            quote[key] = [quote[key][i] for i in keep]
        adj = res["indicators"]["adjclose"][0]
        adj["adjclose"] = [adj["adjclose"][i] for i in keep]
        return out

    def get(self, url, params=None, **kwargs):  # noqa: D401 - the transport
        path = urlparse(url).path
        if "fc.yahoo.com" in url:
            return _response(url, 404, "", "text/html")
        if path.endswith("/getcrumb"):
            return _response(url, 200, "recorded-crumb", "text/plain")
        if "/v8/finance/chart/" in path:
            params = dict(params or {})
            self.chart_calls.append(params)
            if self.body is not None:
                return _response(url, self.status, self.body, "text/html")
            return _response(url, self.status, json.dumps(self._slice(params)))
        return _response(url, 404, '{"finance":{"result":null,"error":{"code":"Not Found"}}}')

    def request(self, *args, **kwargs):
        raise AssertionError(f"unexpected request {args}")


@pytest.fixture(autouse=True)
def _isolated_yfinance(monkeypatch):
    """No persistent yfinance caches (tz, cookie) and no in-process response cache."""
    monkeypatch.setattr(yf_cache._TzCacheManager, "_tz_cache", yf_cache._TzCacheDummy())
    monkeypatch.setattr(yf_cache._CookieCacheManager, "_Cookie_cache", yf_cache._CookieCacheDummy())
    YfData.cache_get.cache_clear()
    yield
    YfData.cache_get.cache_clear()


def _chart(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


def _epoch_ny_midnight(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=NY).timestamp())


def test_spy_real_values_end_to_end():
    session = FakeYahoo(_chart("yahoo_chart_SPY_1d.json"))
    frame = fetch_yahoo("SPY", start="2020-03-16", end="2020-03-28", session=session)
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert (frame.dtypes == "float64").all()
    assert str(frame.index.tz) == "UTC" and frame.index.name == "date"
    bar = frame.loc[pd.Timestamp("2020-03-23", tz="UTC")]
    assert bar["close"] == 222.95
    assert bar["open"] == 228.19 and bar["low"] == 218.26
    assert bar["adj_close"] == 204.4163
    assert bar["volume"] == 326025170
    assert len(frame) == 10
    assert yahoo.BASIS is PriceBasis.RAW_TR


def test_daily_bars_are_stamped_midnight_utc_of_the_session_date():
    session = FakeYahoo(_chart("yahoo_chart_SPY_1d.json"))
    frame = fetch_yahoo("SPY", start="2020-03-16", end="2020-03-28", session=session)
    # Yahoo stamps the bars 13:30 UTC (09:30 New York); flowbt stamps the session date.
    assert (frame.index == frame.index.normalize()).all()
    assert frame.index[0] == pd.Timestamp("2020-03-16", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2020-03-27", tz="UTC")


def test_btc_on_yahoo_utc_exchange():
    session = FakeYahoo(_chart("yahoo_chart_BTC-USD_1d.json"))
    frame = fetch_yahoo("BTC-USD", start="2021-11-01", end="2021-11-13", session=session)
    assert frame.loc[pd.Timestamp("2021-11-08", tz="UTC"), "close"] == 67566.83
    assert len(frame) == 12


def test_request_range_follows_start_and_end():
    session = FakeYahoo(_chart("yahoo_chart_SPY_1d.json"))
    frame = fetch_yahoo("SPY", start="2020-03-20", end="2020-03-25", session=session)
    asked = session.chart_calls[-1]
    assert asked["period1"] == _epoch_ny_midnight("2020-03-20")
    assert asked["period2"] == _epoch_ny_midnight("2020-03-25")
    assert asked["interval"] == "1d"
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2020-03-20", "2020-03-23", "2020-03-24"]


def test_range_without_bars_is_an_empty_frame_not_an_error():
    session = FakeYahoo(_chart("yahoo_chart_SPY_1d.json"))
    frame = fetch_yahoo("SPY", start="2020-04-01", end="2020-04-03", session=session)
    assert frame.empty
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]


def test_unknown_symbol_is_a_data_error():
    body = json.dumps(
        {
            "chart": {
                "result": None,
                "error": {
                    "code": "Not Found",
                    "description": "No data found, symbol may be delisted",
                },
            }
        }
    )
    session = FakeYahoo(None, status=404)
    session.body = None
    session._slice = lambda params: json.loads(body)
    with pytest.raises(DataError) as err:
        fetch_yahoo("NOSUCH", start="2020-03-16", end="2020-03-28", session=session)
    assert err.value.symbol == "NOSUCH"
    assert "Yahoo" in str(err.value)


def test_html_page_instead_of_json_is_a_data_error():
    session = FakeYahoo(None, body="<html><body>Will be right back...</body></html>")
    with pytest.raises(DataError, match="Yahoo request failed"):
        fetch_yahoo("SPY", start="2020-03-16", end="2020-03-28", session=session)


def test_chart_missing_indicators_is_a_data_error():
    chart = _chart("yahoo_chart_SPY_1d.json")
    del chart["chart"]["result"][0]["indicators"]
    session = FakeYahoo(chart)
    with pytest.raises(DataError, match="Yahoo request failed"):
        fetch_yahoo("SPY", start="2020-03-16", end="2020-03-28", session=session)


def test_unknown_interval_is_a_data_error():
    with pytest.raises(DataError, match="unknown interval"):
        fetch_yahoo("SPY", interval="7d")


def test_incremental_update_asks_yahoo_only_from_the_last_cached_bar(tmp_path):
    session = FakeYahoo(_chart("yahoo_chart_SPY_1d.json"))

    def fetcher(symbol, *, interval, start, end):
        return fetch_yahoo(symbol, interval=interval, start=start, end=end, session=session)

    cache = Cache(tmp_path)
    first = update(
        "SPY", "yahoo", start="2020-03-16", end="2020-03-21", cache=cache, fetcher=fetcher
    )
    assert first.index[-1] == pd.Timestamp("2020-03-20", tz="UTC")
    session.chart_calls.clear()

    full = update("SPY", "yahoo", end="2020-03-28", cache=cache, fetcher=fetcher)
    chart_requests = [c for c in session.chart_calls if "period1" in c]
    assert chart_requests, "the update should have asked Yahoo for new bars"
    assert chart_requests[-1]["period1"] == _epoch_ny_midnight("2020-03-20")
    assert full.loc[pd.Timestamp("2020-03-23", tz="UTC"), "close"] == 222.95
    assert len(full) == 10
    assert cache.entry("SPY", "yahoo").basis == "raw+tr"
