"""Provider faults, offline: secrets, intervals, yfinance's noise, endless ccxt paging.

Each provider library runs its own code: fredapi through urllib with only the HTTPS
connection replaced (`fred_transport`), yfinance and ccxt with their ``session`` replaced
by the recorded-answer fakes of the adapter tests. Recorded answers are also mutated by
hypothesis: every outcome is a frame or a `DataError`, and a failed refresh leaves the
cache byte-identical.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import logging
import tempfile
import traceback
import warnings
from pathlib import Path

import fred_transport
import numpy as np
import pandas as pd
import pytest
import requests
import yfinance.cache as yf_cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sources_crypto import KLINES, FakeBinance, binance, ms
from test_sources_fred import WALCL, FakeFred
from test_sources_yahoo import FakeYahoo, _chart
from yfinance.data import YfData

from data.cache import Cache, update
from data.errors import DataError, StaleDataWarning
from data.sources import REDACTED, RequestError, check_interval, redact
from data.sources import crypto as crypto_mod
from data.sources import yahoo as yahoo_mod
from data.sources.crypto import fetch_ccxt
from data.sources.fred import fetch_fred, parse_fred_csv
from data.sources.yahoo import fetch_yahoo

SENTINEL = "sentinelKEY0123456789abcdef0001"  # a FRED key is 32 lower-case alphanumerics
FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine
    database=None,  # nothing written beside the tests
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception chained to it (cause or context), as tracebacks show."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def assert_no_secret(exc: BaseException, secret: str = SENTINEL) -> None:
    shown = "".join(traceback.format_exception(exc))
    assert secret not in shown, shown
    for link in chain(exc):
        assert secret not in str(link) and secret not in repr(link)
        assert secret not in json.dumps(getattr(link, "__dict__", {}), default=str)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fred_key(monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", SENTINEL)
    return SENTINEL


@pytest.fixture
def sleeps(monkeypatch):
    recorded: list[float] = []
    module = importlib.import_module("ccxt.base.exchange")
    monkeypatch.setattr(module.time, "sleep", recorded.append)
    return recorded


# --- 1. secrets ------------------------------------------------------------------------


def test_fredapi_path_is_real_and_the_key_goes_only_on_the_wire(monkeypatch, fred_key):
    wire = fred_transport.install(monkeypatch, fred_transport.FredWire())
    frame = fetch_fred("WALCL", session=FakeFred(error=AssertionError("csv used")))
    assert frame.loc[pd.Timestamp("2020-03-18", tz="UTC"), "value"] == 4668212.0
    assert len(frame) == 9
    (request,) = wire.sent
    assert b"/fred/series/observations?series_id=WALCL" in request
    assert f"api_key={SENTINEL}".encode() in request  # fredapi did send it


def test_space_in_a_series_id_does_not_show_the_key(monkeypatch, fred_key):
    """fredapi copies its URL (``...&api_key=KEY``) into http.client's InvalidURL text."""
    wire = fred_transport.install(monkeypatch, fred_transport.FredWire())
    with pytest.raises(DataError) as err:
        fetch_fred("WAL CL")
    assert wire.sent == []  # refused by http.client before anything was sent
    assert "FRED API request failed" in err.value.what
    assert f"api_key={REDACTED}" in err.value.what  # what failed stays readable
    assert_no_secret(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None


def test_fred_error_page_quoting_a_key_is_redacted(monkeypatch, fred_key):
    other = "0123456789abcdef0123456789abcdef"  # not the configured key: caught by its name
    body = fred_transport.error_xml(f"Bad Request. Variable api_key={other} is not registered.")
    fred_transport.install(monkeypatch, fred_transport.FredWire(body, status=400))
    with pytest.raises(DataError, match="not registered") as err:
        fetch_fred("WALCL")
    assert_no_secret(err.value, other)
    assert_no_secret(err.value)


def test_no_key_in_update_errors_warnings_logs_or_the_cache(
    monkeypatch, fred_key, tmp_path, caplog
):
    fred_transport.install(monkeypatch, fred_transport.FredWire())
    caplog.set_level(logging.DEBUG)
    cache = Cache(tmp_path)
    with pytest.raises(DataError) as err:  # nothing cached: an error
        update("WAL CL", "fred", cache=cache)
    assert_no_secret(err.value)

    update("WALCL", "fred", cache=cache)  # the real fredapi path fills the cache
    path = cache.path("WALCL", "fred")
    before = digest(path)
    bad = fred_transport.FredWire(fred_transport.error_xml(f"api_key={SENTINEL} is bad"), 400)
    fred_transport.install(monkeypatch, bad)
    with pytest.warns(StaleDataWarning) as stale:
        update("WALCL", "fred", cache=cache)
    assert all(SENTINEL not in str(w.message) for w in stale)
    assert digest(path) == before
    assert SENTINEL.encode() not in path.read_bytes()
    assert all(SENTINEL not in r.getMessage() for r in caplog.records)


def test_ccxt_credentials_never_reach_the_message(sleeps):
    session = FakeBinance()
    ex = binance(session)
    ex.apiKey, ex.secret = "APIKEYsentinel9876", "SECRETsentinel5432"
    body = '{"code":-2014,"msg":"API-key format invalid: APIKEYsentinel9876 / SECRETsentinel5432"}'

    def reject(method, url, **kwargs):
        resp = requests.Response()
        resp.status_code, resp.reason, resp.url = 401, "Unauthorized", url
        resp._content = body.encode()
        resp.headers["Content-Type"] = "application/json"
        return resp

    session.request = reject
    with pytest.raises(DataError, match="binance request failed") as err:
        fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=ex)
    assert_no_secret(err.value, "APIKEYsentinel9876")
    assert_no_secret(err.value, "SECRETsentinel5432")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET https://api.x/v1?series_id=A&api_key=abc123def456", "abc123def456"),
        ("https://h/p?token=tok_ABCDEF&x=1", "tok_ABCDEF"),
        ("https://h/p?key=K3Y-value&y=2", "K3Y-value"),
        ('binance {"apiKey": "AK-99887766", "secret": "S-11223344"}', "AK-99887766"),
        ('binance {"apiKey": "AK-99887766", "secret": "S-11223344"}', "S-11223344"),
        ("signature=deadbeefcafe&timestamp=1", "deadbeefcafe"),
    ],
)
def test_redact_names_and_values(text, secret):
    out = redact(text)
    assert secret not in out and REDACTED in out


