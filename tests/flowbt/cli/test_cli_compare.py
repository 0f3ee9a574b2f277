"""`flowbt compare`: runs side by side, the path printed, every mistake one line and exit 2."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from bt_helpers import assert_user_error, run_cli

from flowbt.experiment import Experiment
from flowbt.runs import run_experiment

BB, CTA = "buyback_blackout (bb)", "cta_trend (cta)"  # strategy (folder)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, bundle) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    specs = {
        "bb": Experiment(strategy="buyback_blackout", start="2023-01-03"),
        "cta": Experiment(strategy="cta_trend", universe="crypto", start="2023-01-01"),
    }
    for name, exp in specs.items():
        run_experiment(exp, root / name, md=bundle, tearsheet=False, plot=False)
    return [root / name for name in specs]


def _columns(page: Path) -> list[str]:
    frame = pd.read_html(StringIO(page.read_text()), attrs={"id": "metrics"})[0]
    return list(frame.columns)


def test_compare_prints_the_page(runs, tmp_path, capsys, bundled):
    out = tmp_path / "cmp"
    code, stdout, err = run_cli(capsys, "compare", *map(str, runs), "--out", str(out))
    assert code == 0, err
    assert stdout == f"{out / 'compare.html'}\n"
    assert _columns(out / "compare.html") == ["metric", BB, CTA, "benchmark SPY"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["benchmark"] == "SPY"
    assert [r["source"] for r in manifest["runs"]] == list(map(str, runs))


def test_benchmark_options(runs, tmp_path, capsys, bundled):
    args = ("compare", *map(str, runs))
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "a"), "--benchmark", "QQQ")
    assert code == 0, err
    assert _columns(tmp_path / "a" / "compare.html")[-1] == "benchmark QQQ"
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "b"), "--no-benchmark")
    assert code == 0, err
    assert _columns(tmp_path / "b" / "compare.html") == ["metric", BB, CTA]


def test_mistakes_are_one_line(runs, tmp_path, capsys, bundled):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my data")
    a, b = map(str, runs)
    out = str(tmp_path / "out")
    cases = [
        ((a, "--out", out), "at least 2 runs"),
        (("--out", out), "at least 2 runs, got 0"),
        ((a, b), "no output folder given (flowbt compare); fix: add --out DIR"),
        ((a, str(mine), "--out", out), "not a flowbt run"),
        ((a, str(tmp_path / "nope"), "--out", out), "does not exist"),
        ((a, b, "--out", str(mine)), "not empty and holds no flowbt run"),
        ((a, b, "--out", a), "manifest.json the compare page would replace"),
        ((a, b, "--out", str(mine / "notes.txt")), "is a file"),
        ((a, b, "--out", out, "--benchmark", "NOPE"), "NOPE"),
        ((a, b, "--out", out, "--benchmark", "SPY", "--no-benchmark"), "both given"),
    ]
    for args, needle in cases:
        code, stdout, err = run_cli(capsys, "compare", *args)
        assert_user_error(code, stdout, err, needle)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert not (runs[0] / "compare.html").exists()


def test_runs_without_common_days(runs, tmp_path, capsys, bundled):
    late = tmp_path / "late"
    late.mkdir()
    for name in ("metrics.json", "manifest.json"):
        (late / name).write_text((runs[0] / name).read_text())
    frame = pd.read_csv(runs[0] / "equity.csv")
    frame.iloc[-5:].to_csv(late / "equity.csv", index=False)
    early = tmp_path / "early"
    early.mkdir()
    for name in ("metrics.json", "manifest.json"):
        (early / name).write_text((runs[0] / name).read_text())
    frame.iloc[:5].to_csv(early / "equity.csv", index=False)
    code, stdout, err = run_cli(
        capsys, "compare", str(early), str(late), "--out", str(tmp_path / "o")
    )
    assert_user_error(code, stdout, err, "share no UTC days")
