"""Fuzzing the command line (issue 13): hypothesis mutates a valid experiment file and
valid ``--param``/``--fees``/``--mode`` strings (drop, swap and garble characters or
lines, wrong types, huge numbers, unicode). Every outcome is a valid run (exit 0, a
results folder) or one line ``flowbt: error: <what> (<where>); fix: <how>`` with exit 2
and nothing written; never a traceback or another exception, never a changed input.

Runs stay tiny (120 bars of one symbol, fresh in-process CLI calls) and examples capped.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flowbt.cli.main import main

LINE = re.compile(r"^flowbt: error: .+ \(.+\); fix: .+$")
FUZZ = settings(
    max_examples=40,
    derandomize=True,  # the same examples on every run and machine
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

BASE_TOML = [
    'strategy = "sma_cross"',
    'mode = "event"',
    'fill = "next_open"',
    "start = 2026-03-02",
    "init_cash = 100000",
    "params = { fast = 5, slow = 20 }",
    "[costs]",
    "fees = 0.001",
    "slippage = 0.0",
]
BAD_VALUES = [
    '"abc"', "-1", "0", "1e308", "-1e308", "99999999999999999999", "nan", "inf", "-inf",
    "true", "[]", "{}", '"ünï ☃"', '""', "2020-02-29", "1500-01-01", "9999-12-31",
    "{ fast = 50, slow = 10 }", "{ speed = 3 }", '{ fast = "x" }', "{ fast = 1e9 }",
    '"vector"', '"close"', '"every_bar"', '"composite"', '"cta_trend"',
    '"SPY"', '["SPY", "SPY"]', "[1]", '["NOPE"]', '["QQQ"]', '"crypto"', '"mars"', "1e15",
    "2024-01-02T10:00:00", "[{ strategy = 3 }]",
]  # fmt: skip
BACKTEST_TOML = [
    'strategy = "sma_cross"',
    'symbols = ["SPY"]',
    "start = 2024-01-02",
    "end = 2024-04-30",
    'benchmark = "SPY"',
    "params = { fast = 5, slow = 20 }",
    "drift_threshold = 0.0",
    "[costs]",
    "fees = 0.001",
    "fixed_fees = 0.0",
]
WEIRD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, spy: pd.DataFrame) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    df = spy.iloc[-120:].copy()
    df.index = df.index.tz_convert(None)
    df.to_csv(root / "SPY.csv", index_label="date")
    return root


_counter = itertools.count()


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """The CLI in-process: (exit code, stdout, stderr); any exception propagates."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, stdout: str, err: str, out: Path) -> None:
    """A valid run, or one user-error line with exit 2 and nothing written."""
    assert "Traceback" not in stdout + err
    event(f"exit {code}")  # --hypothesis-show-statistics: how many runs, how many errors
    if code == 0:
        assert (out / "metrics.json").is_file() and (out / "manifest.json").is_file()
        assert "final equity" in stdout
        return
    assert code == 2, (code, stdout, err)
    lines = [line for line in err.splitlines() if line.startswith("flowbt: error:")]
    assert len(lines) == 1 and err.endswith("\n") and err.count("\n") == 1, err
    assert LINE.match(lines[0]), lines[0]
    assert not out.exists(), f"an error left {sorted(p.name for p in out.iterdir())} in {out}"


@st.composite
def mutated_lines(draw: st.DrawFn, lines: list[str]) -> list[str]:
    """``lines`` after 1-3 mutations: drop or swap lines, replace a value, garble text."""
    lines = list(lines)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "swap", "value", "garble", "insert", "dup"]))
        if kind == "drop":
            del lines[i]
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0].rstrip()
            lines[i] = f"{key} = {draw(st.sampled_from(BAD_VALUES))}"
        elif kind == "garble":
            text = lines[i]
            k = draw(st.integers(0, len(text)))
            how = draw(st.sampled_from(["replace", "insert", "delete"]))
            char = draw(st.characters(codec="utf-8", exclude_categories=("Cs",)))
            if how == "replace" and k < len(text):
                text = text[:k] + char + text[k + 1 :]
            elif how == "insert":
                text = text[:k] + char + text[k:]
            else:
                text = text[:k] + text[k + 1 :]
            lines[i] = text
        elif kind == "insert":
            lines.insert(i, f"{draw(WEIRD_TEXT)} = {draw(st.sampled_from(BAD_VALUES))}")
        else:
            lines.insert(i, lines[i])
    return lines


@FUZZ
@given(lines=mutated_lines(BASE_TOML))
def test_mutated_experiment_files(workspace: Path, lines: list[str]) -> None:
    config = workspace / f"exp{next(_counter)}.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inputs = {p: p.read_bytes() for p in (config, workspace / "SPY.csv")}
    out = workspace / f"out{next(_counter)}"
    argv = ["run", "--config", str(config), "--data", str(workspace / "SPY.csv"), "--out", str(out)]
    code, stdout, err = invoke(argv)
    check_outcome(code, stdout, err, out)
    assert {p: p.read_bytes() for p in inputs} == inputs


@pytest.fixture(scope="module")
def on_the_bundle(bundle: object) -> Iterator[None]:
    """``flowbt backtest`` reads the session's bundle (loaded once) for this module."""
    import data

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load", lambda *a, **k: bundle)
        yield


@settings(FUZZ, max_examples=25)
@given(lines=mutated_lines(BACKTEST_TOML))
def test_mutated_backtest_configs(workspace: Path, on_the_bundle: None, lines: list[str]) -> None:
    config = workspace / f"bt{next(_counter)}.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = config.read_bytes()
    out = workspace / f"bt-out{next(_counter)}"
    argv = ["backtest", "--config", str(config), "--no-tearsheet", "--out", str(out)]
    code, stdout, err = invoke(argv)
    check_outcome(code, stdout, err, out)
    assert config.read_bytes() == before


def _garbled(text: str) -> st.SearchStrategy[str]:
    return mutated_lines([text]).map(lambda lines: "".join(lines))


PARAM = st.one_of(
    _garbled("fast=5"),
    _garbled("slow=20"),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["fast", "slow", "speed", ""]),
              st.one_of(st.integers(-(10**30), 10**30).map(str), st.floats().map(str),
                        WEIRD_TEXT, st.sampled_from(["1e9", "0x10", "5.0", " 7 ", "١٠"]))),
    WEIRD_TEXT,
)  # fmt: skip
FEES = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0.001", "1e-3", "abc", "", "-0", "1e308", "0,001", "٠٫٠٠١"]),
    WEIRD_TEXT,
)
MODE = st.one_of(st.none(), st.sampled_from(["event", "vector", "EVENT", "", "fast"]), WEIRD_TEXT)


@FUZZ
@given(
    params=st.lists(PARAM, max_size=3),
    fees=FEES,
    mode=MODE,
    drop=st.sets(st.sampled_from(["strategy", "data"]), max_size=1),
)
def test_mutated_cli_parameters(
    workspace: Path, params: list[str], fees: str | None, mode: str | None, drop: set[str]
) -> None:
    csv = workspace / "SPY.csv"
    before = csv.read_bytes()
    out = workspace / f"cli{next(_counter)}"
    argv = ["run"] + ([] if "strategy" in drop else ["sma_cross"])
    argv += [] if "data" in drop else ["--data", str(csv)]
    for p in params:
        argv += ["--param", p]
    argv += [] if fees is None else ["--fees", fees]
    argv += [] if mode is None else ["--mode", mode]
    argv += ["--out", str(out)]
    code, stdout, err = invoke(argv)
    check_outcome(code, stdout, err, out)
    assert csv.read_bytes() == before