def test_redact_keeps_ordinary_words():
    text = "monkey=3 keyboard=qwerty the key is fine; value=1.5"
    assert redact(text) == text


# --- 2./3. intervals per source ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "good", "bad"),
    [
        ("fred", ["1d"], ["1w", "1h", "../../x", "", "1d/../.."]),
        ("yahoo", ["1m", "1h", "1d", "1w"], ["2d", "1wk", "../x", "1d "]),
        ("ccxt", ["1m", "1h", "1d", "1w"], ["2d", "..", "/tmp"]),
    ],
)
def test_each_source_has_its_own_intervals(source, good, bad):
    for interval in good:
        assert check_interval(interval, source=source) == interval
    for interval in bad:
        with pytest.raises(RequestError, match="unknown interval") as err:
            check_interval(interval, source=source)
        assert "--interval" in err.value.hint and "1d" in err.value.hint


def test_unknown_interval_is_not_a_network_problem(tmp_path):
    asked = []

    def fetcher(symbol, *, interval, start, end):
        asked.append(interval)
        return fetch_yahoo(symbol, interval=interval, start=start, end=end)

    with pytest.raises(DataError) as err:
        update("SPY", "yahoo", "2d", cache=Cache(tmp_path), fetcher=fetcher)
    line = err.value.one_line()
    assert "unknown interval '2d' for source yahoo" in line
    assert "1m, 5m, 15m, 30m, 1h, 1d, 1w" in line
    assert "network" not in line and "check the symbol" not in line
    assert asked == []  # refused before any request


