"""The tearsheet, the compare page and the results index in a real browser (issue 12).

Debian's headless ``chromium`` (installed here by apt-get when missing; the tests skip,
with one message, only where it cannot be) opens each page as a ``file://`` URL with
the network disabled, as a user's double-click would. The rendered DOM must show the
metrics table and the charts, a screenshot (saved in the test's tmp_path) must show
a drawn page, and Chrome's net log must hold no request made for the page: no remote
font, script, stylesheet, image or favicon.

The pages come from small real runs on the bundled data, built once per module:
``flowbt backtest`` of two strategies (tearsheets included), ``flowbt compare`` of the
two, and ``write_index`` of the folder holding the runs and the compare page (the
layout `flowbt book` writes).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pandas as pd
import pytest
from browser_helpers import (
    ChromiumMissing,
    Elements,
    Loaded,
    ensure_chromium,
    is_remote,
    load,
    picture,
)

import data
from flowbt.cli.main import main
from flowbt.report.index import write_index

RUNS = ("buyback_blackout", "vix_hedge")
START = "2019-01-02"
PAGES = ("tearsheet", "compare", "index", "trades")
# quantstats' report.html (0.0.86) links its favicon from qtpylib.io; flowbt rewrites it
# to an empty data URL (flowbt.report.tearsheet.offline), so every page is clean.
NUMBER = re.compile(r"^-?\d+(\.\d+)?%?$")
# tearsheet row -> metrics.json key, the figures both show (as % with 2 decimals)
SHARED = {
    "Time in Market": "time_in_market",
    "Cumulative Return": "total_return",
    "CAGR": "cagr",
    "Max Drawdown": "max_drawdown",
}


def value(cell: str) -> float:
    return float(cell[:-1]) / 100 if cell.endswith("%") else float(cell)


@pytest.fixture(scope="module")
def chromium() -> Path:
    try:
        binary, took = ensure_chromium()
    except ChromiumMissing as why:
        pytest.skip(f"headless Chromium is not available and cannot be installed: {why}")
    if took is not None:
        print(f"installed Debian's chromium in {took:.0f} s")
    return binary


@pytest.fixture(scope="module")
def results(chromium, tmp_path_factory, bundle) -> Path:
    """A results folder as the book writes it: run folders, compare.html, index.html."""
    root = tmp_path_factory.mktemp("results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data, "load", lambda *a, **k: bundle)  # the CLI reads the session's bundle
        for strategy in RUNS:
            argv = ["backtest", strategy, "--start", START, "--out", str(root / strategy)]
            assert main(argv) == 0, argv
        cmp = tmp_path_factory.mktemp("cmp") / "cmp"
        argv = ["compare", *(str(root / s) for s in RUNS), "--out", str(cmp)]
        assert main(argv) == 0, argv
    shutil.copy(cmp / "compare.html", root / "compare.html")
    write_index(root)
    return root


def page_file(results: Path, name: str) -> Path:
    return {
        "tearsheet": results / RUNS[0] / "tearsheet.html",
        "compare": results / "compare.html",
        "index": results / "index.html",
        "trades": results / RUNS[0] / "trades.html",
    }[name]


@pytest.fixture(scope="module")
def rendered(chromium, results, tmp_path_factory) -> dict[str, Loaded]:
    """Each page's DOM after load (and its net log), one offline Chromium run per page."""
    out = tmp_path_factory.mktemp("chromium")
    return {name: load(chromium, page_file(results, name), out) for name in PAGES}


def dom(rendered: dict[str, Loaded], name: str) -> Elements:
    return Elements(rendered[name].dom)


# ------------------------------------------------------------------------------ content


def test_the_tearsheet_shows_its_metrics_table(rendered, results):
    metrics = dom(rendered, "tearsheet").table_with("Metric")
    assert len(metrics) >= 30, sorted(metrics)
    for row in ("Time in Market", "Cumulative Return", "CAGR", "Sharpe", "Max Drawdown"):
        values = metrics[row]
        assert len(values) == 2 and all(NUMBER.match(v) for v in values), (row, values)  # SPY, run
    run = json.loads((results / RUNS[0] / "metrics.json").read_text())
    shown = {row: value(metrics[row][1]) for row in metrics if row in SHARED}
    expected = {row: run[key] for row, key in SHARED.items()}
    assert shown == pytest.approx(expected, abs=1e-4), "the page shows the run's metrics.json"
    assert value(metrics["Sharpe"][1]) == pytest.approx(run["sharpe"], abs=0.006)


def test_the_tearsheet_shows_its_charts(rendered):
    page = rendered["tearsheet"].dom
    charts = re.findall(r"<svg\b[^>]*>.*?</svg>", page, flags=re.S)
    assert len(charts) >= 12, len(charts)  # quantstats inlines each chart as an SVG
    for chart in charts:
        width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', chart).groups())
        assert width > 100 and height > 100, chart[:300]
        # drawn marks as paths, labels as SVG text (tick labels, title)
        assert chart.count("<path") >= 10 and chart.count("<text") >= 5, chart[:300]
    for chart in ("log_returns", "eoy_returns", "rolling_sharpe", "dd_plot", "monthly_heatmap"):
        assert re.search(rf'<div id="{chart}">\s*(<!--.*?-->)?\s*<svg\b', page, re.S), chart


