"""Bad invocations: each is one line ``flowbt: error: <what> (<where>); fix: <how>``,
exit code 2, no traceback, nothing written, and every option a fix names exists on the
command it is for; numpy's warnings stay out of the user's terminal (issue 13)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from bt_helpers import run_cli

from data.errors import StaleDataWarning
from flowbt.cli.main import app

LINE = re.compile(r"^flowbt: error: .+ \(.+\); fix: (?P<fix>.+)$")


def _options() -> dict[str, set[str]]:
    """Command path ("run", "data show", ...) -> the options it accepts."""
    root = typer.main.get_command(app)
    out: dict[str, set[str]] = {"": {"--help"}}

    def walk(prefix: str, cmd: object) -> None:
        params = getattr(cmd, "params", [])
        out[prefix] = {"--help"} | {o for p in params for o in p.opts if o.startswith("--")}
        out[prefix] |= {o for p in params for o in p.secondary_opts if o.startswith("--")}
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(f"{prefix} {name}".strip(), sub)

    for name, cmd in root.commands.items():
        walk(name, cmd)
    return out


OPTIONS = _options()


def assert_fix_names_real_options(command: str, fix: str) -> None:
    """Every ``--option`` in ``fix`` exists on ``command`` or on a command the fix names."""
    named = {command}
    for m in re.finditer(r"flowbt ((?:[a-z]+)(?: [a-z]+)?)", fix):
        words = m[1].split()
        named |= {w for w in (" ".join(words), words[0]) if w in OPTIONS}
    allowed = set().union(*(OPTIONS.get(c, set()) for c in named))
    for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", fix):
        assert option in allowed, f"{option} in fix {fix!r} is not an option of {named}"


@pytest.fixture
def csv_file(tmp_path: Path, spy: pd.DataFrame) -> Path:
    path = tmp_path / "SPY.csv"
    df = spy.iloc[-120:].copy()
    df.index = df.index.tz_convert(None)
    df.to_csv(path, index_label="date")
    return path


def _toml(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def cases(tmp_path: Path, csv: Path) -> list[tuple[str, tuple[str, ...], str]]:
    """(command, arguments, a word the line must hold)."""
    data = ("--data", str(csv))
    run = ("run", "sma_cross", *data)
    window = ("--start", "2024-01-02", "--end", "2024-03-28")
    bt = ("backtest", "sma_cross", "--symbols", "SPY", *window)
    unknown_key = _toml(tmp_path, "k.toml", 'strategy = "sma_cross"\nspeed = 3\n')
    bad_toml = _toml(tmp_path, "b.toml", 'strategy = "sma_cross\n')
    fees = _toml(tmp_path, "f.toml", 'strategy = "sma_cross"\n[costs]\nfees = 0.5\n')
    param = _toml(tmp_path, "p.toml", 'strategy = "sma_cross"\nparams = { fast = "x" }\n')
    dates = _toml(tmp_path, "d.toml", 'strategy = "sma_cross"\nstart = 2030-01-02\n')
    cash = _toml(tmp_path, "c.toml", 'strategy = "sma_cross"\ninit_cash = inf\n')
    kind = _toml(tmp_path, "t.toml", 'strategy = ["sma_cross"]\n[costs]\nfees = 0.001\n')
    return [
        ("run", (*run, "--param", "fast=abc"), "fast"),
        ("run", (*run, "--param", "speed=3"), "unknown parameter speed"),
        ("run", (*run, "--param", "fast=50"), "must be < slow"),
        ("run", (*run, "--param", "fast"), "NAME=VALUE"),
        ("run", (*run, "--param", "=3"), "NAME=VALUE"),
        ("run", (*run, "--param", "fast=5", "--param", "fast=6"), "given twice"),
        ("run", (*run, "--param", "slow=99999999999999999999"), "slow"),
        ("run", (*run, "--param", "fast=1.5"), "fast"),
        ("run", (*run, "--param", "fast=ünï"), "fast"),
        ("run", (*run, "--fees", "-1"), "--fees"),
        ("run", (*run, "--fees", "abc"), "--fees"),
        ("run", (*run, "--fees", "nan"), "--fees"),
        ("run", (*run, "--mode", "fast"), "--mode"),
        ("run", (*run, "--calendar", "mars"), "calendar"),
        ("run", ("run", "sma_cross"), "--data"),
        ("run", ("run", "sma_cross", "--data", str(tmp_path / "none.csv")), "none.csv"),
        ("run", (*run, "--bogus", "1"), "--bogus"),
        ("run", (*run, "--fee", "0.1"), "--fee"),
        ("run", ("run", "nope", *data), "unknown strategy 'nope'"),
        ("run", ("run", "cta_trend", *data), "flowbt backtest cta_trend"),
        ("run", ("run", *data, "--config", str(tmp_path / "no.toml")), "no.toml"),
        ("run", ("run", *data, "--config", unknown_key), "unknown key speed"),
        ("run", ("run", *data, "--config", bad_toml), "not valid TOML"),
        ("run", ("run", *data, "--config", fees), "costs.fees"),
        ("run", ("run", *data, "--config", param), "fast"),
        ("run", ("run", *data, "--config", dates), "no bars between"),
        ("run", ("run", "sma_cross", "--config", bad_toml, *data), "b.toml"),
        ("run", ("run", *data, "--config", cash), "init_cash"),
        ("run", ("run", *data, "--config", kind), "not a strategy name"),
        ("backtest", ("backtest", "nope"), "unknown strategy"),
        ("backtest", (*bt[:2], "--symbols", "NOPE"), "NOPE"),
        ("backtest", (*bt[:2], "--symbols", " , "), "--symbols"),
        ("backtest", (*bt[:2], "--universe", "mars"), "universe"),
        ("backtest", (*bt[:2], "--universe", "crypto", "--symbols", "SPY"), "universe or symbols"),
        ("backtest", (*bt[:4], "--start", "2020-02-30"), "start"),
        ("backtest", (*bt[:4], "--start", "soon"), "start"),
        ("backtest", (*bt[:4], "--start", "2024-02-01", "--end", "2024-01-01"), "before start"),
        ("backtest", (*bt, "--param", "slow=1"), "slow"),
        ("backtest", (*bt[:2], "--symbols", "SPY,SPY", *window), "SPY more than once"),
        ("backtest", (*bt[:4], "--start", "1500-01-01"), "1678..2261"),
        ("backtest", ("backtest", "cta_trend", "--param", "target_vol=7"), "target_vol"),
        ("backtest", ("backtest",), "no strategy given"),
        ("optimize", ("optimize", "sma_cross", "--random", "0"), "--random"),
        ("optimize", ("optimize", "sma_cross", "--chunk", "0"), "--chunk"),
        ("optimize", ("optimize", "sma_cross", "--cpcv", "six"), "--cpcv"),
        ("compare", ("compare", str(tmp_path)), "--out"),
        ("strategies show", ("strategies", "show", "nope"), "nope"),
        ("", ("nosuch",), "nosuch"),
    ]


@pytest.mark.parametrize("group", ["file", "bundled"])
def test_every_bad_invocation_is_one_line_with_what_where_and_fix(
    tmp_path: Path,
    csv_file: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    group: str,
) -> None:
    if group == "bundled":  # the bundle loaded once (it would also stand in for --data)
        request.getfixturevalue("bundled")
    before = csv_file.read_bytes()
    table = [c for c in cases(tmp_path, csv_file) if (c[0] == "run") == (group == "file")]
    for k, (command, args, needle) in enumerate(table):
        out = tmp_path / f"out{k}"
        argv = [*args] if "--out" in args or command in ("", "strategies show") else [*args, "--out", str(out)]  # fmt: skip
        code, stdout, err = run_cli(capsys, *argv)
        assert code == 2, (argv, stdout, err)
        assert "Traceback" not in stdout + err, argv
        assert err.count("\n") == 1, (argv, err)
        match = LINE.match(err.rstrip("\n"))
        assert match, (argv, err)
        assert needle in err, (argv, err)
        assert_fix_names_real_options(command, match["fix"])
        assert not out.exists(), argv
    assert csv_file.read_bytes() == before


def test_hints_name_only_options_that_exist() -> None:
    """The checker itself: a made-up option in a fix is caught."""
    assert_fix_names_real_options("run", "add --data FILE.csv")
    assert_fix_names_real_options("run", "run it with `flowbt backtest x --universe crypto`")
    with pytest.raises(AssertionError, match="--map"):
        assert_fix_names_real_options("backtest", "try --map Close=close")


def test_numpy_warnings_stay_quiet_and_flowbt_warnings_show(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import flowbt.cli.run as cli_run

    real = cli_run.run

    def noisy(*args: object, **kwargs: object) -> object:
        with np.errstate(invalid="warn", divide="warn"):
            np.float64(0.0) / np.float64(0.0)  # numpy: "invalid value encountered"
            np.log(np.zeros(2))  # numpy: "divide by zero encountered"
        warnings.warn("pandas-style deprecation", FutureWarning, stacklevel=1)
        warnings.warn("SPY is stale: refresh failed", StaleDataWarning, stacklevel=1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_run, "run", noisy)
    out = tmp_path / "res"
    code, stdout, err = run_cli(capsys, "run", "sma_cross", "--data", str(csv_file),
                                "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert "flowbt: stale data: SPY is stale: refresh failed" in err
    assert "encountered" not in err and "deprecation" not in err
    assert err.count("flowbt:") == 1, err


def test_an_os_failure_mid_run_is_one_line(
    tmp_path: Path, csv_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import flowbt.report.files as files

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "res" / "metrics.json"))

    monkeypatch.setattr(files, "write_json", full)
    code, stdout, err = run_cli(capsys, "run", "sma_cross", "--data", str(csv_file),
                                "--out", str(tmp_path / "res"))  # fmt: skip
    assert code == 2 and "Traceback" not in stdout + err
    match = LINE.match(err.strip())
    assert match and "No space left on device" in err and "metrics.json" in err
    assert_fix_names_real_options("run", match["fix"])