def test_timeframe_the_exchange_lacks_is_not_served_stale(sleeps, tmp_path):
    ex = binance(FakeBinance())
    cache = Cache(tmp_path)
    seed = fetch_ccxt("BTC/USDT", start="2021-11-01", end="2021-11-03", exchange=ex)
    cache.write(seed, "BTC/USDT", "ccxt", "1h", exchange="binance")
    ex.timeframes = {k: v for k, v in ex.timeframes.items() if k != "1h"}

    def fetcher(symbol, *, interval, start, end):
        return fetch_ccxt(symbol, interval=interval, start=start, end=end, exchange=ex)

    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleDataWarning)  # a stale fallback would fail here
        with pytest.raises(RequestError, match="binance has no 1h candles") as err:
            update("BTC/USDT", "ccxt", "1h", cache=cache, fetcher=fetcher)
    assert "network" not in err.value.one_line()


# --- 4. yfinance: its logs, its caches ---------------------------------------------------


@pytest.fixture
def yf_state(monkeypatch):
    """Restore yfinance's cache locations and flowbt's memo of them after the test."""
    for manager in (yf_cache._TzDBManager, yf_cache._CookieDBManager, yf_cache._ISINDBManager):
        monkeypatch.setattr(manager, "_cache_dir", manager._cache_dir)
        monkeypatch.setattr(manager, "_db", None)
    monkeypatch.setattr(yf_cache._TzCacheManager, "_tz_cache", None)
    monkeypatch.setattr(yf_cache._CookieCacheManager, "_Cookie_cache", None)
    monkeypatch.setattr(yf_cache._ISINCacheManager, "_isin_cache", None)
    monkeypatch.setattr(yahoo_mod, "_yf_cache_dir", None)
    YfData.cache_get.cache_clear()
    yield
    for manager in (yf_cache._TzDBManager, yf_cache._CookieDBManager, yf_cache._ISINDBManager):
        if manager._db is not None:
            manager._db.close()
    YfData.cache_get.cache_clear()


class OfflineYahoo(FakeYahoo):
    """The network is down: yfinance's cookie fetch and the chart request both fail."""

    def get(self, url, params=None, **kwargs):
        raise requests.ConnectionError(f"failed to connect to {url}")


def test_yfinance_log_lines_do_not_leak(yf_state, monkeypatch, tmp_path, caplog, capsys):
    monkeypatch.setenv("FLOWBT_CACHE_DIR", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DataError, match="Yahoo request failed") as err:
        fetch_yahoo("SPY", start="2020-03-16", end="2020-03-28", session=OfflineYahoo())
    assert "network" in err.value.hint
    assert [r for r in caplog.records if r.name.startswith("yfinance")] == []
    assert capsys.readouterr().err == ""
    assert not logging.getLogger("yfinance").disabled  # restored after the call


