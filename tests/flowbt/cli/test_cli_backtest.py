"""`flowbt backtest`: a thesis strategy on the bundled data, through the CLI."""

from __future__ import annotations

import json

import pytest
from bt_helpers import run_cli as run

from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.market import run_market
from strategies.registry import get_strategy


def test_backtest_writes_results_and_tearsheet(tmp_path, capsys, bundle):
    out = tmp_path / "cta"
    args = ("backtest", "cta_trend", "--out", str(out), "--start", "2019-01-02")
    code, stdout, err = run(capsys, *args, "--end", "2020-12-31", "--param", "target_vol=0.15")
    assert code == 0, err
    assert "cta_trend (event, 2019-01-02..2020-12-31)" in stdout
    for name in ("metrics.json", "trades.csv", "equity.csv", "manifest.json", "tearsheet.html"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    strat = get_strategy("cta_trend")({"target_vol": 0.15})
    want = run_market(
        strat,
        bundle,
        BacktestConfig(costs=CostModel(fees=0.001)),
        start="2019-01-02",
        end="2020-12-31",
    )
    assert metrics["final_equity"] == pytest.approx(want.stats()["final_equity"], rel=1e-12)
    assert metrics["periods_per_year"] == 252
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["signals"]["cta"]["params"]["target_vol"] == 0.15
    assert "Sharpe" in (out / "quantstats.csv").read_text()
    # a second run into the same results folder replaces the earlier run's files
    code, _, err = run(capsys, *args, "--end", "2019-12-31", "--no-tearsheet")
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("no_such",), "unknown strategy 'no_such'"),
        (("cta_trend", "--symbols", "NOPE"), "NOPE"),
        (("cta_trend", "--fees", "-1"), "--fees must be"),
        (("cta_trend", "--mode", "fast"), "--mode must be"),
        (("cta_trend", "--param", "target_vol=7"), "target_vol"),
        (("buyback_blackout", "--param", "nope=1"), "nope"),
    ],
)
def test_user_mistakes_are_one_line(tmp_path, capsys, args, match):
    code, out, err = run(capsys, "backtest", *args, "--out", str(tmp_path / "r"))
    assert code == 2
    assert err.startswith("flowbt: error:") and match in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_a_folder_with_user_files_is_never_written_into(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my data")
    code, _, err = run(capsys, "backtest", "cta_trend", "--out", str(out))
    assert code == 2 and "not empty" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "my data"


def test_flowbt_run_points_signal_strategies_to_backtest(tmp_path, capsys):
    csv = tmp_path / "p.csv"
    csv.write_text("date,open,high,low,close\n2024-01-02,1,1,1,1\n2024-01-03,1,1,1,1\n")
    code, _, err = run(capsys, "run", "cta_trend", "--data", str(csv), "--out", str(tmp_path / "o"))
    assert code == 2 and "flowbt backtest cta_trend" in err


def test_orders_csv_and_summary_report_cut_and_rejected_orders(tmp_path, capsys):
    """A rotation across calendars: buys decided before the sale that funds them are
    rejected (reason cash) and retried; orders.csv and the summary line say so, and the
    counts agree with metrics.json."""
    import pandas as pd

    out = tmp_path / "rot"
    args = ("backtest", "liquidity_rotation", "--out", str(out), "--start", "2020-01-02")
    code, stdout, err = run(capsys, *args, "--end", "2020-12-31", "--no-tearsheet")
    assert code == 0, err
    orders = pd.read_csv(out / "orders.csv")
    assert {"status", "reason", "requested"} <= set(orders.columns)
    metrics = json.loads((out / "metrics.json").read_text())
    rejected = orders[orders["status"] == "rejected"]
    assert len(rejected) == metrics["n_orders_rejected"] > 0
    assert set(rejected["reason"]) == {"cash"} and (rejected["size"] == 0).all()
    assert (orders["status"] == "cut").sum() == metrics["n_orders_cut"]
    assert (orders["size"] != 0).sum() == metrics["n_orders"]
    line = (
        f"({metrics['n_orders_cut']} cut, {metrics['n_orders_rejected']} rejected), off target "
        f"{metrics['off_target_days']} days (longest {metrics['longest_off_target_days']})"
    )
    assert line in stdout


def test_summary_says_which_symbols_stopped_trading_when_their_data_ended(tmp_path, capsys):
    out = tmp_path / "late"
    args = ("backtest", "liquidity_rotation", "--out", str(out), "--start", "2026-01-02")
    code, stdout, err = run(capsys, *args, "--no-tearsheet")
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data_end"] == {"BTC-USD": "2026-06-05"}
    assert "BTC-USD data ended 2026-06-05 (sold there)" in stdout


def test_adjust_none_trades_the_stored_prices(tmp_path, capsys, bundled):
    """`--adjust none` fills at SPY's raw opens; the default (total-return) at the opens
    back-adjusted by adj_close / close of the same session, as the bundle's rule says.
    The choice lands in metrics.json and the manifest."""
    import pandas as pd

    spy = bundled.price("SPY")
    factor = spy["adj_close"] / spy["close"]
    for adjust, want_price in (("none", spy["open"]), ("total-return", spy["open"] * factor)):
        out = tmp_path / adjust
        args = ("backtest", "sma_cross", "--symbols", "SPY", "--start", "2019-01-02",
                "--end", "2019-12-31", "--param", "fast=5", "--param", "slow=20",
                "--no-tearsheet", "--out", str(out), "--adjust", adjust)  # fmt: skip
        code, _, err = run(capsys, *args)
        assert code == 0, err
        orders = pd.read_csv(out / "orders.csv", parse_dates=["date"])
        assert len(orders) > 4
        days = pd.DatetimeIndex(orders["date"]).tz_convert(None).normalize()
        opens = want_price.set_axis(pd.DatetimeIndex(spy.index).tz_convert(None).normalize())
        assert orders["price"].to_numpy() == pytest.approx(opens.loc[days].to_numpy(), rel=1e-12)
        assert json.loads((out / "metrics.json").read_text())["adjust"] == adjust
        assert json.loads((out / "manifest.json").read_text())["data"]["adjust"] == adjust
    code, stdout, err = run(capsys, "backtest", "sma_cross", "--adjust", "dividends",
                            "--out", str(tmp_path / "bad"))  # fmt: skip
    assert code == 2 and "fix: --adjust total-return" in err and not (tmp_path / "bad").exists()
