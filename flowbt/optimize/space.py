"""The parameter search space of ``flowbt optimize``: what a strategy's trials may vary.

A `Space` holds one `Dimension` per searched parameter (its grid values and, for ranges,
the interval random/optuna sample from), the `fixed` parameters passed to every trial,
the parameters left at their default (`unsearched`) and `Constraint` expressions a trial
must satisfy (``check``; ``grid`` and ``sample`` do not apply them). `build_space` rules:

* ``--grid NAME=START:STOP:NUM``: ``np.linspace(START, STOP, NUM)``, inclusive; an int
  parameter needs integer ends, points round half up and duplicates are dropped.
  Random/optuna sample from ``[START, STOP]``.
* ``--grid NAME=v1,v2,...``: values parsed to the parameter's type (int, float, bool
  ``true/false``, a Literal's choices), numerics sorted ascending; random/optuna choose
  among them. A single value (or NUM=1, meaning START) is fixed, not searched.
* no grid: each numeric field with a lower and an upper bound gets ``default_points``
  linspace points between them (open bounds nudged inward: floats by 1% of the range,
  ints by 1), Literal fields their choices, bools (False, True); the rest is unsearched.
* every value is checked against the Params bounds (ge/gt/le/lt) and Literal choices.
* constraints (``"fast < slow"``, ``"fast * 2 <= slow and slow < 200"``) are parsed with
  `ast` and walked by a small evaluator, never eval: parameter names, numbers (and quoted
  strings, for Literal parameters), + - * / % **, comparisons, and/or/not, parentheses.
  A constraint may only name searched or fixed parameters.

Every mistake is a ``ValueError`` reading ``what (where); fix: how``.
"""

from __future__ import annotations

import ast
import itertools
import math
import numbers
import operator
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from strategies.base import Strategy
from strategies.registry import get_strategy, known_strategies

if TYPE_CHECKING:
    import optuna

MAX_POINTS = 10_000  # per dimension
_BIN: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod,
    ast.Pow: lambda a, b: float(a) ** float(b),  # floats: 10 ** 10 ** 10 overflows, never hangs
}  # fmt: skip
_CMP: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}  # fmt: skip
_ALLOWED = "use only parameter names, numbers, + - * / % **, comparisons, and/or/not, ( )"
Kind = Literal["float", "int", "categorical"]


def _err(what: str, where: str, fix: str) -> ValueError:
    return ValueError(f"{what} ({where}); fix: {fix}")


@dataclass(frozen=True)
class Dimension:
    name: str
    kind: Kind
    values: tuple[Any, ...]  # the grid values, ascending for numeric kinds
    low: float | None = None  # the range random/optuna sample from, inclusive (None: values)
    high: float | None = None

    def optuna_distribution(self) -> optuna.distributions.BaseDistribution:
        from optuna import distributions as od

        if self.low is None or self.high is None or self.kind == "categorical":
            return od.CategoricalDistribution(self.values)
        if self.kind == "int":
            return od.IntDistribution(int(self.low), int(self.high))
        return od.FloatDistribution(self.low, self.high)