def test_yfinance_caches_live_under_the_flowbt_cache(yf_state, monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWBT_CACHE_DIR", str(tmp_path / "env"))
    fetch_yahoo(
        "SPY",
        start="2020-03-16",
        end="2020-03-28",
        session=FakeYahoo(_chart("yahoo_chart_SPY_1d.json")),
    )
    where = tmp_path / "env" / "yfinance"
    assert yf_cache._TzDBManager.get_location() == str(where)
    assert yf_cache._CookieDBManager.get_location() == str(where)
    assert (where / "tkr-tz.db").exists()  # yfinance wrote its timezone cache there

    # update() hands its own cache root to yfinance (``--cache-dir``)
    cache = Cache(tmp_path / "flag")
    from data.sources import fetchers

    fetch = fetchers.get_fetcher("yahoo", cache_root=cache.root)
    fetch(
        "SPY",
        interval="1d",
        start=pd.Timestamp("2020-03-16", tz="UTC"),
        end=pd.Timestamp("2020-03-21", tz="UTC"),
        session=FakeYahoo(_chart("yahoo_chart_SPY_1d.json")),
    )
    assert yf_cache._TzDBManager.get_location() == str(tmp_path / "flag" / "yfinance")


def test_numpy_warnings_inside_yfinance_are_not_shown(yf_state, monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWBT_CACHE_DIR", str(tmp_path))
    import yfinance.scrapers.history as yf_history

    real = yf_history.PriceHistory.history

    def noisy(self, *args, **kwargs):
        np.log(np.array([-1.0]))  # "invalid value encountered in log", as in yfinance's math
        return real(self, *args, **kwargs)

    monkeypatch.setattr(yf_history.PriceHistory, "history", noisy)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame = fetch_yahoo(
            "SPY",
            start="2020-03-16",
            end="2020-03-28",
            session=FakeYahoo(_chart("yahoo_chart_SPY_1d.json")),
        )
    assert len(frame) == 10
    assert [str(w.message) for w in seen if issubclass(w.category, RuntimeWarning)] == []


# --- 5. ccxt: pages that never end, candles from the future -----------------------------


class FabricatingBinance(FakeBinance):
    """Answers every ``startTime`` with a full page of daily candles, forever."""

    def __init__(self, *, newest_first: bool = False, per_page: list[int] | None = None):
        super().__init__()
        self.newest_first = newest_first
        self.per_page = per_page  # page sizes in turn, the last one repeated

    def request(self, method, url, **kwargs):
        if "/api/v3/klines" not in url:
            return super().request(method, url, **kwargs)
        from urllib.parse import parse_qs, urlparse

        query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        self.kline_calls.append(query)
        start = int(query["startTime"])
        sizes = self.per_page
        n = (
            sizes[min(len(self.kline_calls), len(sizes)) - 1]
            if sizes
            else int(query.get("limit", 500))
        )
        rows = [
            [
                start + i * 86_400_000,
                "100.0",
                "101.0",
                "99.0",
                "100.5",
                "7.0",
                start + (i + 1) * 86_400_000 - 1,
                "0",
                1,
                "0",
                "0",
                "0",
            ]
            for i in range(n)
        ]
        if self.newest_first:
            rows.reverse()
        from test_sources_crypto import _response

        return _response(url, 200, json.dumps(rows))


def test_an_exchange_that_never_stops_is_stopped_at_now(sleeps):
    session = FabricatingBinance()
    with pytest.raises(DataError, match="after now") as err:
        fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session), limit=1000)
    assert len(session.kline_calls) <= 3  # 1000-day pages reach now on the 2nd
    assert "nothing cached" in err.value.what


def test_paging_stops_at_now_without_asking_for_the_future(sleeps):
    session = FakeBinance()  # recorded candles up to 2021-11-12, then...
    original = session.request

    def never_empty(method, url, **kwargs):  # ...the last candle again, never an empty page
        resp = original(method, url, **kwargs)
        if "/api/v3/klines" in url and json.loads(resp._content) == []:
            resp._content = json.dumps(KLINES[-1:]).encode()
        return resp

    session.request = never_empty
    frame = fetch_ccxt(
        "BTC/USDT", start="2021-11-01", exchange=binance(session), limit=5, now="2021-11-12 12:00"
    )
    assert len(frame) == 12 and frame.index[-1] == pd.Timestamp("2021-11-12", tz="UTC")
    # 11-01, 11-06, 11-11: the third page reaches now, so no page is asked from 11-13 on
    assert [int(c["startTime"]) for c in session.kline_calls] == [
        ms("2021-11-01"),
        ms("2021-11-06"),
        ms("2021-11-11"),
    ]


