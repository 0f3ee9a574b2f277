"""The ``[optimize]`` table of an experiment config, and the options laid over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowbt.optimize.api import optimize

CONFIG = """
strategy = "buyback_blackout"
start = 2018-01-02
[costs]
fees = 0.0005
[optimize]
grid = { threshold = "0.2:0.8:4", blackout_weight = [0.0, 0.5] }
constraints = ["threshold > blackout_weight + 0.25"]
objective = "calmar"
seed = 3
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "opt.toml"
    path.write_text(CONFIG)
    return path


def test_the_table_sets_grid_constraints_objective_and_costs(config, bundle):
    opt = optimize(config=config, md=bundle, spa_reps=20)
    res = opt.results
    assert len(res) == 4 * 2
    # rejected exactly where threshold <= blackout_weight + 0.25 (0.2 with 0; 0.2, 0.4, 0.6 with 0.5)
    want = res["threshold"] <= res["blackout_weight"] + 0.25
    assert (res.loc[want, "status"] == "rejected").all() and want.sum() == 4
    assert (res.loc[~want, "status"] == "ok").all()
    ok = res[res["status"] == "ok"]
    assert (ok["objective"] == ok["calmar"]).all()
    assert opt.summary["objective"] == "calmar" and opt.summary["seed"] == 3
    assert opt.experiment.costs.fees == 0.0005
    assert opt.summary["start"] >= "2018-01-02"


def test_options_override_the_table_and_constraints_add_up(config, bundle):
    opt = optimize(
        config=config,
        md=bundle,
        grid=["threshold=0.3:0.9:3", "blackout_weight=0"],
        objective="sharpe",
        constraint=["threshold < 0.8"],
        spa_reps=20,
    )
    res = opt.results
    assert sorted(res["threshold"]) == [0.3, 0.6, 0.9]
    assert (res["blackout_weight"] == 0.0).all()  # the options' grid replaced the table's
    assert opt.summary["objective"] == "sharpe"
    # the table's constraint (threshold > 0.25 here) and the option's (< 0.8) both apply
    assert res.set_index("threshold")["status"].to_dict() == {
        0.3: "ok",
        0.6: "ok",
        0.9: "rejected",
    }


def test_a_table_constraint_on_a_parameter_the_options_stopped_searching_is_refused(config, bundle):
    with pytest.raises(ValueError, match="blackout_weight, which is not searched.*fix:"):
        optimize(config=config, md=bundle, grid=["threshold=0.3:0.9:3"])


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ("[optimize]\ngrdi = 1\n", "grdi"),
        ("[optimize]\nrandom = 0\n", "random"),
        ("optimize = 5\n", "not a table"),
        ("[optimize]\nobjective = 'profit'\n", "unknown objective"),
    ],
)
def test_a_bad_table_is_one_line_with_a_fix(tmp_path, bundle, table, match):
    path = tmp_path / "bad.toml"
    path.write_text('strategy = "buyback_blackout"\n' + table)
    with pytest.raises(ValueError, match=match) as err:
        optimize(config=path, md=bundle)
    assert "fix:" in str(err.value) and "\n" not in str(err.value)


def test_a_constraint_that_cannot_be_evaluated_for_a_trial_rejects_that_trial(bundle):
    opt = optimize(
        "buyback_blackout",
        bundle,
        grid=["threshold=0.2:0.8:3", "blackout_weight=0,0.5"],
        constraint=["threshold / blackout_weight > 1"],
        start="2020-01-02",
        spa_reps=20,
    )
    res = opt.results
    zero = res["blackout_weight"] == 0.0
    assert (res.loc[zero, "status"] == "rejected").all()
    assert res.loc[zero, "reason"].str.contains("division by zero").all()
    # 0.2 / 0.5 and 0.5 / 0.5 are not > 1: rejected by the constraint itself; 0.8 / 0.5 runs
    half = res[~zero].set_index("threshold")["status"].to_dict()
    assert half == {0.2: "rejected", 0.5: "rejected", 0.8: "ok"}