def test_the_compare_page_shows_its_metrics_table(rendered):
    metrics = dom(rendered, "compare").table_with("metric")
    for row in ("total return", "CAGR", "CAGR 95% CI", "Sharpe", "Sharpe 95% CI", "max drawdown",
                "PSR (Sharpe > 0)"):  # fmt: skip
        values = metrics[row]
        assert len(values) == len(RUNS) + 1, (row, values)  # each run, then the benchmark
        assert all(v for v in values), (row, values)
    assert all(NUMBER.match(v) for v in metrics["Sharpe"] + metrics["CAGR"]), metrics


def test_the_compare_page_shows_its_charts_as_inline_pngs(rendered):
    images = dom(rendered, "compare").all("img")
    alts = [img.get("alt") for img in images]
    assert {"equity (linear)", "equity (log)", "drawdown", "rolling Sharpe"} <= set(alts), alts
    for img in images:
        head, _, payload = img["src"].partition(",")
        assert head == "data:image/png;base64", (img.get("alt"), head[:60])
        png = base64.b64decode(payload, validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), img.get("alt")
        shown = picture(png)
        assert shown.width >= 400 and shown.height >= 200, (img.get("alt"), shown)
        assert shown.colours > 50 and shown.drawn > 0.02 and shown.coloured > 0.002, (
            img.get("alt"),
            shown,
        )


def test_the_index_links_each_tearsheet_and_the_compare_page(rendered, results):
    page = dom(rendered, "index")
    links = [a["href"] for a in page.all("a")]
    runs = [page for s in RUNS for page in (f"{s}/tearsheet.html", f"{s}/trades.html")]
    assert links == ["compare.html", *runs], links
    base = rendered["index"].url
    for href in links:  # each link opens a page of the folder, offline
        target = urljoin(base, href)
        assert target.startswith("file://"), target
        assert Path(unquote(urlparse(target).path)).is_file(), target
    rows = {row[0]: row for row in page.tables[0][1:]}
    assert sorted(rows) == sorted(RUNS)
    for strategy in RUNS:
        run = json.loads((results / strategy / "metrics.json").read_text())
        assert rows[strategy][1] == strategy
        assert rows[strategy][6] == f"{run['sharpe']:.2f}", rows[strategy]


def test_the_trades_page_draws_every_fill(rendered, results):
    """plotly drew the page offline: one marker per fill of the run, and the price lines."""
    page = rendered["trades"].dom
    assert "js-plotly-plot" in page and 'class="main-svg"' in page
    fills = pd.read_csv(results / RUNS[0] / "orders.csv")
    fills = fills[fills["status"].isin(["filled", "cut"])] if "status" in fills else fills
    points = re.findall(r'<path class="point"', page)
    assert len(points) == len(fills) > 0, (len(points), len(fills))
    assert len(re.findall(r'class="js-line"', page)) >= 2  # a close line, the signal


# ------------------------------------------------------------------------------ offline


def test_a_remote_request_would_be_caught(chromium, tmp_path):
    """The checks below see a page's remote favicon, stylesheet, script, font, image and
    a late fetch: in its DOM and in the net log, although no host resolves."""
    page = tmp_path / "remote.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8">'
        '<link rel="icon" href="https://icon.example.com/favicon.ico">'
        '<link rel="stylesheet" href="https://css.example.com/a.css">'
        "<style>@font-face{font-family:F;src:url(https://font.example.com/f.woff2)}"
        "p{font-family:F}</style>"
        '<script src="https://js.example.com/a.js"></script></head>'
        '<body><p>text</p><img src="https://img.example.com/a.png">'
        '<script>setTimeout(() => fetch("https://api.example.com/late"), 1000)</script>'
        "</body></html>",
        encoding="utf-8",
    )
    seen = load(chromium, page, tmp_path)
    hosts = {urlparse(u).hostname for u in seen.page_requests}
    assert {"icon", "css", "font", "js", "img", "api"} <= {h.split(".")[0] for h in hosts}, (
        seen.page_requests
    )
    assert not any("example.com" in u for u in seen.browser_requests), seen.browser_requests
    linked = {urlparse(u).hostname for u in Elements(seen.dom).remote_resources()}
    assert {h.split(".")[0] for h in linked} == {"icon", "css", "font", "js", "img"}, linked


@pytest.mark.parametrize("name", PAGES)
def test_the_page_requests_nothing_from_the_network(rendered, name):
    seen = rendered[name]
    requested = sorted({u for u in seen.page_requests if is_remote(u)})
    linked = Elements(seen.dom).remote_resources()
    assert not requested, f"{name} requested from the network: {requested} (net log {seen.net_log})"
    assert not linked, f"{name} links resources on the network: {linked}"


# ------------------------------------------------------------------------------ screenshots


@pytest.mark.parametrize("name", PAGES)
def test_the_page_screenshot_shows_a_drawn_page(chromium, results, name, tmp_path):
    shot = tmp_path / f"{name}.png"
    seen = load(chromium, page_file(results, name), tmp_path, dump_dom=False, screenshot=shot)
    assert seen.screenshot == shot and shot.is_file(), shot
    assert shot.stat().st_size > 10_000, shot.stat().st_size
    shown = picture(shot)
    assert (shown.width, shown.height) == (1280, 2000), shown
    assert shown.colours > 100 and shown.drawn > 0.003, shown  # not one blank colour
    if name != "index":  # the charts paint coloured lines and bars
        assert shown.coloured > 0.003, shown
