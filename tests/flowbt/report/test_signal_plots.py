"""Signal plots a researcher can read: one panel per kind of column, a default window of
the last 5 years (the signal itself uncut), and no two signals drawing the same plot.

The plots are bare matplotlib ``Figure``s (never registered with pyplot), so there is no
figure to close; the Agg backend is selected all the same.
"""

from __future__ import annotations

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from bt_helpers import run_cli
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from flowbt.report.plots import (
    DEFAULT_YEARS,
    PLOTS,
    default_window,
    panel_groups,
    plot_default,
    plot_for,
    plot_signal,
    plottable,
    time_axis,
)
from signals.registry import get_signal, list_signals

matplotlib.use("Agg")

YEAR = pd.Timedelta(days=365.25)
_FRAMES: dict[str, pd.DataFrame] = {}


def frame_of(name: str, bundle) -> pd.DataFrame:
    """The signal with default parameters as a DataFrame, computed once per session."""
    if name not in _FRAMES:
        out = get_signal(name)(bundle)
        _FRAMES[name] = out.to_frame() if isinstance(out, pd.Series) else out
    return _FRAMES[name]


def draw(name: str, bundle, tmp_path, **window) -> Figure:
    fig = plot_signal(name, frame_of(name, bundle), bundle, {}, tmp_path / f"{name}.png", **window)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    return fig


def data_lines(ax: Axes) -> list[Line2D]:
    """Lines drawn from data (not axhline/axvline helpers, whose labels start with _)."""
    return [ln for ln in ax.get_lines() if not str(ln.get_label()).startswith("_")]


def line(fig: Figure, label: str) -> tuple[Axes, Line2D]:
    found = [(ax, ln) for ax in fig.axes for ln in data_lines(ax) if ln.get_label() == label]
    assert len(found) == 1, f"{label!r} drawn {len(found)} times"
    return found[0]


def x_days(ln: Line2D) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ln.get_xdata()))


def last_day(frame: pd.DataFrame) -> pd.Timestamp:
    return frame.index.max().tz_convert(None).normalize()


# --- panels ----------------------------------------------------------------------------
def test_fed_tone_keeps_the_tone_apart_from_the_weight_and_the_count(bundle, tmp_path):
    fig = draw("fed_tone", bundle, tmp_path)
    tone_ax, tone = line(fig, "tone")
    score_ax, _ = line(fig, "statement_score")
    weight_ax, weight = line(fig, "tone_weight")
    count_ax, _ = line(fig, "released")
    price_ax, _ = line(fig, "SPY close")
    assert score_ax is tone_ax  # both scores in [-1, 1] on one panel
    assert len({id(a) for a in (tone_ax, weight_ax, count_ax, price_ax)}) == 4
    lo, hi = tone_ax.get_ylim()
    assert -1.1 <= lo <= -0.99 and 0.99 <= hi <= 1.1  # the fixed [-1, 1] scale
    assert weight_ax.get_ylim()[1] > 5 > np.nanmax(tone.get_ydata())
    assert np.nanmax(weight.get_ydata()) > 5
    labels = {str(ln.get_label()) for ax in fig.axes for ln in data_lines(ax)}
    assert "statement_date" not in labels  # a datetime column is not plotted
    assert all(ax.get_shared_x_axes().joined(ax, price_ax) for ax in fig.axes)


def test_the_sparse_count_is_drawn_as_dots_on_its_sessions(bundle, tmp_path):
    fig = draw("fed_tone", bundle, tmp_path)
    _, released = line(fig, "released")
    assert released.get_linestyle() == "None" and released.get_marker() == "o"
    y = np.asarray(released.get_ydata(), dtype=float)
    assert (y > 0).all() and (y == np.round(y)).all()
    frame = frame_of("fed_tone", bundle)
    shown = frame.loc[frame.index.tz_convert(None) >= x_days(released).min(), "released"]
    assert len(y) == int((shown > 0).sum())


