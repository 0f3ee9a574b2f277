"""The search space of `flowbt optimize`: grid specs, bounds-derived defaults, sampling,
constraints, error texts, and fuzzing that only ValueError ever escapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from pydantic import Field, TypeAdapter

from flowbt.optimize.space import Constraint, Dimension, build_space, parse_grid
from strategies.base import Strategy, StrategyParams
from strategies.registry import get_strategy


class ProbeParams(StrategyParams):
    n: int = Field(5, gt=0, lt=10)
    x: float = Field(1.0, gt=0.0)  # one bound only: not searched by default
    y: float = Field(0.5, ge=0.0, lt=2.0)
    k: int = 3  # unbounded
    mode: Literal["a", "b"] = "a"
    flag: bool = False
    label: str = "z"
    pair: tuple[int, ...] = ()


class Probe(Strategy):
    """Not registered: build_space takes the class itself."""

    name = "probe"
    Params = ProbeParams


# --------------------------------------------------------------------------- parse_grid


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("fast=5:20:4", ("fast", ("5", "20", "4"))),
        (" slow = 10, 30 ,20 ", ("slow", ["10", "30", "20"])),
        ("fast=5", ("fast", ["5"])),
        ("threshold=0.2 : 1 : 5", ("threshold", ("0.2", "1", "5"))),
    ],
)
def test_parse_grid_forms(spec: str, expected: object) -> None:
    assert parse_grid(spec) == expected


@pytest.mark.parametrize(
    "spec",
    ["fast", "=1:2:3", "fast=", "fast=1:2", "fast=1:2:3:4", "fast=1::3", "fast=1,,2", "9x=1"],
)
def test_parse_grid_rejects_malformed_specs_naming_them(spec: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_grid(spec)
    assert f"(--grid {spec})" in str(err.value)
    assert "; fix: --grid " in str(err.value)


# --------------------------------------------------------------------------- grid specs


def test_int_range_rounds_half_up_and_drops_duplicates() -> None:
    # linspace(1, 4, 3) = 1, 2.5, 4 -> 1, 3, 4 (half up, not to even)
    (dim,) = build_space("sma_cross", ["fast=1:4:3"]).dimensions
    assert dim == Dimension("fast", "int", (1, 3, 4), 1.0, 4.0)
    assert all(type(v) is int for v in dim.values)
    # 1, 1.25, ..., 3 (9 points) -> 1 1 2 2 2 2 3 3 3 -> 1, 2, 3
    (dim,) = build_space("sma_cross", ["fast=1:3:9"]).dimensions
    assert dim.values == (1, 2, 3)


def test_float_range_is_inclusive_linspace() -> None:
    (dim,) = build_space("buyback_blackout", ["threshold=0.2:1:5"]).dimensions
    assert dim.kind == "float" and (dim.low, dim.high) == (0.2, 1.0)
    assert dim.values == pytest.approx((0.2, 0.4, 0.6, 0.8, 1.0))
    assert dim.optuna_distribution() == FloatDistribution(0.2, 1.0)


def test_explicit_lists_are_typed_and_sorted() -> None:
    space = build_space("sma_cross", ["slow=50,20,30", "fast=5,5,10"])
    slow, fast = space.dimensions
    assert slow == Dimension("slow", "int", (20, 30, 50))  # no range: choose among them
    assert fast.values == (5, 10)
    assert slow.optuna_distribution() == CategoricalDistribution((20, 30, 50))
    (w,) = build_space("buyback_blackout", ["blackout_weight=0.5,0.25"]).dimensions
    assert w.values == (0.25, 0.5) and all(type(v) is float for v in w.values)


def test_literal_choices_parse_as_their_type() -> None:
    (weeks,) = build_space("liquidity_rotation", ["weeks=4,13"]).dimensions
    assert weeks == Dimension("weeks", "categorical", (4, 13))
    assert all(type(v) is int for v in weeks.values)
    with pytest.raises(ValueError, match=r"weeks=5 is not one of 4, 13 .*fix: --grid weeks=4,13"):
        build_space("liquidity_rotation", ["weeks=5"])
    with pytest.raises(ValueError, match="not a range"):
        build_space("liquidity_rotation", ["weeks=4:13:2"])
    space = build_space("fed_pivot", ["off_asset=cash,TLT", "equity=QQQ"])
    assert space.dimensions[0].values == ("cash", "TLT")  # categorical: as given
    assert space.fixed == {"equity": "QQQ"}


def test_bools_and_single_values() -> None:
    space = build_space("cta_trend", ["long_only=TRUE,false", "target_vol=0.1:0.3:1"])
    assert space.dimensions == (Dimension("long_only", "categorical", (True, False)),)
    assert space.fixed == {"target_vol": 0.1}  # NUM=1: START, fixed
    assert space.unsearched == ("max_leverage",)
    with pytest.raises(ValueError, match="long_only=yes is not true or false"):
        build_space("cta_trend", ["long_only=yes"])


def test_mapping_grid_takes_lists_and_range_tuples() -> None:
    space = build_space("liquidity_rotation", {"drain_z": (-1, 1, 3), "weeks": [13, 4]})
    assert space.dimensions == (
        Dimension("drain_z", "float", (-1.0, 0.0, 1.0), -1.0, 1.0),
        Dimension("weeks", "categorical", (13, 4)),
    )
    assert build_space("sma_cross", {"fast": "2:6:3", "slow": 50}).fixed == {"slow": 50}


# --------------------------------------------------------------------------- default space


def test_default_space_of_buyback_blackout_nudges_the_open_bound() -> None:
    space = build_space("buyback_blackout")
    threshold, weight = space.dimensions
    # gt=0, le=1: low = 0 + 1% of the range = 0.01; 5 points, step 0.2475
    assert (threshold.kind, threshold.low, threshold.high) == ("float", 0.01, 1.0)
    assert threshold.values == pytest.approx((0.01, 0.2575, 0.505, 0.7525, 1.0))
    assert weight.values == (0.0, 0.25, 0.5, 0.75, 1.0)  # ge=0, le=1: closed
    assert space.size() == 25 and space.fixed == {} and space.unsearched == ()


def test_default_space_of_liquidity_rotation() -> None:
    drain, weeks = build_space("liquidity_rotation").dimensions
    assert drain == Dimension("drain_z", "float", (-3.0, -1.5, 0.0, 1.5, 3.0), -3.0, 3.0)
    assert weeks == Dimension("weeks", "categorical", (4, 13))
    assert weeks.optuna_distribution() == CategoricalDistribution((4, 13))


def test_default_space_of_sma_cross_rounds_int_points() -> None:
    fast, slow = build_space("sma_cross").dimensions
    # fast 1..1000: 1, 250.75, 500.5, 750.25, 1000; slow 2..5000: step 1249.5
    assert fast == Dimension("fast", "int", (1, 251, 501, 750, 1000), 1.0, 1000.0)
    assert slow.values == (2, 1252, 2501, 3751, 5000)
    assert fast.optuna_distribution() == IntDistribution(1, 1000)
    assert build_space("sma_cross", default_points=3).dimensions[0].values == (1, 501, 1000)


def test_default_space_skips_half_bounded_and_unsearchable_fields() -> None:
    space = build_space(Probe)
    assert space.names() == ["n", "y", "mode", "flag"]
    n, y, mode, flag = space.dimensions
    assert n == Dimension("n", "int", (1, 3, 5, 7, 9), 1.0, 9.0)  # gt=0 lt=10 -> 1..9
    assert y.high == pytest.approx(1.98)  # lt=2: 2 - 1% of 2
    assert y.values == pytest.approx((0.0, 0.495, 0.99, 1.485, 1.98))
    assert mode.values == ("a", "b") and flag.values == (False, True)
    assert space.unsearched == ("x", "k", "label", "pair")
    with pytest.raises(ValueError, match=r"nothing to search for strategy composite .*fix:"):
        build_space("composite")


# --------------------------------------------------------------------------- grid / sample


def test_grid_order_size_and_fixed_params() -> None:
    space = build_space("fed_pivot", ["equity=QQQ", "swing_days=5:15:3", "off_asset=TLT,cash"])
    assert space.names() == ["swing_days", "off_asset"] and space.size() == 6
    assert space.grid() == [
        {"equity": "QQQ", "swing_days": d, "off_asset": a}
        for d in (5, 10, 15)
        for a in ("TLT", "cash")
    ]


def test_sample_is_deterministic_within_bounds_and_typed() -> None:
    space = build_space(
        "fed_pivot",
        ["equity_weight=0.2:0.6:3", "swing_days=3:9:4", "off_asset=TLT,IEF", "equity=SPY"],
    )
    trials = space.sample(60, seed=7)
    assert trials == space.sample(60, seed=7) and trials != space.sample(60, seed=8)
    assert len(trials) == 60 and space.sample(0, seed=1) == []
    for t in trials:
        assert set(t) == {"equity_weight", "swing_days", "off_asset", "equity"}
        assert type(t["swing_days"]) is int and 3 <= t["swing_days"] <= 9
        assert type(t["equity_weight"]) is float and 0.2 <= t["equity_weight"] <= 0.6
        assert t["off_asset"] in ("TLT", "IEF") and t["equity"] == "SPY"
    # the range is sampled, not only the grid points 3, 5, 7, 9
    assert {t["swing_days"] for t in trials} - {3, 5, 7, 9}
    with pytest.raises(ValueError, match="fix:"):
        space.sample(-1, seed=0)
    # an explicit list is chosen from, never interpolated
    (slow,) = build_space("sma_cross", ["slow=30,60,90"]).dimensions
    assert {t["slow"] for t in build_space("sma_cross", ["slow=30,60,90"]).sample(40, 3)} == {
        30,
        60,
        90,
    }
    assert slow.low is None


# --------------------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        ("fast * 2 <= slow", {"fast": 10, "slow": 20}, True),
        ("fast * 2 <= slow", {"fast": 11, "slow": 20}, False),
        ("1 <= fast < slow", {"fast": 1, "slow": 2}, True),
        ("1 <= fast < slow", {"fast": 2, "slow": 2}, False),
        ("-fast + 3 * 2 > 0", {"fast": 5}, True),  # -5 + 6 = 1
        ("-fast + 3 * 2 > 0", {"fast": 7}, False),  # -7 + 6 = -1
        ("slow / fast >= 2.5", {"fast": 10, "slow": 25}, True),
        ("slow / fast >= 2.5", {"fast": 10, "slow": 24}, False),
        ("fast % 5 == 0 or slow ** 0.5 >= 10", {"fast": 7, "slow": 100}, True),
        ("fast % 5 == 0 or slow ** 0.5 >= 10", {"fast": 7, "slow": 99}, False),
        ("not (fast == slow) and (fast - 1) * 2 != slow", {"fast": 3, "slow": 4}, False),
    ],
)
def test_constraint_holds(text: str, params: dict[str, int], expected: bool) -> None:
    c = Constraint.parse(text, ["fast", "slow"])
    assert c.holds(params) is expected
    assert c.names <= {"fast", "slow"} and c.text == text


def test_constraint_over_two_floats_and_a_literal() -> None:
    c = Constraint.parse(
        "threshold > 0.2 and blackout_weight < 0.8", ["threshold", "blackout_weight"]
    )
    assert c.names == frozenset({"threshold", "blackout_weight"})
    assert c.holds({"threshold": 0.3, "blackout_weight": 0.5})
    assert not c.holds({"threshold": 0.2, "blackout_weight": 0.5})
    off = Constraint.parse("off_asset != 'cash' or off_weight == 0", ["off_asset", "off_weight"])
    assert off.holds({"off_asset": "TLT", "off_weight": 1.0})
    assert not off.holds({"off_asset": "cash", "off_weight": 1.0})


def test_space_check_returns_the_first_violated_constraint() -> None:
    space = build_space(
        "sma_cross", ["fast=5:20:4", "slow=10,30"], ["fast < slow", "slow - fast >= 10"]
    )
    assert space.check({"fast": 15, "slow": 10}) == "fast < slow"
    assert space.check({"fast": 5, "slow": 10}) == "slow - fast >= 10"
    assert space.check({"fast": 5, "slow": 30}) is None
    assert len(space.grid()) == 8  # constraints are not applied by grid()
    assert [p["fast"] for p in space.grid() if space.check(p) is None] == [5, 10, 15, 20]


def test_constraint_errors_name_the_constraint() -> None:
    with pytest.raises(ValueError) as err:
        build_space("sma_cross", constraints=["fast < slwo"])
    assert str(err.value) == (
        "constraint 'fast < slwo' names unknown parameter slwo (--constraint); "
        "fix: use parameters of sma_cross: fast, slow"
    )
    with pytest.raises(ValueError, match=r"names slow, which is not searched .*--grid slow=50"):
        build_space("sma_cross", ["fast=5:20:4"], ["fast < slow"])
    c = Constraint.parse("slow / fast > 1", ["fast", "slow"])
    with pytest.raises(ValueError, match="division by zero"):
        c.holds({"fast": 0, "slow": 1})
    with pytest.raises(ValueError, match="needs parameter slow"):
        c.holds({"fast": 1})
    with pytest.raises(ValueError, match="arithmetic needs numbers"):
        Constraint.parse("x * 10 ** 12 > 1", ["x"]).holds({"x": "text"})


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x')",
        "__import__('os').system('x') < 1",
        "a.b < 1",
        "fast.real < 1",
        "().__class__ < 1",
        "fast[0] < 1",
        "(lambda: 1)() < 2",
        "fast in (1, 2)",
        "fast is 1",
        "fast < slow; 1",
        "[x for x in ()] < 1",
        "(fast < slow) + 1 > 0",
        "fast",
        "fast + slow",
        "not fast",
        "fast < None",
        "fast < 1j",
        "",
        "   ",
        "fast <",
        "fast < 1" + " " * 300,
    ],
)
def test_constraint_rejects_anything_but_comparisons(text: str) -> None:
    with pytest.raises(ValueError) as err:
        Constraint.parse(text, ["fast", "slow", "a"])
    assert f"constraint {text!r}" in str(err.value) and "(--constraint); fix: " in str(err.value)


# --------------------------------------------------------------------------- error texts


@pytest.mark.parametrize(
    ("strategy", "spec", "message"),
    [
        (
            "sma_cross",
            "fsat=5:20:4",
            "unknown parameter 'fsat' for strategy sma_cross (--grid fsat=5:20:4); "
            "fix: use one of fast, slow",
        ),
        (
            "buyback_blackout",
            "threshold=0.2:1.5:5",
            "threshold=1.5 is outside its bounds 0 < threshold <= 1 "
            "(--grid threshold=0.2:1.5:5); fix: --grid threshold=0.2:1:5",
        ),
        (
            "buyback_blackout",
            "threshold=0:1:5",
            "threshold=0 is outside its bounds 0 < threshold <= 1 "
            "(--grid threshold=0:1:5); fix: --grid threshold=0.01:1:5",
        ),
        (
            "sma_cross",
            "fast=0,5,10",
            "fast=0 is outside its bounds 1 <= fast <= 1000 (--grid fast=0,5,10); "
            "fix: --grid fast=5,10",
        ),
        (
            "sma_cross",
            "fast=20:5:4",
            "START 20 is above STOP 5 (--grid fast=20:5:4); fix: --grid fast=5:20:4",
        ),
        ("sma_cross", "fast=5:20:0", "(--grid fast=5:20:0); fix: --grid fast=5:20:5"),
        ("sma_cross", "fast=5:20:2.5", "(--grid fast=5:20:2.5); fix: --grid fast=5:20:5"),
        ("sma_cross", "fast=5:20:99999", "(--grid fast=5:20:99999); fix:"),
        ("sma_cross", "fast=1.5:3:3", "fast=1.5 is not an integer (--grid fast=1.5:3:3); fix:"),
        ("sma_cross", "fast=a,b", "fast=a is not an integer (--grid fast=a,b); fix:"),
        ("buyback_blackout", "threshold=nan:1:3", "threshold=nan is not a finite number"),
        ("buyback_blackout", "threshold=x", "(--grid threshold=x); fix: --grid threshold=0.01:1:5"),
        ("sma_cross", "fast=", "grid of fast is empty (--grid fast=); fix:"),
        ("probe", "label=q", "parameter label of probe cannot be searched (--grid label=q); fix:"),
        ("probe", "k=1:1" + "0" * 400 + ":3", "range of k is too wide for floats"),
    ],
)
def test_grid_errors_name_the_spec_and_a_fix(strategy: str, spec: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        build_space(Probe if strategy == "probe" else strategy, [spec])
    assert message in str(err.value)
    assert f"(--grid {spec})" in str(err.value) and "; fix: " in str(err.value)


def test_other_errors_carry_a_fix() -> None:
    with pytest.raises(ValueError, match=r"given twice \(--grid fast=1:4:3, --grid fast=2\); fix:"):
        build_space("sma_cross", ["fast=1:4:3", "fast=2"])
    with pytest.raises(
        ValueError, match=r"unknown strategy 'smacross' \(optimize\); fix: .*sma_cross"
    ):
        build_space("smacross")
    with pytest.raises(ValueError, match=r"nothing to search .*fix: give --grid"):
        build_space("sma_cross", ["fast=5"])  # a single value is fixed, nothing varies
    with pytest.raises(ValueError, match="fix: use 2 or more"):
        build_space("sma_cross", default_points=1)


# --------------------------------------------------------------------------- fuzzing

STRATEGIES: list[str | type[Strategy]] = [
    "sma_cross",
    "buyback_blackout",
    "liquidity_rotation",
    Probe,
]
NAMES = [
    "fast",
    "slow",
    "threshold",
    "blackout_weight",
    "weeks",
    "drain_z",
    *ProbeParams.model_fields,
]
TOKEN = st.one_of(
    st.integers(1, 9).map(str),  # valid for most parameters
    st.floats(0.01, 0.99).map(lambda v: f"{v:.2f}"),
    st.integers(-10, 2000).map(str),
    st.floats(-5, 5, allow_nan=False).map(lambda v: f"{v:.3g}"),
    st.sampled_from(["true", "FALSE", "4", "13", "a", "b", "0", "1", "nan", "inf", "1e999", " "]),
    st.text(alphabet="0123456789.-e_", max_size=6),
)
RANGE = st.builds(
    ":".join, st.tuples(TOKEN, TOKEN, st.integers(-1, 12).map(str)) | st.tuples(TOKEN, TOKEN, TOKEN)
)
RHS = st.one_of(RANGE, st.lists(TOKEN, min_size=1, max_size=4).map(",".join), st.text(max_size=12))
SPECS = st.one_of(st.builds("{}={}".format, st.sampled_from(NAMES), RHS), st.text(max_size=30))
ATOM = st.one_of(st.sampled_from(["fast", "slow", "x", "y", "z"]), TOKEN, st.just("'a'"))
ARITH = st.recursive(
    ATOM,
    lambda e: (
        st.builds("{} {} {}".format, e, st.sampled_from(["+", "-", "*", "/", "%", "**"]), e)
        | e.map("-({})".format)
    ),
    max_leaves=6,
)
COMPARE = st.builds(
    "{} {} {}".format, ARITH, st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "in", "is"]), ARITH
)
LOGIC = st.recursive(
    COMPARE,
    lambda e: (
        st.builds("{} {} {}".format, e, st.sampled_from(["and", "or"]), e)
        | e.map("not ({})".format)
    ),
    max_leaves=3,
)
EXPR = st.one_of(
    LOGIC, ARITH, st.text(alphabet="fastlowxy 0123456789.+-*/%<>=!()andort'_[]", max_size=40)
)


@settings(max_examples=200, deadline=None)
@given(spec=SPECS)
def test_parse_grid_only_raises_value_error(spec: str) -> None:
    try:
        name, rhs = parse_grid(spec)
    except ValueError as exc:
        assert "fix:" in str(exc)
        return
    assert name.isidentifier() and rhs and all(rhs)


def _field_adapter(cls: type[Strategy], name: str) -> TypeAdapter[Any]:
    info = cls.Params.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_build_space_returns_a_valid_space_or_raises_value_error(data: st.DataObject) -> None:
    """Whatever it returns passes the Params' own validation, value by value."""
    strategy = data.draw(st.sampled_from(STRATEGIES))
    cls = get_strategy(strategy) if isinstance(strategy, str) else strategy
    own = st.sampled_from(list(cls.Params.model_fields))
    spec = st.builds("{}={}".format, own, RHS)
    specs = data.draw(st.lists(st.one_of(spec, spec, spec, spec, SPECS), max_size=3, unique_by=str))
    pair = st.builds("{} {} {}".format, own, st.sampled_from(["<", ">="]), own | TOKEN)
    constraint = data.draw(st.one_of(pair, pair, st.just(""), EXPR))
    try:
        space = build_space(strategy, specs, [constraint] if constraint else ())
    except ValueError as exc:
        assert "fix:" in str(exc)
        return
    assert space.size() >= 1 and space.dimensions
    for d in space.dimensions:
        adapter = _field_adapter(cls, d.name)
        for v in d.values:
            assert adapter.validate_python(v) == v and type(adapter.validate_python(v)) is type(v)
        if d.kind != "categorical":
            assert list(d.values) == sorted(d.values)
        if d.low is not None and d.high is not None:
            assert d.low == d.values[0] and d.values[-1] == d.high
            adapter.validate_python(d.low if d.kind == "float" else int(d.low))
    for name, v in space.fixed.items():
        assert _field_adapter(cls, name).validate_python(v) == v
    for trial in space.sample(3, seed=0):
        try:
            space.check(trial)
        except ValueError as exc:
            assert "fix:" in str(exc)


@settings(max_examples=200, deadline=None)
@given(text=EXPR | st.text(max_size=60), fast=st.integers(-5, 5), slow=st.integers(-5, 5))
def test_constraint_parse_and_holds_only_raise_value_error(text: str, fast: int, slow: int) -> None:
    try:
        c = Constraint.parse(text, ["fast", "slow", "x", "y"])
        assert c.holds({"fast": fast, "slow": slow, "x": 0.5, "y": "a"}) in (True, False)
    except ValueError as exc:
        assert "fix:" in str(exc)