class Constraint:
    """A comparison over parameters, parsed once; `holds` walks the tree (no eval)."""

    def __init__(self, text: str, tree: ast.expr, names: frozenset[str]) -> None:
        self.text, self._tree, self.names = text, tree, names

    def __repr__(self) -> str:
        return f"Constraint({self.text!r})"

    @classmethod
    def parse(cls, text: str, known: Sequence[str], *, strategy: str = "") -> Constraint:
        """``strategy`` only words the fix of an unknown name (``parameters of <it>``)."""
        what, where = f"constraint {text!r}", "--constraint"
        fix = f'--constraint "{known[0]} < {known[1]}"' if len(known) > 1 else _ALLOWED
        if not text.strip() or len(text) > 300:
            raise _err(f"{what} is empty or longer than 300 characters", where, fix)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings of odd input
                tree = ast.parse(text.strip(), mode="eval").body
            names: set[str] = set()
            bad = _check(tree, names, logical=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise _err(f"{what} is not an expression", where, fix) from None
        if bad == "no comparison":
            raise _err(f"{what} is not a comparison", where, fix)
        if bad:
            raise _err(f"{what} uses {bad}, which is not allowed", where, _ALLOWED)
        if unknown := sorted(names - set(known)):
            whose = f"parameters of {strategy}:" if strategy else "one of"
            fix = f"use {whose} {', '.join(known)}"
            raise _err(f"{what} names unknown parameter {', '.join(unknown)}", where, fix)
        return cls(text.strip(), tree, frozenset(names))

    def holds(self, params: Mapping[str, Any]) -> bool:
        try:
            return bool(_eval(self._tree, params))
        except KeyError as exc:
            why = f"needs parameter {exc.args[0]}"
        except (ArithmeticError, TypeError, ValueError) as exc:
            why = f"fails ({exc})"
        what = f"constraint {self.text!r} {why} at {dict(params)}"
        raise _err(what, "--constraint", "rewrite it so that every trial can be evaluated")


def _check(node: ast.expr, names: set[str], logical: bool) -> str:
    """'' if ``node`` is allowed (a comparison when ``logical``), else what is wrong."""
    if logical and isinstance(node, ast.BoolOp):
        return next((b for v in node.values if (b := _check(v, names, True))), "")
    if logical and isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _check(node.operand, names, True)
    if logical != isinstance(node, ast.Compare):
        return "no comparison" if logical else "a comparison inside arithmetic"
    if isinstance(node, ast.Compare):
        if any(type(op) not in _CMP for op in node.ops):
            return "an 'is' or 'in' test"
        return next((b for v in [node.left, *node.comparators] if (b := _check(v, names, False))), "")  # fmt: skip
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _check(node.left, names, False) or _check(node.right, names, False)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _check(node.operand, names, False)
    if isinstance(node, ast.Name):
        names.add(node.id)
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        return ""
    kinds = {ast.Call: "a call", ast.Attribute: "an attribute", ast.Subscript: "a subscript"}
    return kinds.get(type(node), f"{type(node).__name__.lower()} syntax")


def _eval(node: ast.expr, params: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, params) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, params)
        return not v if isinstance(node.op, ast.Not) else -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Compare):
        left = _eval(node.left, params)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, params)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, params), _eval(node.right, params)
        if not (isinstance(a, numbers.Real) and isinstance(b, numbers.Real)):
            raise TypeError("arithmetic needs numbers")  # no 'x' * 10 ** 12
        return _BIN[type(node.op)](a, b)
    if isinstance(node, ast.Name):
        return params[node.id]
    assert isinstance(node, ast.Constant)
    return node.value


@dataclass(frozen=True)
class Space:
    strategy: str
    dimensions: tuple[Dimension, ...]
    constraints: tuple[Constraint, ...] = ()
    fixed: Mapping[str, Any] = field(default_factory=dict)  # passed to every trial
    unsearched: tuple[str, ...] = ()  # parameters left at the strategy's default

    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    def size(self) -> int:
        return math.prod(len(d.values) for d in self.dimensions)

    def grid(self) -> list[dict[str, Any]]:
        """The cartesian product, first dimension slowest, fixed merged; no constraints."""
        combos = itertools.product(*(d.values for d in self.dimensions))
        return [{**self.fixed, **dict(zip(self.names(), c, strict=True))} for c in combos]

    def sample(self, n: int, seed: int) -> list[dict[str, Any]]:
        """``n`` random trials (fixed merged, no constraints), the same for the same seed."""
        if n < 0:
            raise _err(f"cannot draw {n} trials", "sample", "ask for 0 or more")
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            trial = dict(self.fixed)
            for d in self.dimensions:
                if d.low is None or d.high is None or d.kind == "categorical":
                    trial[d.name] = d.values[int(rng.integers(len(d.values)))]
                elif d.kind == "int":
                    trial[d.name] = int(rng.integers(int(d.low), int(d.high), endpoint=True))
                else:
                    trial[d.name] = float(rng.uniform(d.low, d.high))
            out.append(trial)
        return out

    def check(self, params: Mapping[str, Any]) -> str | None:
        """None if every constraint holds, else the text of the first one violated."""
        return next((c.text for c in self.constraints if not c.holds(params)), None)


def parse_grid(spec: str) -> tuple[str, list[str] | tuple[str, str, str]]:
    """``NAME=START:STOP:NUM`` -> (name, (start, stop, num)); ``NAME=v1,v2`` -> (name, [...])."""
    name, eq, rhs = (s.strip() for s in spec.partition("="))
    where, fix = f"--grid {spec}", "--grid NAME=START:STOP:NUM or --grid NAME=v1,v2"
    if not eq or not name.isidentifier():
        raise _err(f"grid {spec!r} does not start with a parameter name and =", where, fix)
    fix = fix.replace("NAME", name)
    if not rhs:
        raise _err(f"grid of {name} is empty", where, fix)
    parts = [s.strip() for s in rhs.split(":" if ":" in rhs else ",")]
    if "" in parts or (":" in rhs and len(parts) != 3):
        raise _err(f"grid {rhs!r} of {name} is neither START:STOP:NUM nor v1,v2,...", where, fix)
    return (name, (parts[0], parts[1], parts[2])) if ":" in rhs else (name, parts)


