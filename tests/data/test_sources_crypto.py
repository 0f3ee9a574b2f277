"""ccxt adapter, offline: recorded Binance JSON goes through ccxt's own request and parsing.

Only the transport is replaced: ``exchange.session`` is a ``requests.Session`` subclass that
answers ``/api/v3/exchangeInfo`` and ``/api/v3/klines`` like Binance (``startTime`` and
``limit`` honoured), so ccxt's ``sign``, ``fetch``, ``parse_json`` and ``parse_ohlcv`` run.
ccxt's rate-limit sleeps are recorded instead of slept.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
import requests

from data.cache import Cache, update
from data.errors import DataError
from data.sources.crypto import fetch_ccxt, make_exchange, unified_symbol

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded"
KLINES = json.loads((RECORDED / "binance_klines_BTCUSDT_1d.json").read_text())
EXCHANGE_INFO = (RECORDED / "binance_exchangeInfo_BTCUSDT.json").read_text()
DAY_MS = 86_400_000


def ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def _response(url: str, status: int, body: str, ctype: str = "application/json"):
    resp = requests.Response()
    resp.status_code = status
    resp.reason = "OK" if status < 400 else "Error"
    resp.url = url
    resp._content = body.encode()
    resp.headers["Content-Type"] = ctype
    return resp


class FakeBinance(requests.Session):
    """Binance's public REST answers from recorded JSON; records every klines request."""

    def __init__(self, klines=None, *, klines_body: str | None = None, honour_start=True):
        super().__init__()
        self.klines = KLINES if klines is None else klines
        self.klines_body = klines_body
        self.honour_start = honour_start
        self.kline_calls: list[dict[str, str]] = []

    def request(self, method, url, **kwargs):
        parts = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/api/v3/exchangeInfo":
            return _response(url, 200, EXCHANGE_INFO)
        if parts.path.endswith("/exchangeInfo"):  # futures markets: none recorded
            return _response(url, 200, '{"symbols": []}')
        if parts.path == "/api/v3/klines":
            self.kline_calls.append(query)
            if self.klines_body is not None:
                return _response(url, 200, self.klines_body, "text/html")
            start = int(query.get("startTime", 0)) if self.honour_start else 0
            stop = int(query.get("endTime", 1 << 62))
            rows = [k for k in self.klines if start <= k[0] <= stop]
            return _response(url, 200, json.dumps(rows[: int(query.get("limit", 500))]))
        return _response(url, 404, '{"code": -1121, "msg": "Invalid symbol."}')


@pytest.fixture
def sleeps(monkeypatch):
    """ccxt's throttle calls time.sleep; record the delays instead of waiting."""
    recorded: list[float] = []
    module = importlib.import_module("ccxt.base.exchange")
    monkeypatch.setattr(module.time, "sleep", recorded.append)
    return recorded


def binance(session: FakeBinance):
    ex = make_exchange("binance")
    ex.session = session
    return ex


def test_pagination_over_three_pages_with_real_values(sleeps):
    session = FakeBinance()
    ex = binance(session)
    frame = fetch_ccxt(
        "BTC/USDT", interval="1d", start="2021-11-01", end="2021-11-13", exchange=ex, limit=5
    )
    assert [int(c["startTime"]) for c in session.kline_calls] == [
        ms("2021-11-01"),
        ms("2021-11-06"),
        ms("2021-11-11"),
    ]
    assert all(c["limit"] == "5" and c["symbol"] == "BTCUSDT" for c in session.kline_calls)
    assert len(frame) == 12
    assert frame.loc[pd.Timestamp("2021-11-08", tz="UTC"), "close"] == 67566.83
    assert frame.loc[pd.Timestamp("2021-11-08", tz="UTC"), "high"] == 67673.74
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert str(frame.index.tz) == "UTC" and frame.index.is_unique
    # Rate limit respected: ccxt throttled between the requests, never more than rateLimit.
    assert len(sleeps) >= 2
    assert all(0 < s <= ex.rateLimit / 1000 for s in sleeps)


