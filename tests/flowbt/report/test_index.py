"""``index.html`` of a results folder: every run listed, linked, escaped, offline."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from flowbt.report.index import INDEX_FILE, runs_in, write_index


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.rows: list[list[str]] = []
        self.sources: list[str] = []
        self._row: list[str] | None = None
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs["href"])
        if tag in ("script", "img", "link") or "src" in attrs:
            self.sources.append(tag)
        if tag == "tr":
            self._row = []
        if tag == "td":
            self._in_cell = True
            assert self._row is not None
            self._row.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False
        if tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in_cell and self._row is not None:
            self._row[-1] += data


def _run(folder: Path, **metrics) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_index_lists_each_run_with_its_figures_and_links(tmp_path: Path):
    _run(tmp_path / "alpha", strategy="sma_cross", start="2020-01-02 00:00:00", end="2021-01-04",
         total_return=0.1234, cagr=0.05, sharpe=1.234, max_drawdown=-0.2, n_trades=7)  # fmt: skip
    beta = _run(tmp_path / "beta", strategy="cta_trend", sharpe=None, total_return=-0.5)
    (beta / "tearsheet.html").write_text("<html></html>")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "compare.html").write_text("<html></html>")
    page = _Page()
    page.feed(write_index(tmp_path).read_text())
    assert page.links == ["compare.html", "alpha/metrics.json", "beta/tearsheet.html"]
    alpha, b = page.rows
    assert alpha[:9] == ["alpha", "sma_cross", "2020-01-02", "2021-01-04", "12.3%", "5.0%",
                         "1.23", "-20.0%", "7"]  # fmt: skip
    assert b[0] == "beta" and b[4] == "-50.0%" and b[6] == ""
    assert not page.sources  # nothing loaded: opens offline


def test_an_optimisation_folder_shows_its_best_params_dsr_and_pbo(tmp_path: Path):
    opt = tmp_path / "opt"
    opt.mkdir()
    summary = {"best_params": {"threshold": 0.5}, "n_trials": 9, "dsr": 0.912, "pbo": 0.25,
               "sharpe": 0.7, "start": "2010-01-04", "end": "2020-12-31"}  # fmt: skip
    (opt / "summary.json").write_text(json.dumps(summary))
    (opt / "manifest.json").write_text(json.dumps({"strategy": "buyback_blackout"}))
    (row,) = runs_in(tmp_path)
    assert row["strategy"] == "buyback_blackout" and row["sharpe"] == 0.7
    assert "DSR 0.91" in row["extra"] and "PBO 0.25" in row["extra"] and "9 trials" in row["extra"]


def test_names_and_values_are_escaped_and_a_broken_file_is_skipped(tmp_path: Path):
    _run(tmp_path / "<b>x&y", strategy="<script>alert(1)</script>")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.json").write_text("{not json")
    text = write_index(tmp_path).read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<b>x&y" not in text and "&lt;b&gt;x&amp;y" in text
    assert "broken" not in text


def test_a_single_run_folder_indexes_itself_and_an_empty_one_says_so(tmp_path: Path):
    run = _run(tmp_path / "one", strategy="sma_cross", sharpe=0.5)
    page = _Page()
    page.feed(write_index(run).read_text())
    assert page.links == ["./metrics.json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no runs in this folder" in write_index(empty).read_text()


@pytest.mark.usefixtures("bundled")
def test_the_book_writes_an_index_of_its_runs(tmp_path: Path, bundle):
    from flowbt.book import BookRun, run_book
    from flowbt.experiment import Experiment

    runs = [
        BookRun("bb", Experiment(strategy="buyback_blackout", start="2020-01-02")),
        BookRun("vix", Experiment(strategy="vix_hedge", start="2020-01-02")),
    ]
    run_book(tmp_path / "book", runs=runs, md=bundle, progress=lambda _: None, tearsheet=False)
    text = (tmp_path / "book" / INDEX_FILE).read_text()
    for r in runs:
        metrics = json.loads((tmp_path / "book" / r.name / "metrics.json").read_text())
        assert f'href="{r.name}/metrics.json"' in text
        assert f"{metrics['sharpe']:.2f}" in text
    assert re.search(r"https?://", text) is None
    assert (tmp_path / "book" / "compare.html").is_file() and 'href="compare.html"' in text
    for r in runs:  # each run folder indexes itself
        assert "./metrics.json" in (tmp_path / "book" / r.name / INDEX_FILE).read_text()


def test_a_backtest_folder_gets_an_index_linking_its_tearsheet(tmp_path: Path, bundled):
    import flowbt.cli.main as cli

    out = tmp_path / "run"
    assert cli.main(["backtest", "vix_hedge", "--start", "2021-01-04", "--out", str(out)]) == 0
    page = _Page()
    page.feed((out / INDEX_FILE).read_text())
    assert page.links == ["./tearsheet.html", "./trades.html"]  # the run, its trades chart
