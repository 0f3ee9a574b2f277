"""``flowbt optimize``: a sweep into ``--out``; every bad spec is one line and exit 2,
before any trial runs and without writing anything."""

from __future__ import annotations

import json

import pytest
from bt_helpers import PROPERTY, assert_user_error
from bt_helpers import run_cli as run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies.registry import get_strategy

pytestmark = pytest.mark.usefixtures("bundled")

SWEEP = ["optimize", "buyback_blackout", "--start", "2015-01-02"]


def _tree(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_optimize_writes_the_sweep_and_prints_its_summary(tmp_path, capsys, monkeypatch):
    jobs: list = []  # tearsheets recorded, not drawn (the API tests draw one)
    monkeypatch.setattr("flowbt.optimize.outputs.run_job", jobs.append)
    out = tmp_path / "deep" / "sweep"
    code, stdout, err = run(capsys, *SWEEP, "--grid", "threshold=0.2:0.8:3", "--out", str(out))
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_trials"] == 3 and summary["objective"] == "sharpe"
    assert summary["best_params"]["threshold"] in (0.2, 0.5, 0.8)
    for name in ("results.csv", "results.parquet", "manifest.json", "sweep.json"):
        assert (out / name).is_file(), name
    assert [j.html for j in jobs] == [out / "tearsheet.html"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith("flowbt ")
    assert f"-> {out}" in stdout
    assert "PSR=" in stdout and "DSR=" in stdout and "PBO=" in stdout
    assert "Traceback" not in stdout + err


BAD_SPECS = [
    (["--grid", "speed=1:2:3"], "unknown parameter 'speed'"),
    (["--grid", "threshold=0:2:3"], "outside its bounds"),
    (["--grid", "threshold="], "grid of threshold is empty"),
    (["--grid", "threshold=0.2:0.8:3", "--constraint", "speed < 1"], "unknown parameter speed"),
    (["--objective", "bogus"], "unknown objective 'bogus'"),
    (["--chunk", "0"], "--chunk must be >= 1"),
    (["--random", "0"], "--random must be >= 1"),
    (["--random", "5", "--optuna", "5"], "give --random or --optuna, not both"),
    (["--cpcv", "6"], "--cpcv 6 is not N,K"),
    (["--address", "tcp://127.0.0.1:1"], "--address is for --executor dask"),
    (
        ["--address", "tcp://127.0.0.1:1", "--executor", "dask"],
        "cannot reach a dask scheduler at tcp://127.0.0.1:1",
    ),
]


@pytest.mark.parametrize(("args", "needle"), BAD_SPECS, ids=[n for _, n in BAD_SPECS])
def test_a_bad_spec_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, args, needle):
    out = tmp_path / "never"
    code, stdout, err = run(capsys, *SWEEP, *args, "--out", str(out))
    assert_user_error(code, stdout, err, needle)
    assert "fix: " in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_strategy_is_one_line(tmp_path, capsys):
    out = tmp_path / "never"
    code, stdout, err = run(capsys, "optimize", "nope", "--out", str(out))
    assert_user_error(code, stdout, err, "unknown strategy 'nope'")
    assert "buyback_blackout" in err  # the fix names the known ones
    assert not out.exists()


def test_a_foreign_out_folder_is_refused_and_untouched(tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("keep me\n")
    (out / "sub" / "data.csv").write_text("a,b\n1,2\n")
    before = _tree(out)
    code, stdout, err = run(capsys, *SWEEP, "--grid", "threshold=0.2:0.8:3", "--out", str(out))
    assert_user_error(code, stdout, err, "is not empty and holds no flowbt run")
    assert "fix: " in err
    assert _tree(out) == before and sorted(p.name for p in out.iterdir()) == ["notes.txt", "sub"]


GRID_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda name, rest: f"{name}={rest}",
        st.sampled_from([*get_strategy("buyback_blackout").Params.model_fields, "x", ""]),
        st.text(alphabet="0123456789.:,-+eEinfatrueN _=", max_size=16),
    ),
)


@settings(
    PROPERTY,
    max_examples=25,
    deadline=None,
    suppress_health_check=[*PROPERTY.suppress_health_check, HealthCheck.function_scoped_fixture],
)
@given(text=GRID_TEXT)
def test_fuzzed_grid_text_is_exit_0_or_2_never_a_traceback(tmp_path_factory, capsys, text):
    """Any ``--grid`` text: a clean exit or one error line. The ``--out`` folder is someone
    else's, so a text that happens to be a valid grid stops before any trial runs (and a
    short window keeps even that cheap); the folder is never touched."""
    out = tmp_path_factory.getbasetemp() / "fuzz_foreign"
    out.mkdir(exist_ok=True)
    (out / "notes.txt").write_text("keep me\n")
    code, stdout, err = run(
        capsys,
        "optimize", "buyback_blackout", "--end", "2004-06-30",
        f"--grid={text}", "--out", str(out),
    )  # fmt: skip
    assert code in (0, 2)
    assert "Traceback" not in stdout + err
    if code == 2:
        assert err.startswith("flowbt: error: ")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me\n"