def test_newest_first_pages_advance_by_their_newest_candle(sleeps):
    rows = [k for k in KLINES]
    session = FakeBinance(rows)
    original = session.request

    def reversed_pages(method, url, **kwargs):
        resp = original(method, url, **kwargs)
        if "/api/v3/klines" in url:
            resp._content = json.dumps(list(reversed(json.loads(resp._content)))).encode()
        return resp

    session.request = reversed_pages
    frame = fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=binance(session), limit=5)
    assert len(frame) == 12 and frame.index.is_monotonic_increasing
    assert frame.loc[pd.Timestamp("2021-11-08", tz="UTC"), "close"] == 67566.83
    assert [int(c["startTime"]) for c in session.kline_calls] == [
        ms("2021-11-01"),
        ms("2021-11-06"),
        ms("2021-11-11"),
        ms("2021-11-13"),
    ]


def test_pages_are_capped_with_a_clear_error(sleeps):
    session = FabricatingBinance(per_page=[1])  # one new candle a page: progress, but slowly
    with pytest.raises(DataError, match="after 3 pages") as err:
        fetch_ccxt(
            "BTC/USDT", start="2021-11-01", exchange=binance(session), max_pages=3, now="2022-01-01"
        )
    assert len(session.kline_calls) == 3
    assert err.value.hint.startswith(
        "fetch a shorter range: flowbt data update BTC/USDT --source ccxt --exchange binance"
    )
    assert "--start 2021-11-04" in err.value.hint


def test_default_cap_follows_the_range(sleeps):
    session = FabricatingBinance(per_page=[5, 1])  # a full first page, then dribbles
    with pytest.raises(DataError, match="more than the range needs"):
        fetch_ccxt(
            "BTC/USDT", start="2021-11-01", exchange=binance(session), limit=5, now="2021-11-30"
        )
    # 30 days at 5 candles a page need 6 pages: the cap is 2 * 6 + 10 = 22, not 10,000
    assert len(session.kline_calls) == 22
    assert crypto_mod._page_cap(0, None, 86_400_000 * 99, 86_400_000, 1000) == 12


def test_future_candles_never_reach_the_cache(sleeps, tmp_path):
    cache = Cache(tmp_path)
    session = FakeBinance()
    ex = binance(session)

    def fetcher(symbol, *, interval, start, end):
        return fetch_ccxt(symbol, interval=interval, start=start, end=end, exchange=ex, limit=5)

    update("BTC/USDT", "ccxt", start="2021-11-01", end="2021-11-06", cache=cache, fetcher=fetcher)
    path = cache.path("BTC/USDT", "ccxt", exchange="binance")
    before = digest(path)
    tomorrow = int((pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=2)).value // 1_000_000)
    session.klines = KLINES + [
        [tomorrow, "1", "2", "0.5", "1.5", "3", tomorrow, "0", 1, "0", "0", "0"]
    ]
    with pytest.warns(StaleDataWarning, match="after now"):
        update("BTC/USDT", "ccxt", cache=cache, fetcher=fetcher)
    assert digest(path) == before
    assert cache.read("BTC/USDT", "ccxt", exchange="binance").index[-1] < pd.Timestamp.now(tz="UTC")


# --- 11. fuzzing recorded provider answers ---------------------------------------------


def _garble(text: str, data: st.DataObject) -> str:
    kind = data.draw(st.sampled_from(["chars", "truncate", "insert", "lines"]))
    if not text:
        return text
    if kind == "truncate":
        return text[: data.draw(st.integers(0, len(text)))]
    if kind == "insert":
        at = data.draw(st.integers(0, len(text)))
        junk = data.draw(st.text(max_size=12))
        return text[:at] + junk + text[at:]
    if kind == "lines":
        lines = text.splitlines()
        picks = data.draw(st.lists(st.integers(0, len(lines) - 1), max_size=4))
        for i in picks:
            lines[i] = data.draw(
                st.sampled_from(
                    [
                        "",
                        ".",
                        "x,y,z",
                        "2020-02-30,1",
                        "1e999",
                        "2020-03-04,-5",
                        ";;",
                        "\ufeff",
                        "nan,nan",
                    ]
                )
            )
        return "\n".join(lines)
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(chars) - 1))
        chars[at] = data.draw(st.characters(codec="utf-8"))
    return "".join(chars)


