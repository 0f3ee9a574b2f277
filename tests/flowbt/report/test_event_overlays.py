"""Event overlays on equity charts, recomputed here from the signals' own output."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

import data
import flowbt
from flowbt.report import compare as compare_mod
from flowbt.report.events import (
    Overlay,
    draw_overlays,
    manifest_signals,
    overlays_for,
)
from flowbt.report.run_plots import plot_equity
from signals.buyback import blackout_share
from signals.volatility import vix_term_structure

matplotlib.use("Agg")

START, END = pd.Timestamp("2018-01-01"), pd.Timestamp("2021-12-31")


def naive_days(index: pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(index).tz_convert("UTC").tz_localize(None).normalize()


def spells(flag: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Runs of True by walking the sessions one by one (independent of runs_of)."""
    days = naive_days(flag.index)
    keep = (days >= START) & (days <= END)
    out, first, prev = [], None, None
    for day, on in zip(days[keep], flag.to_numpy(bool)[keep], strict=True):
        if on and first is None:
            first = day
        if not on and first is not None:
            out.append((first, prev))
            first = None
        prev = day
    if first is not None:
        out.append((first, prev))
    return out


def one(overlays: list[Overlay], kind: str) -> Overlay:
    found = [o for o in overlays if o.kind == kind]
    assert len(found) == 1
    return found[0]


def test_blackout_spans_are_runs_of_share_at_least_half(bundle):
    share = blackout_share(bundle)["share_projected"]
    want = spells(share >= 0.5)
    got = one(overlays_for(["blackout_share"], bundle, START, END), "span")
    assert "blackout" in got.label
    assert list(got.spans) == want
    assert 8 <= len(want) <= 40  # about one window a quarter over four years
    assert all(START <= a <= b <= END for a, b in got.spans)


def test_blackout_spans_follow_the_runs_params(bundle):
    default = one(overlays_for(["blackout_share"], bundle, START, END), "span")
    params = {"blackout_share": {"days_before_quarter_end": 30}}
    longer = one(overlays_for(["blackout_share"], bundle, START, END, params=params), "span")
    share = blackout_share(bundle, days_before_quarter_end=30)["share_projected"]
    assert list(longer.spans) == spells(share >= 0.5)
    assert longer.spans != default.spans


def test_inversion_spans_are_runs_of_ratio_above_one(bundle):
    ratio = vix_term_structure(bundle)["ratio"]
    want = spells(ratio > 1.0)
    got = one(overlays_for(["vix_term_structure"], bundle, START, END), "span")
    assert list(got.spans) == want
    assert any(a <= pd.Timestamp("2020-03-16") <= b for a, b in got.spans)  # Covid spell


@pytest.mark.parametrize("name", ["rate_cut_odds", "fed_tone"])
def test_fomc_lines_are_the_decisions_in_the_window(bundle, name):
    meetings = bundle.event("fomc_meetings")
    held = meetings.loc[meetings["status"] == "held_statement_released"]
    days = naive_days(pd.DatetimeIndex(held["known_at"]))
    want = sorted({d for d in days if START <= d <= END})
    got = one(overlays_for([name], bundle, START, END), "line")
    assert list(got.dates) == want
    assert pd.Timestamp("2020-03-15") in got.dates  # Sunday inter-meeting cut
    assert pd.Timestamp("2020-03-18") not in got.dates  # cancelled meeting


def test_swing_markers_are_detection_sessions(bundle):
    from signals.fed import odds_swing_events

    ev = odds_swing_events(bundle, points=20.0, days=10)
    days = naive_days(ev.index)
    want = sorted({d for d in days if START <= d <= END})
    params = {"odds_swing_events": {"points": 20.0, "days": 10}}
    got = one(overlays_for(["odds_swing_events"], bundle, START, END, params=params), "marker")
    assert list(got.dates) == want and want


def test_signals_without_overlay_give_nothing(bundle):
    assert overlays_for(["cta_position", "liquidity_drain"], bundle, START, END) == []
    assert overlays_for([], bundle) == []


def test_manifest_signals_reads_composite_keys():
    manifest = {
        "signals": {
            "2:blackout": {
                "signal": "blackout_share",
                "params": {"symbol": "SPY"},
                "calendar": "X",
            },
            "tone": {"signal": "fed_tone", "params": {"halflife_days": 5}, "calendar": "X"},
            "tone_slow": {"signal": "fed_tone", "params": {"halflife_days": 60}, "calendar": "X"},
        }
    }
    assert manifest_signals(manifest) == {
        "blackout_share": {"symbol": "SPY"},
        "fed_tone": {"halflife_days": 5},
    }
    assert manifest_signals({}) == {}


