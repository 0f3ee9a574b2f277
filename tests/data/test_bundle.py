"""The bundled snapshot: real values, stated quirk rules, provenance, calendars."""

from __future__ import annotations

import hashlib
import re

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from data.bundle import BUNDLE_DIR, manifest
from data.events import EVENT_CORRECTIONS


def test_known_closes_are_the_published_ones(bundle):
    assert bundle.price("SPY").loc["2020-03-23", "close"] == pytest.approx(222.95, abs=1e-9)
    assert bundle.price("BTC-USD").loc["2021-11-08", "close"] == pytest.approx(67566.83, abs=1e-9)


def test_index_is_utc_session_dates(bundle):
    idx = bundle.price("SPY").index
    assert str(idx.tz) == "UTC"
    assert (idx == idx.normalize()).all()
    assert idx.is_monotonic_increasing and idx.is_unique


def test_bundle_matches_raw_csv_row_for_row(bundle, shared_data):
    for name, fname in [
        ("SPY", "SPY.csv"),
        ("000660.KS", "000660.KS_SKHYNIX.csv"),
        ("ETH-USD", "ETH-USD.csv"),
    ]:
        raw = pd.read_csv(shared_data / "prices" / fname)
        frame = bundle.price(name)
        assert len(frame) == len(raw)
        np.testing.assert_array_equal(frame["close"].to_numpy(), raw["close"].to_numpy())
        assert list(frame.index.strftime("%Y-%m-%d")) == raw["date"].tolist()


def test_rows_match_the_sources_table(shared_data):
    """Every bundled file has the row count SOURCES.md states (an independent record)."""
    text = (BUNDLE_DIR / "SOURCES.md").read_text()
    stated = {
        m[0]: int(m[1]) for m in re.findall(r"\| `\w+/([^`]+)\.csv` \| [^|]+ \| (\d+) \|", text)
    }
    entries = manifest()
    checked = 0
    for name, entry in entries.items():
        stem = entry["source_file"].split("/")[-1][: -len(".csv")]
        if stem in stated:
            assert entry["rows"] == stated[stem], name
            checked += 1
    assert checked >= 90


def test_checksums_match_files():
    for name, entry in manifest().items():
        digest = hashlib.sha256((BUNDLE_DIR / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], name


def test_ice_spread_series_are_not_shipped(bundle):
    assert "BAMLH0A0HYM2" not in bundle.macro and "BAMLC0A0CM" not in bundle.macro
    assert not list(BUNDLE_DIR.rglob("BAML*"))


def test_quirks_are_handled_by_rule_and_reported(bundle):
    quirks = {(q.symbol, q.rule): q for q in bundle.quirks}
    widened = "widened high/low to contain open/close"
    assert quirks[("VIX", widened)].rows == 47
    korean = quirks[("005930.KS", widened)].rows + quirks[("000660.KS", widened)].rows
    assert korean == 4
    spx = quirks[("SPX", "high/low missing, left empty")]
    assert spx.last == "2016-06-27"
    frame = bundle.price("SPX")
    assert frame.loc[:"2016-06-27", ["high", "low"]].isna().all().all()
    assert frame.loc["2016-06-28":, ["high", "low"]].notna().all().all()
    fomc = {k: q for k, q in quirks.items() if k[0] in ("fomc_meetings", "fomc_statements")}
    assert len(quirks) - len(fomc) == 4  # no other price was touched
    # the FOMC calendar corrections, one quirk each (tests/data/test_fomc_calendar.py)
    assert len(fomc) == len(EVENT_CORRECTIONS) == 5


def test_repaired_bars_contain_open_and_close(bundle):
    for sym in ("VIX", "005930.KS", "000660.KS"):
        f = bundle.price(sym)
        assert (f["high"] >= f[["open", "close"]].max(axis=1)).all()
        assert (f["low"] <= f[["open", "close"]].min(axis=1)).all()


def test_genuine_crashes_are_data_not_errors(bundle):
    for sym in ("BTC-USD", "ETH-USD"):
        ret = bundle.price(sym)["close"].pct_change().loc["2020-03-12"]
        assert ret < -0.35
    assert bundle.price("VIX")["close"].pct_change().max() > 1.0  # 2018-02-05: +116%


def test_price_basis_follows_sources(bundle):
    assert bundle.basis("SPY") == "raw+tr"
    assert bundle.basis("MU") == "raw+tr"
    assert bundle.basis("IWM") == "adjusted"
    assert bundle.basis("BTC-USD") == "adjusted"
    assert bundle.basis("VIX") == "index"
    assert bundle.basis("SAMSUNG") == "raw"
    spy = bundle.price("SPY")
    assert (
        (spy["adj_close"] < spy["close"]).iloc[:100].all()
    )  # total-return close anchored at the end
    iwm = bundle.price("IWM")
    np.testing.assert_array_equal(iwm["adj_close"].to_numpy(), iwm["close"].to_numpy())


def test_provenance_reaches_the_source(bundle):
    info = bundle.provenance("WDC")
    assert "spin-off" in info.origin and "SOURCES.md" in info.origin
    assert bundle.provenance("SKHYNIX").currency == "KRW"
    assert "16:30" in bundle.provenance("WALCL").lag


def test_mission_universe_is_bundled(bundle):
    needed = {
        "SPY", "QQQ", "IWM", "DIA", "XLK", "XLF", "TLT", "IEF", "GLD", "HYG", "LQD", "SMH",
        "SOX", "NDX", "SPX", "MU", "WDC", "SNDK", "STX", "005930.KS", "000660.KS", "BTC-USD",
        "ETH-USD", "VIX", "VIX3M",
    }  # fmt: skip
    assert needed <= set(bundle.symbols)
    series = {"WALCL", "WTREGEN", "RRPONTSYD", "TGA_DTS_DAILY", "EFFR", "DFF", "DFEDTARU",
              "DFEDTARL", "DGS3MO", "DGS2", "DGS10", "T10Y2Y", "M2SL", "NFCI"}  # fmt: skip
    assert series <= set(bundle.macro)
    assert {"fomc_statements", "fomc_minutes", "fomc_meetings", "fed_speeches_text",
            "fed_speeches_index", "fed_funds_futures", "fomc_implied_probabilities",
            "earnings_dates", "sp500_constituents"} <= set(bundle.events)  # fmt: skip


@pytest.mark.parametrize(
    ("symbol", "calendar"),
    [("SPY", "XNYS"), ("MU", "XNYS"), ("005930.KS", "XKRX"), ("000660.KS", "XKRX")],
)
def test_bars_fall_on_real_exchange_sessions(bundle, symbol, calendar):
    frame = bundle.price(symbol).loc["2007-01-01":"2026-06-30"]
    cal = xcals.get_calendar(calendar, start="2007-01-01", end="2026-12-31")
    sessions = cal.sessions_in_range(
        frame.index[0].tz_localize(None), frame.index[-1].tz_localize(None)
    )
    off = frame.index.tz_localize(None).difference(sessions)
    assert len(off) == 0, list(off[:5])
    assert bundle.calendar(symbol) == calendar


def test_crypto_trades_every_day(bundle):
    idx = bundle.price("BTC-USD").index
    assert bundle.calendar("BTC-USD") == "24/7"
    assert (np.diff(idx.asi8) == 86_400 * 10**9).all()