def test_panel_groups_by_kind_and_range():
    idx = pd.date_range("2020-01-01", periods=400, freq="B", tz="UTC")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "tone": np.sin(np.arange(400) / 20),  # bounded
            "share": rng.uniform(0, 1, 400),  # bounded, [0, 1]
            "flag": np.arange(400) % 50 < 5,  # bool flag
            "dummy": (np.arange(400) % 30 < 3).astype(int),  # a 0/1 int is a flag too
            "weight": np.linspace(2, 19, 400),
            "similar": np.linspace(1, 10, 400),  # within a factor of 5 of weight
            "big": np.linspace(100, 500, 400),
            "known_at": idx,  # datetime: not plotted
            "kind": ["a"] * 400,  # text: not plotted
        },
        index=idx,
    )
    data = plottable(frame)
    assert list(data.columns) == ["tone", "share", "flag", "dummy", "weight", "similar", "big"]
    groups = panel_groups(data)
    assert groups == [
        ("bounded", ["tone", "share"]),
        ("level", ["weight", "similar"]),
        ("level", ["big"]),
        ("flag", ["flag", "dummy"]),
    ]


def test_flags_are_lanes_with_one_bar_per_run(bundle):
    spy = bundle.price("SPY").index[-300:]
    on = np.zeros(300, dtype=bool)
    on[[10, 11, 12, 100, 299]] = True  # runs: 10-12, 100 alone, the last session
    frame = pd.DataFrame({"tone": np.linspace(-1, 1, 300), "event": on}, index=spy)
    fig = Figure(figsize=(11, 6.5))
    plot_default(fig, frame, bundle, {}, (spy[0], None))
    assert len(fig.axes) == 3  # price, the bounded tone, the flag lane
    lane = fig.axes[2]
    assert [t.get_text() for t in lane.get_yticklabels()] == ["event"]
    bars = [p for c in lane.collections for p in c.get_paths()]
    assert len(bars) == 3  # one bar per run, the single sessions included
    widths = sorted(np.ptp(p.vertices[:, 0]) for p in bars)
    assert widths[0] > 0  # a one-session run stays visible


# --- window ----------------------------------------------------------------------------
# blackout_windows runs on to the reopening of its last (projected) windows
@pytest.mark.parametrize(("name", "after"), [("blackout_share", 0), ("blackout_windows", 120)])
def test_the_default_window_is_the_last_five_years(bundle, tmp_path, name, after):
    frame = frame_of(name, bundle)
    rows = len(frame)
    fig = draw(name, bundle, tmp_path)
    assert len(frame) == rows  # the signal itself is not cut
    assert f"last {DEFAULT_YEARS} years" in fig.get_suptitle()
    assert "--start/--end" in fig.get_suptitle()
    (lo, hi), _ = default_window(frame)
    assert hi is None
    margin = pd.Timedelta(days=after) * 1.1 + pd.Timedelta(days=10)
    for ax in fig.axes:
        left, right = (pd.Timestamp(mdates.num2date(v)).tz_convert(None) for v in ax.get_xlim())
        assert right - left <= DEFAULT_YEARS * YEAR * 1.1 + margin  # autoscale adds 5% a side
        for ln in data_lines(ax):
            assert x_days(ln).min() >= lo.tz_convert(None)
    drawn = x_days(line(fig, "SPY close")[1])
    assert drawn.max() == bundle.price("SPY").index.max().tz_convert(None)
    assert drawn.min() - lo.tz_convert(None) < pd.Timedelta(days=5)


def test_default_window_of_a_short_signal_is_the_whole_signal(bundle):
    frame = frame_of("cuts_priced", bundle)
    assert frame.index.max() - frame.index.min() < DEFAULT_YEARS * YEAR
    (lo, hi), note = default_window(frame)
    assert lo == frame.index.min().normalize() and hi is None
    assert "whole signal" in note


def test_an_explicit_window_is_honoured(bundle, tmp_path):
    start, end = pd.Timestamp("2019-01-01", tz="UTC"), pd.Timestamp("2019-06-30", tz="UTC")
    fig = draw("blackout_share", bundle, tmp_path, start=start, end=end)
    assert "window 2019-01-01 .. 2019-06-30" in fig.get_suptitle()
    assert "last 5 years" not in fig.get_suptitle()
    for label in ("SPY close", "share", "share_projected"):
        days = x_days(line(fig, label)[1])
        assert days.min() >= pd.Timestamp("2019-01-01") and days.max() <= pd.Timestamp("2019-06-30")
        assert days.min() <= pd.Timestamp("2019-01-04") and days.max() >= pd.Timestamp("2019-06-27")
    only_start = draw("fed_tone", bundle, tmp_path, start=pd.Timestamp("2010-01-01", tz="UTC"))
    days = x_days(line(only_start, "tone")[1])
    assert days.min() < pd.Timestamp("2010-01-08")
    assert days.max() == last_day(frame_of("fed_tone", bundle))


