"""FRED adapter, offline: recorded fredgraph.csv answers through a fake requests session."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pandas as pd
import pytest
import requests

from data.cache import Cache, update
from data.errors import DataError
from data.sources import fred
from data.sources.fred import fetch_fred, parse_fred_csv

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded"
WALCL = (RECORDED / "fred_WALCL.csv").read_text()
DGS10 = (RECORDED / "fred_DGS10_legacy_header.csv").read_text()


class FakeFred(requests.Session):
    """fred.stlouisfed.org's CSV endpoint; honours ``cosd`` like FRED and records params."""

    def __init__(self, body: str = WALCL, status: int = 200, error: Exception | None = None):
        super().__init__()
        self.body, self.status, self.error = body, status, error
        self.calls: list[dict] = []

    def get(self, url, params=None, **kwargs):
        assert url == fred.CSV_URL
        self.calls.append(dict(params or {}))
        if self.error is not None:
            raise self.error
        lines = self.body.splitlines()
        if "cosd" in (params or {}) and self.status == 200:
            lines = lines[:1] + [ln for ln in lines[1:] if ln[:10] >= params["cosd"]]
        resp = requests.Response()
        resp.status_code = self.status
        resp.url = url
        resp._content = ("\n".join(lines) + "\n").encode()
        resp.encoding = "utf-8"
        return resp


def test_walcl_real_values_and_utc_index():
    session = FakeFred()
    frame = fetch_fred("WALCL", session=session)
    assert session.calls == [{"id": "WALCL"}]
    assert list(frame.columns) == ["value"]
    assert frame["value"].dtype == "float64"
    assert str(frame.index.tz) == "UTC" and frame.index.name == "date"
    # The QE jump of March 2020, millions of USD, Wednesday levels as published.
    assert frame.loc[pd.Timestamp("2020-03-18", tz="UTC"), "value"] == 4668212.0
    assert frame.loc[pd.Timestamp("2020-03-25", tz="UTC"), "value"] == 5254278.0
    assert len(frame) == 9


def test_start_is_sent_as_cosd_and_end_is_exclusive():
    session = FakeFred()
    frame = fetch_fred("walcl", start="2020-04-01", end="2020-04-22", session=session)
    assert session.calls == [{"id": "WALCL", "cosd": "2020-04-01"}]
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2020-04-01", "2020-04-08", "2020-04-15"]


def test_legacy_date_header_and_dots_for_missing():
    frame = parse_fred_csv(DGS10, series="DGS10")
    assert pd.Timestamp("2019-12-25", tz="UTC") not in frame.index  # '.' = no observation
    assert pd.Timestamp("2020-01-01", tz="UTC") not in frame.index
    assert len(frame) == 13
    assert frame.loc[pd.Timestamp("2020-01-03", tz="UTC"), "value"] == 1.80


def test_html_page_instead_of_csv_is_a_data_error():
    page = "<!DOCTYPE html>\n<html><head><title>FRED</title></head><body>Error</body></html>"
    with pytest.raises(DataError, match="HTML page") as err:
        fetch_fred("WALCL", session=FakeFred(body=page))
    assert err.value.symbol == "WALCL"


def test_empty_answer_is_a_data_error():
    with pytest.raises(DataError, match="empty answer"):
        parse_fred_csv("", series="WALCL")


def test_garbage_value_names_the_row():
    text = "observation_date,WALCL\n2020-03-04,4241507\n2020-03-11,n/a\n"
    with pytest.raises(DataError, match="unparseable value") as err:
        parse_fred_csv(text, series="WALCL")
    assert err.value.row == 3


def test_csv_without_date_column_is_a_data_error():
    with pytest.raises(DataError, match="no date column"):
        parse_fred_csv("when,WALCL\n2020-03-04,1\n", series="WALCL")


def test_http_404_and_network_failure_are_data_errors():
    with pytest.raises(DataError, match="404"):
        fetch_fred("NOSUCH", session=FakeFred(status=404))
    down = FakeFred(error=requests.ConnectionError("no route to host"))
    with pytest.raises(DataError, match="FRED request failed") as err:
        fetch_fred("WALCL", session=down)
    assert "network" in err.value.hint


def test_api_key_uses_fredapi_when_installed(monkeypatch):
    seen = {}

    class Fred:
        def __init__(self, api_key):
            seen["key"] = api_key

        def get_series(self, series, observation_start=None):
            seen["args"] = (series, observation_start)
            idx = pd.to_datetime(["2020-03-11", "2020-03-18"])
            return pd.Series([4311911.0, 4668212.0], index=idx)

    monkeypatch.setitem(sys.modules, "fredapi", types.SimpleNamespace(Fred=Fred))
    frame = fetch_fred(
        "WALCL",
        start="2020-03-11",
        api_key="k123",
        session=FakeFred(error=AssertionError("csv used")),
    )
    assert seen == {"key": "k123", "args": ("WALCL", "2020-03-11")}
    assert frame.loc[pd.Timestamp("2020-03-18", tz="UTC"), "value"] == 4668212.0


def test_incremental_update_asks_fred_from_the_last_cached_observation(tmp_path):
    cache = Cache(tmp_path)
    session = FakeFred()

    def fetcher(symbol, *, interval, start, end):
        return fetch_fred(symbol, start=start, end=end, session=session)

    update("WALCL", "fred", start="2020-03-04", end="2020-04-02", cache=cache, fetcher=fetcher)
    assert cache.entry("WALCL", "fred").last.startswith("2020-04-01")
    full = update("WALCL", "fred", cache=cache, fetcher=fetcher)
    assert session.calls[-1] == {"id": "WALCL", "cosd": "2020-04-01"}
    assert len(full) == 9
    assert cache.entry("WALCL", "fred").kind == "series"
    assert full.loc[pd.Timestamp("2020-04-29", tz="UTC"), "value"] == 6655929.0