def _typed(token: str, t: type) -> Any:
    """``token`` as a ``t`` (bool: true/false; numbers finite), None if it is not one."""
    if t is bool:
        return token.lower() == "true" if token.lower() in ("true", "false") else None
    if t is str:
        return token
    try:
        value = t(token)
    except (ValueError, TypeError):
        return None
    return value if t is int or math.isfinite(value) else None


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else str(v)


@dataclass(frozen=True)
class _Param:
    """What build_space needs of one Params field."""

    name: str
    kind: str  # float, int, bool, literal or other (not searchable)
    choices: tuple[Any, ...]  # of literal and bool
    bounds: dict[str, float]  # the ge/gt/le/lt it has

    @classmethod
    def of(cls, name: str, info: Any) -> _Param:
        ann, metas = info.annotation, info.metadata
        literal = typing.get_origin(ann) is Literal
        kind = (
            "literal" if literal else {bool: "bool", int: "int", float: "float"}.get(ann, "other")
        )
        choices = typing.get_args(ann) if literal else (False, True) if kind == "bool" else ()
        bounds = {
            b: getattr(m, b) for m in metas for b in ("ge", "gt", "le", "lt") if hasattr(m, b)
        }
        return cls(name, kind, choices, bounds)

    @property
    def dim_kind(self) -> Kind:
        return "int" if self.kind == "int" else "float" if self.kind == "float" else "categorical"

    def inner(self) -> tuple[Any, Any]:
        """The closed range inside the bounds (open ends nudged inward); None: unbounded."""
        b = self.bounds
        lo: Any = b.get("ge", b.get("gt"))
        hi: Any = b.get("le", b.get("lt"))
        span = hi - lo if lo is not None and hi is not None else 100.0
        step = 1 if self.kind == "int" else 0.01 * span
        return (lo + step if "gt" in b else lo), (hi - step if "lt" in b else hi)

    def text(self) -> str:
        b = self.bounds
        lo = f"{_fmt(b['ge'])} <= " if "ge" in b else f"{_fmt(b['gt'])} < " if "gt" in b else ""
        hi = f" <= {_fmt(b['le'])}" if "le" in b else f" < {_fmt(b['lt'])}" if "lt" in b else ""
        return f"{lo}{self.name}{hi}"

    def within(self, v: Any) -> bool:
        b = self.bounds
        return not (("ge" in b and v < b["ge"]) or ("gt" in b and v <= b["gt"])
                    or ("le" in b and v > b["le"]) or ("lt" in b and v >= b["lt"]))  # fmt: skip

    def coerce(self, token: str, where: str, fix: str) -> Any:
        if self.kind == "literal":
            value = next((c for c in self.choices if _typed(token, type(c)) == c), None)
        else:
            value = _typed(token, {"int": int, "float": float}.get(self.kind, bool))
        if value is None:
            is_not = {"int": "an integer", "float": "a finite number", "bool": "true or false"}
            what = is_not.get(self.kind, "one of " + ", ".join(map(_fmt, self.choices)))
            raise _err(f"{self.name}={token} is not {what}", where, fix)
        return value

    def linspace(
        self, start: float, stop: float, num: int, where: str, fix: str
    ) -> tuple[Any, ...]:
        try:
            with np.errstate(all="ignore"):
                grid = np.linspace(float(start), float(stop), num)
        except OverflowError:  # an int beyond floats
            grid = np.array([np.inf])
        if not np.isfinite(grid).all():
            raise _err(f"range of {self.name} is too wide for floats", where, fix)
        if self.kind == "int":
            return tuple(dict.fromkeys(int(np.floor(x + 0.5)) for x in grid))  # round half up
        # 12 significant digits: 0.3:0.9:3 gives 0.6, not linspace's 0.6000000000000001
        return tuple(dict.fromkeys(float(f"{x:.12g}") for x in grid))

    def values(
        self, rhs: list[str] | tuple[str, str, str], where: str, points: int
    ) -> tuple[Any, ...]:
        """The grid values of ``rhs`` (parse_grid's), checked against type and bounds."""
        lo, hi = self.inner()
        example = f"{_fmt(lo)}:{_fmt(hi)}:{points}" if None not in (lo, hi) else "1:10:5"
        example = ",".join(map(_fmt, self.choices)) if self.choices else example
        fix = f"--grid {self.name}={example}"
        if isinstance(rhs, list):
            values = [self.coerce(t, where, fix) for t in rhs]
            if bad := [v for v in values if not self.within(v)]:
                good = ",".join(_fmt(v) for v in values if self.within(v))
                fix = f"--grid {self.name}={good}" if good else fix
                raise _err(f"{self.name}={_fmt(bad[0])} is outside its bounds {self.text()}", where, fix)  # fmt: skip
            unique = list(dict.fromkeys(values))
            return tuple(unique if self.choices else sorted(unique))
        if self.choices:
            raise _err(f"{self.name} takes one of {example}, not a range", where, fix)
        start, stop = (self.coerce(t, where, fix) for t in rhs[:2])
        num = int(rhs[2]) if rhs[2].isdecimal() and len(rhs[2]) < 9 else 0
        if not 0 < num <= MAX_POINTS:
            fix = f"--grid {self.name}={rhs[0]}:{rhs[1]}:{points}"
            raise _err(f"NUM {rhs[2]!r} is not an integer from 1 to {MAX_POINTS}", where, fix)
        if start > stop:
            fix = f"--grid {self.name}={rhs[1]}:{rhs[0]}:{num}"
            raise _err(f"START {rhs[0]} is above STOP {rhs[1]}", where, fix)
        for v in (start, stop):
            if not self.within(v):
                a = start if lo is None else max(start, lo)
                b = stop if hi is None else min(stop, hi)
                fix = f"--grid {self.name}={_fmt(a)}:{_fmt(b)}:{num}" if a < b else fix
                raise _err(f"{self.name}={_fmt(v)} is outside its bounds {self.text()}", where, fix)
        return self.linspace(start, stop, num, where, fix)


