"""trades.html (flowbt/report/trades_page.py): every fill on its price panel, the signal
below, read back from the page's own plotly JSON and checked against the run's frames."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

import flowbt
from flowbt.report.files import write_results
from flowbt.report.run_plots import run_signal, traded_symbols
from flowbt.report.trades_page import trades_figure, write_trades_page
from strategies.registry import get_strategy


@pytest.fixture(scope="module")
def rotation(bundle):
    strategy = get_strategy("liquidity_rotation")({})
    bt = flowbt.backtest(strategy, bundle, start="2020-01-02", end="2021-12-31")
    assert len(bt.result.fills) > 20
    return bt, run_signal(bt.result, strategy, bundle)


def _naive(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)


def _decoded(value):
    """plotly 6+ writes numeric arrays as {"dtype", "bdata": base64 of the raw buffer}."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return value


def _traces(page: str) -> list[dict]:
    """The traces plotly embedded in the page (its Plotly.newPlot data argument)."""
    match = re.search(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\])\s*,\s*\{', page, flags=re.S)
    assert match, "no Plotly.newPlot call"
    return [{k: _decoded(v) for k, v in t.items()} for t in json.loads(match.group(1))]


def test_every_fill_is_a_marker_at_its_instant_and_price(rotation, tmp_path):
    bt, signal = rotation
    page = write_trades_page(bt.result, tmp_path / "trades.html", signal).read_text()
    traces = {t["name"]: t for t in _traces(page)}
    fills = bt.result.fills
    for symbol in traded_symbols(bt.result):
        for side, rows in (("buy", fills[(fills.symbol == symbol) & (fills["size"] > 0)]),
                           ("sell", fills[(fills.symbol == symbol) & (fills["size"] < 0)])):  # fmt: skip
            trace = traces[f"{symbol} {side} ({len(rows)})"]
            assert pd.DatetimeIndex(trace["x"]).equals(_naive(rows["date"]))
            np.testing.assert_allclose(trace["y"], rows["price"].to_numpy(), rtol=1e-15)
            first = rows.iloc[0]
            assert f"{side} {abs(first['size']):,.6g} @ {first['price']:,.6g}" in trace["text"][0]
        close = bt.result.close[symbol].dropna()
        np.testing.assert_allclose(traces[f"{symbol} close"]["y"], close.to_numpy(), rtol=1e-15)
    # the signal (its first float columns, on the run's bars) in the bottom panel
    column = signal.select_dtypes("floating").columns[0]
    np.testing.assert_allclose(np.asarray(traces[column]["y"], dtype=float),
                               signal[column].to_numpy(dtype=float), rtol=1e-15)  # fmt: skip


def test_the_page_is_self_contained(rotation, tmp_path):
    bt, signal = rotation
    page = write_trades_page(bt.result, tmp_path / "t.html", signal).read_text()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and not [s for s in scripts if "src=" in s]  # plotly.js is inlined
    assert "Plotly.newPlot" in page and "mathjax" not in page.lower().split("</head>")[0]


def test_a_wide_price_range_gets_a_log_axis(rotation):
    bt, signal = rotation
    fig = trades_figure(bt.result, signal)
    closes = bt.result.close[traded_symbols(bt.result)]
    spans = (closes.max() / closes.min()).to_numpy()
    types = [fig.layout[f"yaxis{'' if i == 0 else i + 1}"].type for i in range(len(spans))]
    assert types == ["log" if s > 5.0 else None for s in spans]


def test_write_results_writes_the_trades_page(tmp_path, bundle):
    bt = flowbt.backtest("sma_cross", bundle, symbols=["SPY"], start="2023-01-03",
                         end="2023-12-29", fast=5, slow=20)  # fmt: skip
    write_results(bt.result, tmp_path / "r")
    traces = _traces((tmp_path / "r" / "trades.html").read_text())
    n = len(bt.result.fills)
    assert n > 0 and sum(len(t["x"]) for t in traces if t["mode"] == "markers") == n
    write_results(bt.result, tmp_path / "bare", plot=False)
    assert not (tmp_path / "bare" / "trades.html").exists()