def _outcome_is_a_frame_or_a_data_error(call) -> pd.DataFrame | None:
    try:
        frame = call()
    except DataError:
        return None
    assert isinstance(frame, pd.DataFrame)
    return frame


@FUZZ
@given(data=st.data())
def test_fuzz_fred_csv_answers(data):
    text = _garble(WALCL, data)
    frame = _outcome_is_a_frame_or_a_data_error(lambda: parse_fred_csv(text, series="WALCL"))
    if frame is not None:
        assert list(frame.columns) == ["value"] and str(frame.index.tz) == "UTC"
    with tempfile.TemporaryDirectory() as root:
        cache = Cache(root)
        update("WALCL", "fred", cache=cache, fetcher=lambda s, **k: parse_fred_csv(WALCL, series=s))
        path = cache.path("WALCL", "fred")
        before = digest(path)

        def fetcher(symbol, *, interval, start, end):
            return fetch_fred(symbol, start=start, end=end, session=FakeFred(body=text))

        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = _outcome_is_a_frame_or_a_data_error(
                lambda: update("WALCL", "fred", cache=cache, fetcher=fetcher)
            )
        stale = any(issubclass(w.category, StaleDataWarning) for w in seen)
        if out is None or stale:
            assert digest(path) == before
        else:
            assert np.isfinite(out["value"]).all()


def _mutate_klines(data: st.DataObject) -> str:
    rows = copy.deepcopy(KLINES)
    kind = data.draw(st.sampled_from(["cell", "drop", "swap", "text", "row"]))
    if kind == "text":
        return _garble(json.dumps(rows), data)
    i = data.draw(st.integers(0, len(rows) - 1))
    if kind == "cell":
        j = data.draw(st.integers(0, 5))
        rows[i][j] = data.draw(
            st.one_of(
                st.none(),
                st.text(max_size=5),
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(-(2**63), 2**63 - 1),
                st.just("-1"),
                st.just("0"),
            )
        )
    elif kind == "drop":
        rows[i] = rows[i][: data.draw(st.integers(0, 5))]
    elif kind == "swap":
        j = data.draw(st.integers(0, len(rows) - 1))
        rows[i], rows[j] = rows[j], rows[i]
    else:
        rows[i] = data.draw(st.one_of(st.none(), st.text(max_size=4), st.just({})))
    return json.dumps(rows, allow_nan=True)


@FUZZ
@given(data=st.data())
def test_fuzz_binance_answers(sleeps, data):
    body = _mutate_klines(data)
    ex = _BINANCE.get("ex") or _BINANCE.setdefault("ex", binance(FakeBinance()))
    ex.session = FakeBinance(klines_body=body)
    _outcome_is_a_frame_or_a_data_error(
        lambda: fetch_ccxt("BTC/USDT", start="2021-11-01", exchange=ex, limit=5)
    )
    with tempfile.TemporaryDirectory() as root:
        cache = Cache(root)
        seed = pd.DataFrame(
            [[float(x) for x in k[1:6]] for k in KLINES[:4]],
            index=pd.DatetimeIndex(
                [pd.Timestamp(k[0], unit="ms", tz="UTC") for k in KLINES[:4]], name="date"
            ),
            columns=["open", "high", "low", "close", "volume"],
        )
        cache.write(seed, "BTC/USDT", "ccxt", exchange="binance")
        path = cache.path("BTC/USDT", "ccxt", exchange="binance")
        before = digest(path)

        def fetcher(symbol, *, interval, start, end):
            return fetch_ccxt(symbol, interval=interval, start=start, end=end, exchange=ex)

        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = _outcome_is_a_frame_or_a_data_error(
                lambda: update("BTC/USDT", "ccxt", cache=cache, fetcher=fetcher)
            )
        stale = any(issubclass(w.category, StaleDataWarning) for w in seen)
        if out is None or stale:
            assert digest(path) == before
        else:
            assert (out[["open", "high", "low", "close"]] > 0).all().all()


