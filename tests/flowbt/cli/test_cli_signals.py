"""`flowbt signals list|show`: real rows, plots on disk, and one-line user errors."""

from __future__ import annotations

import importlib.util

import pytest
from bt_helpers import assert_user_error
from bt_helpers import run_cli as run

from flowbt.cli.signals import parse_signal_params
from signals.registry import get_signal, list_signals

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HAS_FED = importlib.util.find_spec("signals.fed") is not None


pytestmark = pytest.mark.usefixtures("bundled")


def test_list_shows_every_registered_signal(capsys):
    code, out, _ = run(capsys, "signals", "list")
    assert code == 0
    specs = list_signals()
    assert f"{len(specs)} registered signals" in out
    for spec in specs:
        assert spec.name in out and spec.module in out


def test_show_prints_real_rows(capsys, bundle):
    code, out, err = run(
        capsys,
        "signals",
        "show",
        "cta_trigger_levels",
        "--start",
        "2020-03-16",
        "--end",
        "2020-03-20",
    )
    assert code == 0, err
    levels = get_signal("cta_trigger_levels")(bundle)
    flip = levels.loc["2020-03-20", "flip_level"]
    assert "rows: 5 of" in out and "2020-03-16 .. 2020-03-20" in out
    assert f"{flip:,.2f}" in out and "2020-03-20" in out
    assert "parameters: defaults" in out


def test_show_passes_typed_params(capsys, bundle):
    code, out, err = run(
        capsys,
        "signals",
        "show",
        "cta_trigger_levels",
        "--param",
        "symbol=QQQ",
        "--param",
        "lookbacks=20,60",
        "--rows",
        "1",
    )
    assert code == 0, err
    assert "parameters: symbol=QQQ, lookbacks=(20, 60)" in out
    assert "trigger_20" in out and "trigger_60" in out and "trigger_120" not in out
    last = get_signal("cta_trigger_levels")(bundle, symbol="QQQ", lookbacks=(20, 60))
    assert f"{last['trigger_20'].iloc[-1]:,.2f}" in out


def test_show_an_event_table_restricts_by_its_dates(capsys):
    code, out, err = run(
        capsys,
        "signals",
        "show",
        "blackout_windows",
        "--start",
        "2024-03-01",
        "--end",
        "2024-03-31",
    )
    assert code == 0, err
    assert "2024-03-17" in out  # Q1 windows open 14 days before the quarter end
    assert "2023-" not in out.split("rows:")[1]


PLOTTED = [
    "cta_trigger_levels",
    "blackout_share",
    "liquidity_drain",
    "net_liquidity",
    "vix_inversion",
    "vol_target_exposure",  # the default rule: signal on a second axis over SPY
]
if HAS_FED:
    PLOTTED += ["rate_cut_odds", "odds_swing_events"]


@pytest.mark.parametrize("name", PLOTTED)
def test_plot_writes_a_png(capsys, tmp_path, name):
    path = tmp_path / f"{name}.png"
    code, out, err = run(
        capsys, "signals", "show", name, "--start", "2019-01-01", "--end", "2020-12-31",
        "--rows", "1", "--plot", str(path),
    )  # fmt: skip
    assert code == 0, err
    assert f"wrote {path}" in out
    blob = path.read_bytes()
    assert blob[:8] == PNG_MAGIC and len(blob) > 30_000  # a drawn chart, not an empty canvas


def test_plot_svg_and_overwrite_of_the_named_file(capsys, tmp_path):
    path = tmp_path / "vix.svg"
    path.write_text("old")
    code, _, err = run(capsys, "signals", "show", "vix_term_structure", "--plot", str(path))
    assert code == 0, err
    assert path.read_text().lstrip().startswith("<?xml") and "<svg" in path.read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["signals", "show", "nope"], "unknown signal 'nope'; known signals: "),
        (["signals", "show", "nope"], "fix: pick one of them (`flowbt signals list`"),
        (["signals", "show", "cta_position", "--param", "speed=3"], "has no parameter 'speed'"),
        (["signals", "show", "cta_position", "--param", "vol_window=abc"], "invalid --param"),
        (["signals", "show", "cta_position", "--param", "lookbacks=20,x"], "invalid --param"),
        (["signals", "show", "cta_position", "--param", "weights=0.9,0.9,0.9,0.9"], "sum"),
        (["signals", "show", "cta_position", "--param", "vol_window"], "NAME=VALUE"),
        (["signals", "show", "cta_position", "--param", "symbol=NOPE"], "unknown symbol 'NOPE'"),
        (["signals", "show", "cta_position", "--plot", "out.jpg"], "must end in .png, .svg, .pdf"),
        (["signals", "show", "cta_position", "--plot", "/nonexistent/x.png"], "does not exist"),
        (["signals", "show", "cta_position", "--start", "soon"], "--start 'soon' is not a date"),
        (
            ["signals", "show", "cta_position", "--start", "2020-02-01", "--end", "2020-01-01"],
            "before --start",
        ),
        (["signals", "show", "cta_position", "--start", "2040-01-01"], "no rows between"),
        (["signals", "show", "cta_position", "--rows", "0"], "--rows must be at least 1"),
        (["signals", "nothing"], "No such command"),
    ],
)
def test_user_mistakes_are_one_line(capsys, args, needle):
    assert_user_error(*run(capsys, *args), needle)


def test_plot_into_a_folder_is_refused(capsys, tmp_path):
    folder = tmp_path / "charts.png"
    folder.mkdir()
    code, _, err = run(capsys, "signals", "show", "cta_position", "--plot", str(folder))
    assert code == 2 and "is a folder" in err


def test_params_are_typed_from_the_signature():
    fn = get_signal("vol_target_exposure").fn
    got = parse_signal_params(
        fn, "vol_target_exposure", ["target_vol=0.15", "window=30", "halflife=none", "symbol=QQQ"]
    )
    assert got == {"target_vol": 0.15, "window": 30, "halflife": None, "symbol": "QQQ"}
    assert isinstance(got["window"], int)
    got = parse_signal_params(get_signal("cta_position").fn, "cta_position", ["lookbacks=20, 60"])
    assert got == {"lookbacks": (20, 60)}
    with pytest.raises(ValueError, match="given twice"):
        parse_signal_params(fn, "vol_target_exposure", ["window=3", "window=4"])