def spans_on(ax) -> list:
    return [p for p in ax.patches if isinstance(p, Rectangle | Polygon)]


def test_draw_overlays_one_legend_entry_per_kind(bundle):
    names = ["blackout_share", "vix_term_structure", "rate_cut_odds", "odds_swing_events"]
    overlays = overlays_for(names, bundle, START, END)
    assert [o.kind for o in overlays] == ["line", "span", "span", "marker"]
    fig = Figure()
    ax = fig.subplots()
    x = pd.date_range(START, END, freq="D")
    ax.plot(x, np.linspace(1, 2, len(x)), label="equity")
    xlim = ax.get_xlim()
    draw_overlays(ax, overlays)
    ax.legend()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["equity", *(o.label for o in overlays)]
    n_spans = sum(len(o.spans) for o in overlays if o.kind == "span")
    assert len(spans_on(ax)) == n_spans
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1 and len(lines[0].get_segments()) == len(overlays[0].dates)
    assert ax.get_xlim() == xlim


def close(fig: Figure) -> None:
    fig.clear()  # bare Figures are not registered with pyplot


@pytest.fixture(scope="module")
def bb_run(bundle):
    return flowbt.backtest("buyback_blackout", bundle, start="2019-01-02", end="2020-12-31")


def test_plot_equity_draws_overlays(bb_run, bundle):
    result = bb_run.result
    eq = result.period_equity()
    names = manifest_signals(result.manifest)
    assert "blackout_share" in names
    overlays = overlays_for(names, bundle, eq.index[0], eq.index[-1], params=names)
    assert [o.kind for o in overlays] == ["span"]
    fig = plot_equity(result, overlays=overlays)
    top = fig.axes[0]
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert overlays[0].label in labels
    assert len(spans_on(top)) == len(overlays[0].spans) > 0
    plain = plot_equity(result)
    assert not spans_on(plain.axes[0])
    close(fig)
    close(plain)


def test_compare_page_marks_blackout_windows(bb_run, bundle, tmp_path, monkeypatch):
    other = flowbt.backtest(
        "sma_cross", bundle, symbols=["SPY"], start="2019-01-02", end="2020-12-31"
    )
    monkeypatch.setattr(data, "load", lambda *a, **k: bundle)
    legends: list[list[str]] = []
    png = compare_mod._png

    def spy(fig):
        for ax in fig.axes:
            if ax.get_legend() is not None:
                legends.append([t.get_text() for t in ax.get_legend().get_texts()])
        return png(fig)

    monkeypatch.setattr(compare_mod, "_png", spy)
    page = compare_mod.compare([bb_run, other], tmp_path / "cmp").read_text(encoding="utf-8")
    assert re.search(r"Marked on the linear equity chart[^<]*buyback blackout", page)
    label = "buyback blackout (share >= 0.5)"
    assert label in legends[0]  # the linear equity chart
    assert label not in legends[1]  # not the log chart


def _chart(page: str, chart: str) -> str:
    match = re.search(rf'<div id="{chart}">(.*?)</svg>', page, flags=re.S)
    assert match, chart
    return match.group(1)


def test_the_tearsheet_marks_blackout_windows_on_its_equity_charts(bb_run, tmp_path):
    overlays = bb_run.overlays()
    assert [o.kind for o in overlays] == ["span"]
    label, spans = overlays[0].label, overlays[0].spans
    page = bb_run.tearsheet(tmp_path / "t.html", benchmark="SPY").read_text(encoding="utf-8")
    for chart in ("log_returns", "vol_returns", "dd_plot"):
        svg = _chart(page, chart)
        assert label.replace(">", "&gt;") in svg, chart  # the legend entry (SVG text)
        # one shaded patch per window in the overlay's colour (tab:orange), and the legend's
        assert svg.count("fill: #ff7f0e; opacity: 0.15") == len(spans) + 1 > 1, chart
    for chart in ("rolling_sharpe", "monthly_heatmap", "eoy_returns"):
        assert label.replace(">", "&gt;") not in _chart(page, chart), chart
    plain = bb_run.tearsheet(tmp_path / "p.html", events=False).read_text(encoding="utf-8")
    assert label.replace(">", "&gt;") not in plain


def test_a_run_on_plain_frames_has_no_overlays(bundle):
    frame = bundle.price("SPY").iloc[-300:]
    bt = flowbt.backtest("sma_cross", {"SPY": frame}, fast=5, slow=20)
    assert bt.overlays() == []