def build_space(
    strategy: str | type[Strategy],
    grid: Sequence[str] | Mapping[str, Any] | None = None,
    constraints: Sequence[str] = (),
    default_points: int = 5,
) -> Space:
    """The space of ``strategy`` from ``--grid`` specs (else its Params) and constraints.

    A Mapping grid gives per name a list of values, a (start, stop, num) tuple, one value
    or the text after ``NAME=``."""
    if isinstance(strategy, str):
        try:
            strategy = get_strategy(strategy)
        except ValueError:
            fix = f"use one of {', '.join(known_strategies())}"
            raise _err(f"unknown strategy {strategy!r}", "optimize", fix) from None
    if default_points < 2:
        raise _err(f"default_points {default_points} is below 2", "optimize", "use 2 or more")
    sname, fields = strategy.name, strategy.Params.model_fields
    params = {n: _Param.of(n, info) for n, info in fields.items()}
    if isinstance(grid, Mapping):
        sep: dict[type, str] = {tuple: ":", list: ","}
        grid = [f"{k}={sep[type(v)].join(map(_fmt, v)) if type(v) in sep else _fmt(v)}" for k, v in grid.items()]  # fmt: skip
    dims: list[Dimension] = []
    fixed: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for spec in grid or ():
        where = f"--grid {spec}"
        name, rhs = parse_grid(spec)
        if name not in params:
            fix = f"use one of {', '.join(params)}"
            raise _err(f"unknown parameter {name!r} for strategy {sname}", where, fix)
        if name in seen:
            raise _err(f"parameter {name} is given twice", f"{seen[name]}, {where}", "keep one")
        seen[name], p = where, params[name]
        if p.kind == "other":
            raise _err(f"parameter {name} of {sname} cannot be searched", where, "drop it")
        values = p.values(rhs, where, default_points)
        if len(values) == 1:
            fixed[name] = values[0]
        elif p.choices or isinstance(rhs, list):
            dims.append(Dimension(name, p.dim_kind, values))
        else:
            dims.append(Dimension(name, p.dim_kind, values, float(values[0]), float(values[-1])))
    for p in () if grid else params.values():
        lo, hi = p.inner()
        if p.choices:
            dims.append(Dimension(p.name, "categorical", p.choices))
        elif p.kind in ("int", "float") and None not in (lo, hi) and lo < hi:
            values = p.linspace(lo, hi, default_points, "bounds", "")
            dims.append(Dimension(p.name, p.dim_kind, values, float(lo), float(hi)))
    if not dims:
        usable = [n for n, p in params.items() if p.kind != "other"]
        fix = f"give --grid NAME=START:STOP:NUM for one of {', '.join(usable)}"
        fix = fix if usable else "optimize a strategy with bounded parameters, e.g. sma_cross"
        raise _err(f"nothing to search for strategy {sname}", "--grid", fix)
    parsed = tuple(Constraint.parse(c, list(params), strategy=sname) for c in constraints)
    searched = set(fixed) | {d.name for d in dims}
    for c in parsed:
        if missing := sorted(c.names - searched):
            fix = f"add --grid {missing[0]}={_fmt(fields[missing[0]].default)} or drop it"
            raise _err(f"constraint {c.text!r} names {missing[0]}, which is not searched", "--constraint", fix)  # fmt: skip
    unsearched = tuple(n for n in params if n not in searched)
    return Space(sname, tuple(dims), parsed, fixed, unsearched)
