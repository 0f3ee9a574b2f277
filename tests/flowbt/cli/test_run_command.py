"""The ``flowbt run`` implementation: outputs on disk and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from bt_helpers import random_ohlc

from flowbt.cli.run import parse_params, run_backtest_cli


@pytest.fixture
def csv_file(tmp_path, spy):
    path = tmp_path / "SPY.csv"
    df = spy.iloc[-1500:].copy()
    df.index = df.index.tz_convert(None)
    df.to_csv(path, index_label="date")
    return path


def test_run_writes_metrics_trades_equity(tmp_path, csv_file, spy):
    out = tmp_path / "res"
    run_backtest_cli("sma_cross", csv_file, ["fast=10", "slow=50"], 0.001, "event", out, None)
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("final_equity", "total_return", "sharpe", "max_drawdown", "n_trades"):
        assert key in metrics
    assert metrics["periods_per_year"] == 252 and metrics["calendar"] == "sessions"
    equity = pd.read_csv(out / "equity.csv")
    assert list(equity.columns) == ["date", "equity"] and len(equity) == 1500
    assert metrics["final_equity"] == pytest.approx(equity["equity"].iloc[-1])
    # independent Sharpe from the written equity curve
    r = equity["equity"].pct_change().fillna(equity["equity"].iloc[0] / 100_000 - 1)
    assert metrics["sharpe"] == pytest.approx(r.mean() / r.std() * np.sqrt(252), rel=1e-9)
    trades = pd.read_csv(out / "trades.csv")
    assert len(trades) == metrics["n_trades"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["strategy"]["params"] == {"fast": 10, "slow": 50}
    assert len(manifest["data"]["sha256"]) == 64
    assert (out / "equity.png").stat().st_size > 1000


def test_event_and_vector_modes_write_the_same_numbers(tmp_path, csv_file):
    a, b = tmp_path / "a", tmp_path / "b"
    run_backtest_cli("sma_cross", csv_file, [], 0.001, "event", a, None)
    run_backtest_cli("sma_cross", csv_file, [], 0.001, "vector", b, None)
    ma = json.loads((a / "metrics.json").read_text())
    mb = json.loads((b / "metrics.json").read_text())
    for key in ("final_equity", "total_return", "sharpe", "max_drawdown", "n_trades"):
        assert ma[key] == pytest.approx(mb[key], rel=1e-9)


def test_weekend_bars_mean_365_periods(tmp_path):
    df = random_ohlc(np.random.default_rng(0), 400)
    df.index = df.index.tz_convert(None)
    path = tmp_path / "BTC.csv"
    df.to_csv(path, index_label="date")
    run_backtest_cli("sma_cross", path, ["fast=5", "slow=20"], 0.0, "event", tmp_path / "o", None)
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["periods_per_year"] == 365 and metrics["calendar"] == "24/7"
    run_backtest_cli(
        "sma_cross", path, ["fast=5", "slow=20"], 0.0, "event", tmp_path / "p", "sessions"
    )
    assert json.loads((tmp_path / "p" / "metrics.json").read_text())["periods_per_year"] == 252


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params": ["fast=50", "slow=10"]}, "fast \\(50\\) must be < slow \\(10\\)"),
        ({"fees": -0.1}, "--fees must be a fraction >= 0"),
        ({"strategy": "nope"}, "unknown strategy 'nope'; known strategies: .*sma_cross"),
        ({"params": ["fast10"]}, "NAME=VALUE"),
        ({"params": ["speed=3"]}, "unknown parameter speed for sma_cross"),
        ({"mode": "fast"}, "--mode must be one of"),
        ({"calendar": "mars"}, "unknown calendar"),
    ],
)
def test_bad_inputs_raise_one_line_value_errors(tmp_path, csv_file, kwargs, match):
    args = {
        "strategy": "sma_cross",
        "data_file": csv_file,
        "params": [],
        "fees": 0.001,
        "mode": "event",
        "out": tmp_path / "x",
        "calendar": None,
        **kwargs,
    }
    with pytest.raises(ValueError, match=match) as info:
        run_backtest_cli(**args)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "x").exists()


def test_bad_file_raises_data_error(tmp_path):
    from data.errors import DataError

    path = tmp_path / "bad.csv"
    path.write_text("date,open,high,low,close\n2024-01-02,1,0.5,0.9,1\n")
    with pytest.raises(DataError):
        run_backtest_cli("sma_cross", path, [], 0.0, "event", tmp_path / "x", None)


def test_parse_params():
    assert parse_params(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    with pytest.raises(ValueError, match="twice"):
        parse_params(["a=1", "a=2"])


def test_flowbt_run_through_the_cli(tmp_path, csv_file, capsys):
    from flowbt.cli.main import main

    out = tmp_path / "cli"
    code = main(
        [
            "run",
            "sma_cross",
            "--data",
            str(csv_file),
            "--param",
            "fast=10",
            "--param",
            "slow=50",
            "--fees",
            "0.001",
            "--mode",
            "vector",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    said = capsys.readouterr().out
    assert "sma_cross (vector): final equity" in said and "252/yr" in said
    assert (out / "metrics.json").exists() and (out / "trades.csv").exists()
    code = main(
        [
            "run",
            "sma_cross",
            "--data",
            str(csv_file),
            "--param",
            "fast=60",
            "--param",
            "slow=50",
            "--out",
            str(tmp_path / "bad"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "fast (60) must be < slow (50)" in err


def test_run_takes_a_config_and_refuses_keys_that_do_not_apply(tmp_path, csv_file):
    config = tmp_path / "exp.toml"
    config.write_text(
        'strategy = "sma_cross"\nparams = { fast = 5, slow = 20 }\n[costs]\nfees = 0.002\n'
    )
    m = run_backtest_cli(None, csv_file, [], None, None, tmp_path / "a", None, config)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["strategy"]["params"] == {"fast": 5, "slow": 20}
    assert manifest["config"]["costs"]["fees"] == 0.002 and m["n_trades"] > 0
    config.write_text('strategy = "sma_cross"\nuniverse = "crypto"\n')
    with pytest.raises(ValueError, match="universe does not apply to `flowbt run`"):
        run_backtest_cli(None, csv_file, [], None, None, tmp_path / "b", None, config)
    assert not (tmp_path / "b").exists()