@pytest.mark.usefixtures("bundled")
def test_the_cli_prints_every_row_while_the_plot_shows_five_years(capsys, tmp_path, bundle):
    path = tmp_path / "share.png"
    code, out, err = run_cli(capsys, "signals", "show", "blackout_share", "--plot", str(path))
    assert code == 0, err
    rows = len(frame_of("blackout_share", bundle))
    assert f"rows: {rows} of {rows}" in out and path.stat().st_size > 30_000


# --- no duplicate plots ----------------------------------------------------------------
def test_vix_inversion_draws_the_spells_not_the_term_structure(bundle, tmp_path):
    term = draw("vix_term_structure", bundle, tmp_path)
    spells = draw("vix_inversion", bundle, tmp_path)
    assert term.get_suptitle() != spells.get_suptitle()
    term_labels = {str(ln.get_label()) for ax in term.axes for ln in data_lines(ax)}
    spell_labels = {str(ln.get_label()) for ax in spells.axes for ln in data_lines(ax)}
    assert {"VIX (30 days)", "VIX3M (3 months)"} <= term_labels
    assert not {"VIX (30 days)", "VIX3M (3 months)"} & spell_labels
    # the spells: one shaded span per spell on the price panel, its length on the last
    frame = frame_of("vix_inversion", bundle)
    (lo, _), _ = default_window(frame)
    shown = frame.loc[frame.index >= lo]
    starts = int((shown["spell_day"] == 1).sum()) + int(shown["spell_day"].iloc[0] > 1)
    assert starts > 5
    assert len(spells.axes[0].patches) == starts
    assert len(term.axes[0].patches) == 0
    dots = [c for c in spells.axes[2].collections if isinstance(c, PathCollection)]
    lengths = np.concatenate([np.asarray(c.get_offsets())[:, 1] for c in dots])
    assert len(lengths) == starts and lengths.min() >= 1
    assert int(lengths.max()) == int(shown["spell_day"].max())


def test_no_two_signals_share_a_plot_unless_their_data_is_the_same(bundle):
    rules: dict[object, list[str]] = {}
    for spec in list_signals():
        fn = plot_for(spec.name, frame_of(spec.name, bundle))
        if fn is not plot_default:  # the generic rule draws each frame's own columns
            rules.setdefault(fn, []).append(spec.name)
    shared = [names for names in rules.values() if len(names) > 1]
    assert shared == [["net_liquidity", "net_liquidity_weekly"]]  # one series, two samplings
    assert PLOTS["vix_inversion"] is not PLOTS["vix_term_structure"]


def _has_data(ax: Axes) -> bool:
    for ln in data_lines(ax):
        y = np.asarray(ln.get_ydata(), dtype=float)
        if np.isfinite(y).sum() >= 1:
            return True
    return any(len(c.get_paths()) or len(c.get_offsets()) for c in ax.collections)


@pytest.mark.parametrize("name", [s.name for s in list_signals()])
def test_every_signal_plots_on_the_bundled_data(bundle, tmp_path, name):
    """Each signal's own rule over its last year (a short window keeps this quick; the
    default window is the same code for every signal, tested above)."""
    frame = frame_of(name, bundle)
    (lo, _), _ = default_window(frame)
    last = time_axis(frame).max().normalize()
    start = max(lo, last - pd.DateOffset(years=1))
    fig = draw(name, bundle, tmp_path, start=start)
    assert len(fig.axes) >= 2  # the price and at least one signal panel
    with_data = [ax for ax in fig.axes if _has_data(ax)]
    assert len(with_data) >= 2, f"{name}: only {len(with_data)} axes with data"
    assert fig.get_suptitle().startswith(f"{name}: ")
