"""`flowbt strategies`, `flowbt backtest --config/--universe` and the main job `flowbt book`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from bt_helpers import assert_user_error
from bt_helpers import run_cli as run

from flowbt.book import BOOK_FILE, BookRun, run_book
from flowbt.experiment import Experiment
from strategies.registry import get_strategy, known_strategies

pytestmark = pytest.mark.usefixtures("bundled")


def test_strategies_list_names_every_strategy_with_its_signals(capsys):
    code, out, err = run(capsys, "strategies", "list")
    assert code == 0, err
    for name in known_strategies():
        assert name in out
        cls = get_strategy(name)
        for request in cls().signal_requests().values():
            assert request.signal in out
    assert "blackout_share" in out and "liquidity_drain" in out


def test_strategies_show_prints_each_parameter_with_bounds(capsys):
    code, out, _ = run(capsys, "strategies", "show", "cta_trend")
    assert code == 0
    for name, info in get_strategy("cta_trend").Params.model_fields.items():
        assert name in out and (info.description or "") in out
    assert "> 0.0, <= 1.0" in out  # target_vol's bounds
    assert_user_error(*run(capsys, "strategies", "show", "nope"), "unknown strategy 'nope'")


def test_backtest_from_a_config_with_options_laid_over_it(tmp_path, capsys):
    config = tmp_path / "exp.toml"
    config.write_text(
        'strategy = "cta_trend"\nuniverse = "crypto"\nstart = 2021-01-04\nend = 2021-06-30\n'
        "[costs]\nfees = 0.002\n"
    )
    out = tmp_path / "deep" / "er" / "run"  # parents are created
    code, stdout, err = run(
        capsys, "backtest", "--config", str(config), "--fees", "0.0005", "--out", str(out)
    )
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["experiment"]["costs"]["fees"] == 0.0005  # the option wins
    assert manifest["experiment"]["universe"] == "crypto"
    assert manifest["data"]["symbols"] == ["BTC-USD", "ETH-USD"]
    assert "cta_trend (event, 2021-01-04..2021-06-30)" in stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--config", "missing.toml"], "does not exist"),
        (["cta_trend", "--universe", "bonds"], "invalid universe = 'bonds'"),
        (["buyback_blackout", "--universe", "crypto"], "does not trade universe 'crypto'"),
        ([], "no strategy given"),
    ],
)
def test_backtest_config_mistakes_are_one_line(tmp_path, capsys, args, needle):
    out = tmp_path / "r"
    assert_user_error(*run(capsys, "backtest", *args, "--out", str(out)), needle)
    assert not out.exists()


def test_a_bad_config_file_names_key_value_and_range(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('strategy = "cta_trend"\n[costs]\nfees = 0.5\n')
    code, out, err = run(capsys, "backtest", "--config", str(config), "--out", str(tmp_path / "r"))
    assert_user_error(code, out, err, "invalid costs.fees = 0.5")
    assert "<= 0.1" in err and str(config) in err


def test_book_writes_each_run_and_a_summary_that_matches_them(tmp_path, bundle):
    runs = [
        BookRun("buyback", Experiment(strategy="buyback_blackout", start="2019-01-02")),
        BookRun("cta-crypto", Experiment(strategy="cta_trend", universe="crypto")),
    ]
    lines: list[str] = []
    summary = run_book(tmp_path / "results", runs=runs, md=bundle, progress=lines.append)
    assert [line.split(":")[0] for line in lines[:2]] == ["[1/2] buyback", "[2/2] cta-crypto"]
    assert lines[2].startswith("2 tearsheets")  # drawn at the end, on two processes
    for name, title in (("buyback", "buyback_blackout"), ("cta-crypto", "cta_trend")):
        html = (tmp_path / "results" / name / "tearsheet.html").read_text(errors="ignore")
        assert title in html and "<html" in html[:2000].lower()
        assert "Sharpe" in (tmp_path / "results" / name / "quantstats.csv").read_text()
    written = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert written["run"].tolist() == ["buyback", "cta-crypto"] == summary["run"].tolist()
    for row in written.itertuples():
        metrics = json.loads((tmp_path / "results" / row.run / "metrics.json").read_text())
        assert row.sharpe == pytest.approx(metrics["sharpe"])
        assert row.off_target_days == metrics["off_target_days"]
        assert row.n_trades == metrics["n_trades"]
    assert written.loc[1, "symbols"] == "BTC-USD ETH-USD"
    assert (tmp_path / "results" / BOOK_FILE).is_file()
    # a second book into the same folder is fine; someone else's folder is refused
    run_book(tmp_path / "results", runs=runs[:1], md=bundle, progress=lines.append,
             tearsheet=False)  # fmt: skip
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds no flowbt book"):
        run_book(theirs, runs=runs, md=bundle, progress=lines.append, tearsheet=False)
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
