"""equity.png and trades.png of a run (flowbt/report/run_plots.py), checked against the
run's own frames read independently."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

import flowbt
import flowbt.report.files as files
from flowbt.experiment import Experiment
from flowbt.report.files import write_results
from flowbt.report.run_plots import drawdown_pct, plot_equity, plot_trades, run_signal
from flowbt.report.tearsheet import benchmark_close
from flowbt.runs import run_experiment
from signals.registry import get_signal
from strategies.registry import get_strategy

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def crypto_run(bundle):
    """BTC and the memory stocks on two calendars (weekends on the crypto one)."""
    return flowbt.backtest("liquidity_rotation", bundle, start="2020-01-02", end="2021-12-31")


@pytest.fixture(scope="module")
def idle_run(bundle):
    """A run that never trades: the 200-session average is not defined in two months."""
    bt = flowbt.backtest(
        "sma_cross", bundle, symbols=["SPY"], start="2024-01-02", end="2024-02-29", slow=200
    )
    assert len(bt.result.fills) == 0
    return bt


def _line(ax: Axes, label: str) -> Line2D:
    lines = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(lines) == 1, [ln.get_label() for ln in ax.get_lines()]
    return lines[0]


def _days(index: pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(index).tz_convert(None).normalize()


def _close(fig: Figure) -> None:
    """Free a figure (bare Figures are not registered with pyplot, so clearing is all)."""
    fig.clear()


def test_equity_panel_is_log_scale_over_the_run_periods(crypto_run):
    fig = plot_equity(crypto_run.result)
    top, bottom = fig.axes
    assert top.get_yscale() == "log" and bottom.get_yscale() == "linear"
    daily = crypto_run.period_equity()
    line = _line(top, "liquidity_rotation")
    np.testing.assert_array_equal(line.get_ydata(), daily.to_numpy())
    # the merged calendars give several bars a day; the plot has one point per UTC day
    assert len(daily) < len(crypto_run.equity) and len(line.get_xdata()) == len(daily)
    assert len(top.get_lines()) == 1  # no benchmark given: no benchmark line
    _close(fig)


def test_benchmark_is_buy_and_hold_from_initial_cash_on_the_run_days(crypto_run, bundle):
    close = benchmark_close(bundle, "SPY")
    fig = crypto_run.plot(benchmark="SPY")  # through Backtest.plot
    got = np.asarray(_line(fig.axes[0], "SPY buy & hold").get_ydata(), dtype=float)
    # independently: the last close dated on or before each run day (Series.asof)
    naive = close.set_axis(_days(close.index))
    days = _days(crypto_run.period_equity().index)
    known = naive.asof(days)
    want = known / known.iloc[0] * crypto_run.init_cash
    np.testing.assert_allclose(got, want.to_numpy(), rtol=1e-12)
    assert got[0] == pytest.approx(crypto_run.init_cash)
    # a weekend carries Friday's close; Monday moves with Monday's
    friday = days.get_loc(pd.Timestamp("2021-03-05"))
    assert got[friday + 1] == got[friday + 2] == got[friday]
    monday = naive.loc["2021-03-08"] / naive.loc["2021-03-05"]
    assert got[friday + 3] / got[friday] == pytest.approx(monday, rel=1e-12)
    _close(fig)


def test_drawdown_panel_is_percent_of_the_running_peak(crypto_run):
    fig = plot_equity(crypto_run.result)
    bottom = fig.axes[1]
    assert isinstance(bottom.yaxis.get_major_formatter(), PercentFormatter)
    eq = crypto_run.period_equity().to_numpy()
    peak = np.maximum.accumulate(np.concatenate([[crypto_run.init_cash], eq]))[1:]
    want = 100.0 * (eq / peak - 1.0)
    got = np.asarray(_line(bottom, "drawdown").get_ydata(), dtype=float)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got.min() < -10.0 and got.max() == 0.0  # percent, not a fraction
    assert got.min() == pytest.approx(100.0 * crypto_run.stats()["max_drawdown"], rel=1e-9)
    lo, hi = bottom.get_ylim()
    assert hi == 0.0 and lo <= got.min()
    _close(fig)


def test_drawdown_peak_starts_at_the_initial_cash():
    # as metrics.json's max_drawdown: a first bar below the initial cash is a drawdown
    got = drawdown_pct(pd.Series([90.0, 110.0, 99.0]), 100.0)
    np.testing.assert_allclose(got.to_numpy(), [-10.0, 0.0, -10.0], rtol=1e-12)


def _panels(fig: Figure) -> dict[str, Axes]:
    """Price panels by symbol (the axis holding a '<symbol> close' line)."""
    out = {}
    for ax in fig.axes:
        for ln in ax.get_lines():
            label = str(ln.get_label())
            if label.endswith(" close"):
                out[label.removesuffix(" close")] = ax
    return out


def _markers(ax: Axes, gid: str) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for ln in ax.get_lines():
        if ln.get_gid() == gid:
            xs = mdates.date2num(ln.get_xdata())
            pts += zip(np.asarray(xs, dtype=float), np.asarray(ln.get_ydata(), float), strict=True)
    return sorted(pts)


def test_trade_markers_are_the_fills_at_their_bar_and_price(crypto_run, tmp_path):
    fig = plot_trades(crypto_run.result, tmp_path / "trades.png")
    assert (tmp_path / "trades.png").read_bytes()[:8] == PNG
    fills = crypto_run.result.orders
    fills = fills[fills["size"] != 0.0]  # the orders that traded, read independently
    panels = _panels(fig)
    assert sorted(panels) == sorted(fills["symbol"].unique())
    n_buys = sum(len(_markers(ax, "buy")) for ax in panels.values())
    assert n_buys == int((fills["size"] > 0).sum()) > 0
    for symbol, ax in panels.items():
        mine = fills[fills["symbol"] == symbol]
        for gid, rows in (("buy", mine[mine["size"] > 0]), ("sell", mine[mine["size"] < 0])):
            when = mdates.date2num(pd.DatetimeIndex(rows["date"]).tz_convert(None).to_numpy())
            want = sorted(zip(when, rows["price"].to_numpy(dtype=float), strict=True))
            got = _markers(ax, gid)
            assert len(got) == len(want)
            np.testing.assert_allclose(np.array(got), np.array(want).reshape(-1, 2), rtol=1e-12)
    _close(fig)


def test_a_run_without_trades_still_draws_its_prices(idle_run, tmp_path):
    path = tmp_path / "trades.png"
    fig = plot_trades(idle_run.result, path)
    assert path.read_bytes()[:8] == PNG
    (ax,) = fig.axes
    close = _line(ax, "SPY close")
    assert len(close.get_xdata()) == len(idle_run.equity)
    assert "no trades" in [t.get_text() for t in ax.texts]
    assert not [ln for ln in ax.get_lines() if ln.get_gid() in ("buy", "sell")]
    _close(fig)


def test_signal_panel_draws_the_signal_known_at_each_bar(bundle):
    strategy = get_strategy("vix_hedge")({})
    bt = flowbt.backtest(strategy, bundle, start="2020-01-02", end="2020-12-31")
    signal = run_signal(bt.result, strategy, bundle)
    assert signal is not None and signal.attrs["name"] == "vix_term_structure"
    # independently: the raw row of the same session (known at that close) or before
    values = get_signal("vix_term_structure")(bundle)
    naive = values.set_axis(_days(values.index))
    want = naive["vix"].asof(_days(bt.equity.index))
    np.testing.assert_allclose(signal["vix"].to_numpy(), want.to_numpy(), rtol=1e-12)
    fig = plot_trades(bt.result, signal=signal)
    assert len(_panels(fig)) == 1 and len(fig.axes) == 2  # price, then the signal
    got = np.asarray(_line(fig.axes[1], "vix").get_ydata(), dtype=float)
    np.testing.assert_allclose(got, signal["vix"].to_numpy(), rtol=1e-12)
    assert "vix_term_structure" in fig.axes[1].get_title(loc="left")
    _close(fig)


def test_write_results_writes_equity_and_trades_png(idle_run, tmp_path):
    out = tmp_path / "res"
    write_results(idle_run.result, out)
    for name in ("equity.png", "trades.png"):
        assert (out / name).read_bytes()[:8] == PNG
    bare = tmp_path / "bare"
    write_results(idle_run.result, bare, plot=False)
    assert not list(bare.glob("*.png"))


def test_run_experiment_plots_against_its_benchmark_with_its_signal(bundle, tmp_path, monkeypatch):
    seen: dict[str, object] = {}

    def equity(result, path, benchmark=None, overlays=None):
        seen["benchmark"] = benchmark
        seen["overlays"] = overlays
        return plot_equity(result, path, benchmark=benchmark, overlays=overlays)

    def trades(result, path, signal=None):
        seen["signal"] = signal
        return plot_trades(result, path, signal=signal)

    monkeypatch.setattr(files, "plot_equity", equity)
    monkeypatch.setattr(files, "plot_trades", trades)
    exp = Experiment(strategy="vix_hedge", start=dt.date(2021, 1, 4), end=dt.date(2021, 6, 30))
    out = tmp_path / "run"
    written = run_experiment(exp, out, md=bundle, tearsheet=False)
    bench = seen["benchmark"]
    assert isinstance(bench, pd.Series) and bench.name == written["benchmark"] == "SPY"
    signal = seen["signal"]
    assert isinstance(signal, pd.DataFrame) and signal.attrs["name"] == "vix_term_structure"
    assert len(signal) == len(pd.read_csv(out / "equity.csv"))
    assert (out / "equity.png").is_file() and (out / "trades.png").is_file()
    # vix_hedge reads the VIX term structure: its equity chart marks the inversion spells
    # (none in H1 2021 would be an empty list; the kinds come from the manifest's signals)
    kinds = {o.label for o in seen["overlays"]}
    assert seen["overlays"] is not None and all("VIX" in k or "invers" in k for k in kinds)