def test_stops_at_end_without_extra_requests(sleeps):
    session = FakeBinance()
    frame = fetch_ccxt(
        "BTC/USDT", start="2021-11-01", end="2021-11-04", exchange=binance(session), limit=5
    )
    assert len(session.kline_calls) == 1
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2021-11-01", "2021-11-02", "2021-11-03"]


def test_stops_on_an_empty_page(sleeps):
    session = FakeBinance()
    frame = fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session), limit=5)
    assert len(frame) == 12
    # 5 + 5 + 2 bars, then a page past the last bar comes back empty.
    assert len(session.kline_calls) == 4
    assert int(session.kline_calls[-1]["startTime"]) == ms("2021-11-13")


def test_stops_when_a_page_brings_no_progress(sleeps):
    session = FakeBinance(honour_start=False)  # an exchange that ignores since
    frame = fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session), limit=5)
    assert len(session.kline_calls) == 2
    assert len(frame) == 5


def test_dash_symbol_is_unified():
    assert unified_symbol("btc-usdt") == "BTC/USDT"
    assert unified_symbol("BTC/USDT") == "BTC/USDT"


def test_unknown_exchange_id_tells_how_to_list_ids():
    with pytest.raises(DataError) as err:
        make_exchange("notanexchange")
    assert "notanexchange" in str(err.value)
    assert "ccxt.exchanges" in err.value.hint


def test_rate_limit_is_enabled():
    assert make_exchange("kraken").enableRateLimit is True


def test_unknown_symbol_is_a_data_error(sleeps):
    with pytest.raises(DataError, match="does not list NOPE/USDT"):
        fetch_ccxt("NOPE/USDT", start="2021-11-01", exchange=binance(FakeBinance()))


def test_unknown_timeframe_is_a_data_error():
    with pytest.raises(DataError, match="unknown interval"):
        fetch_ccxt("BTC/USDT", interval="2d", exchange=binance(FakeBinance()))


def test_html_instead_of_json_is_a_data_error(sleeps):
    session = FakeBinance(klines_body="<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(DataError, match="binance"):
        fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session))


def test_candles_missing_fields_are_a_data_error(sleeps):
    session = FakeBinance(klines=[[ms("2021-11-01"), "61320.45"]])
    with pytest.raises(DataError, match="lacks open/high/low/close"):
        fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session))


def test_empty_json_gives_no_bars_and_update_refuses_an_empty_frame(sleeps, tmp_path):
    session = FakeBinance(klines_body="{}")
    ex = binance(session)
    assert fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=ex).empty

    def fetcher(symbol, *, interval, start, end):
        return fetch_ccxt(symbol, interval=interval, start=start, end=end, exchange=ex)

    with pytest.raises(DataError, match="nothing cached"):
        update("BTC/USDT", "ccxt", start="2021-11-01", cache=Cache(tmp_path), fetcher=fetcher)


def test_incremental_update_asks_binance_only_from_the_last_cached_bar(sleeps, tmp_path):
    session = FakeBinance()
    ex = binance(session)

    def fetcher(symbol, *, interval, start, end):
        return fetch_ccxt(symbol, interval=interval, start=start, end=end, exchange=ex, limit=5)

    cache = Cache(tmp_path)
    first = update(
        "BTC/USDT", "ccxt", start="2021-11-01", end="2021-11-06", cache=cache, fetcher=fetcher
    )
    assert first.index[-1] == pd.Timestamp("2021-11-05", tz="UTC")
    session.kline_calls.clear()

    full = update("BTC/USDT", "ccxt", cache=cache, fetcher=fetcher)
    assert int(session.kline_calls[0]["startTime"]) == ms("2021-11-05")
    assert len(full) == 12
    assert full.loc[pd.Timestamp("2021-11-08", tz="UTC"), "close"] == 67566.83
    path = cache.path("BTC/USDT", "ccxt", exchange="binance")
    assert path.parent.parent.name == "ccxt-binance" and path.exists()


def test_http_error_status_is_a_data_error(sleeps, monkeypatch):
    session = FakeBinance()
    monkeypatch.setattr(
        session,
        "request",
        lambda method, url, **kw: _response(url, 502, "<html>502 Bad Gateway</html>", "text/html"),
    )
    with pytest.raises(DataError, match="binance request failed"):
        fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session))