_BINANCE: dict[str, object] = {}  # one ccxt instance for every example (markets load once)


def _mutate_chart(data: st.DataObject) -> dict:
    chart = _chart("yahoo_chart_SPY_1d.json")
    res = chart["chart"]["result"][0]
    kind = data.draw(st.sampled_from(["value", "drop_key", "length", "timestamp"]))
    quote = res["indicators"]["quote"][0]
    if kind == "value":
        key = data.draw(st.sampled_from(sorted(quote)))
        i = data.draw(st.integers(0, len(quote[key]) - 1))
        quote[key][i] = data.draw(
            st.one_of(
                st.none(),
                st.floats(allow_nan=True, allow_infinity=True),
                st.just(-1.0),
                st.just(0.0),
                st.just(1e308),
            )
        )
    elif kind == "drop_key":
        key = data.draw(st.sampled_from(sorted(quote) + ["adjclose", "timestamp", "meta"]))
        if key in quote:
            del quote[key]
        elif key == "adjclose":
            del res["indicators"]["adjclose"]
        else:
            del res[key]
    elif kind == "length":
        key = data.draw(st.sampled_from(sorted(quote)))
        quote[key] = quote[key][: data.draw(st.integers(0, len(quote[key])))]
    else:
        i = data.draw(st.integers(0, len(res["timestamp"]) - 1))
        res["timestamp"][i] = data.draw(st.one_of(st.none(), st.integers(-(2**40), 2**40)))
    return chart


@FUZZ
@given(data=st.data())
def test_fuzz_yahoo_answers(yf_state, data):
    chart = _mutate_chart(data)
    saved = (yf_cache._TzCacheManager._tz_cache, yf_cache._CookieCacheManager._Cookie_cache)
    yf_cache._TzCacheManager._tz_cache = yf_cache._TzCacheDummy()
    yf_cache._CookieCacheManager._Cookie_cache = yf_cache._CookieCacheDummy()
    YfData.cache_get.cache_clear()
    try:
        with tempfile.TemporaryDirectory() as root:
            cache = Cache(root)
            session = FakeYahoo(_chart("yahoo_chart_SPY_1d.json"))
            update(
                "SPY",
                "yahoo",
                start="2020-03-16",
                end="2020-03-21",
                cache=cache,
                fetcher=lambda s, *, interval, start, end: fetch_yahoo(
                    s, interval=interval, start=start, end=end, session=session, cache_root=root
                ),
            )
            path = cache.path("SPY", "yahoo")
            before = digest(path)
            YfData.cache_get.cache_clear()
            bad = FakeYahoo(chart)

            def fetcher(symbol, *, interval, start, end):
                return fetch_yahoo(
                    symbol,
                    interval=interval,
                    start=start,
                    end=pd.Timestamp("2020-03-28", tz="UTC"),
                    session=bad,
                    cache_root=root,
                )

            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                out = _outcome_is_a_frame_or_a_data_error(
                    lambda: update("SPY", "yahoo", cache=cache, fetcher=fetcher)
                )
            stale = any(issubclass(w.category, StaleDataWarning) for w in seen)
            if out is None or stale:
                assert digest(path) == before
            else:
                assert np.isfinite(out[["open", "high", "low", "close"]].to_numpy()).all()
    finally:
        yf_cache._TzCacheManager._tz_cache, yf_cache._CookieCacheManager._Cookie_cache = saved
        YfData.cache_get.cache_clear()
