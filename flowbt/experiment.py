"""An experiment: what to backtest and how, from a TOML file and/or CLI options.

One pydantic model validates both: the strategy (or a composite's sleeves) and its
parameters, the universe or symbols, the dates, costs, fills, rebalancing, mode and
benchmark. A mistake is one line naming the key, the bad value and what is allowed::

    strategy = "composite"
    universe = "equities"          # or symbols = ["SPY", "QQQ"]
    start = 2015-01-02
    mode = "event"                 # or "vector"
    fill = "next_open"             # or "close"
    rebalance = "on_change"        # or "every_bar" (default: the strategy's)
    drift_threshold = 0.0          # with every_bar: trade only assets this far off target
    benchmark = "SPY"
    [costs]
    fees = 0.001                   # fraction of notional per fill (the default: 10 bps)
    slippage = 0.0
    [[sleeves]]                    # composite only
    strategy = "cta_trend"
    weight = 0.5
    params = { target_vol = 0.15 }

Fees default to ``DEFAULT_FEES`` (10 bps per fill) everywhere in the application:
`flowbt.backtest`, ``flowbt run``, ``flowbt backtest`` and configs.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from data.universes import universe
from engine.config import BacktestConfig
from engine.costs import CostModel
from strategies.base import Strategy
from strategies.composite import SleeveSpec
from strategies.registry import get_strategy, known_strategies

DEFAULT_FEES = 0.001  # fraction of notional per fill: 10 bps


class Costs(CostModel):
    """Trading costs of an experiment (`engine.costs.CostModel` with the application's
    fee default)."""

    fees: float = Field(DEFAULT_FEES, ge=0.0, le=0.1, description="fraction of notional per fill")
    fixed_fees: float = Field(
        0.0, ge=0.0, le=1e9, allow_inf_nan=False, description="quote currency per fill"
    )


class Experiment(BaseModel):
    """A validated experiment; ``strategy_and_config()`` builds what the engine runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)
    sleeves: tuple[SleeveSpec, ...] | None = None
    universe: Literal["equities", "memory", "crypto"] | None = None
    symbols: tuple[str, ...] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    costs: Costs = Field(default_factory=Costs)
    fill: Literal["next_open", "close"] = "next_open"
    rebalance: Literal["on_change", "every_bar"] | None = None  # default: the strategy's
    drift_threshold: float | None = Field(None, ge=0.0, le=1.0)
    mode: Literal["event", "vector"] = "event"
    benchmark: str | None = None
    init_cash: float = Field(100_000.0, gt=0, le=1e15, allow_inf_nan=False)
    # prices traded: "total-return" back-adjusts OHLC by adj_close / close where the data
    # carries dividends (a raw+tr series, e.g. the bundle's SPY); "none" trades them as stored
    adjust: Literal["total-return", "none"] = "total-return"

    @model_validator(mode="after")
    def _coherent(self) -> Experiment:
        if self.strategy not in known_strategies():
            raise ValueError(
                f"unknown strategy {self.strategy!r}; known: {', '.join(known_strategies())}"
            )
        if self.sleeves is not None and self.strategy != "composite":
            raise ValueError("sleeves are for strategy = 'composite' only")
        if self.universe is not None and self.symbols is not None:
            raise ValueError("give universe or symbols, not both")
        if self.symbols is not None and not self.symbols:
            raise ValueError("symbols must name at least one symbol")
        if self.symbols is not None and len(set(self.symbols)) < len(self.symbols):
            twice = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
            raise ValueError(f"symbols names {', '.join(twice)} more than once")
        for key in ("start", "end"):  # pandas' timestamps span 1677-09-21..2262-04-11
            day = getattr(self, key)
            if day is not None and not 1678 <= day.year <= 2261:
                raise ValueError(f"{key} {day} is outside the years 1678..2261")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        self.build_strategy()  # parameters checked against the strategy's own model
        return self

    def build_strategy(self) -> Strategy:
        cls = get_strategy(self.strategy)
        params = dict(self.params)
        if self.sleeves is not None:
            params["sleeves"] = [s.model_dump() for s in self.sleeves]
        try:
            strategy = cls(cls.Params.model_validate(params))
        except ValidationError as exc:
            raise ValueError(
                f"invalid parameters for {self.strategy}: {validation_line(exc)}"
            ) from None
        if self.symbols is not None:
            strategy.symbols = list(self.symbols)
        elif self.universe is not None:
            strategy.symbols = strategy.symbols_for_universe(self.universe, universe(self.universe))
        return strategy

    def backtest_config(self) -> BacktestConfig:
        """The engine settings; rebalancing as given, else the strategy's preference."""
        cls = get_strategy(self.strategy)
        drift = cls.drift_threshold if self.drift_threshold is None else self.drift_threshold
        return BacktestConfig(
            init_cash=self.init_cash,
            costs=self.costs,
            fill=self.fill,
            rebalance=self.rebalance or cls.rebalance,
            drift_threshold=drift,
        )

    def benchmark_symbol(self, strategy: Strategy) -> str | None:
        """The benchmark: as given (``""`` = none), else the strategy's own."""
        if self.benchmark is None:
            return strategy.benchmark
        return self.benchmark or None


def validation_line(exc: ValidationError) -> str:
    """Every error of a pydantic ``ValidationError`` as ``field: message; ...``."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def load_config(path: Path) -> dict[str, Any]:
    """The TOML table of ``path``; a one-line ``ValueError`` for an unreadable file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config {path} does not exist; fix: give the path of a .toml file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"config {path} is not UTF-8 text; fix: save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(
            f"config {path} is not valid TOML: {exc}; fix: correct that line"
        ) from None


def lay_options(
    settings: dict[str, Any],
    source: str,
    *,
    strategy: str | None = None,
    fees: float | None = None,
    command: str = "backtest",
    **options: Any,
) -> dict[str, Any]:
    """``settings`` (a config table) with the options given laid over it (``None`` = not
    given): the strategy (refused when it contradicts the config's), fees into ``costs``,
    the rest as keys. A one-line ``ValueError`` when there is no strategy at all."""
    if strategy is not None:
        given = settings.get("strategy")
        if given is not None and given != strategy:
            raise ValueError(
                f"strategy {strategy!r} on the command line but {given!r} in the file"
                f" ({source}); fix: drop one of them"
            )
        settings["strategy"] = strategy
    if "strategy" not in settings:
        raise ValueError(
            f"no strategy given ({source}); fix: name one, e.g. `flowbt {command} cta_trend`"
        )
    name = settings["strategy"]
    if not isinstance(name, str):
        raise ValueError(
            f"invalid strategy = {name!r}: not a strategy name ({source}); fix: strategy ="
            ' "cta_trend" (any name from `flowbt strategies list`)'
        )
    examples = {"params": "params = { fast = 10 }", "costs": "[costs] with fees = 0.001"}
    for key, example in examples.items():
        if key in settings and not isinstance(settings[key], dict):
            raise ValueError(
                f"invalid {key} = {settings[key]!r}: not a table ({source}); fix: write it"
                f" as a table, e.g. {example}"
            )
    if fees is not None:
        settings["costs"] = {**settings.get("costs", {}), "fees": fees}
    settings.update({k: v for k, v in options.items() if v is not None})
    return settings


def experiment(settings: dict[str, Any], source: str = "options") -> Experiment:
    """Validate ``settings`` (a config table with CLI options laid over it) as an
    `Experiment`; a mistake raises ``ValueError`` with one line (key, value, allowed)."""
    _check_params(settings, source)
    try:
        return Experiment.model_validate(settings)
    except ValidationError as exc:
        raise ValueError(config_error_line(exc, source)) from None


def _check_params(settings: dict[str, Any], source: str) -> None:
    """The strategy's parameters checked first, so a mistake names the parameter, the
    value, the source and a fix (`params_error_line`), not "invalid config"."""
    name, params = settings.get("strategy"), settings.get("params", {})
    if not isinstance(name, str) or name not in known_strategies() or "sleeves" in settings:
        return
    if not isinstance(params, dict):
        return  # the model's own line: "invalid params = ...: Input should be a valid dictionary"
    try:
        get_strategy(name).Params.model_validate(params)
    except ValidationError as exc:
        raise ValueError(params_error_line(name, exc, source)) from None


def params_error_line(strategy: str, exc: ValidationError, source: str) -> str:
    """``invalid parameter <name> = <value> for <strategy>: <why> (<source>); fix: ...``
    for the first error of a strategy's parameters; the fix is an option or key to type
    (``--param NAME=VALUE`` on the command line, ``params.NAME = ...`` in a config)."""
    fields = get_strategy(strategy).Params.model_fields
    err = exc.errors(include_url=False)[0]
    loc = err.get("loc", ())
    key = str(loc[0]) if loc else ""
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    show = f"`flowbt strategies show {strategy}`"
    defaults = ", ".join(f"{n}={f.default}" for n, f in fields.items() if not f.is_required())

    def setting(name: str, value: Any) -> str:
        if source.startswith("config "):
            return f"set params.{name} = {value!r} in {source.removeprefix('config ')}"
        return f"--param {name}={value}"

    if err.get("type") == "extra_forbidden":
        names = ", ".join(fields) or "none"
        first = next(iter(fields), None)
        fix = (f"{setting(first, fields[first].default)} (parameters: {names}; {show})"
               if first else f"remove it ({strategy} takes no parameters)")  # fmt: skip
        return f"unknown parameter {key} for {strategy} ({source}); fix: {fix}"
    if key in fields:
        ctx = err.get("ctx") or {}
        ops = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
        bounds = [f"{op} {ctx[k]}" for k, op in ops if k in ctx]
        meta = [f"{op} {getattr(m, k)}" for m in fields[key].metadata for k, op in ops
                if getattr(m, k, None) is not None]  # fmt: skip
        allowed = ", ".join(meta or bounds)
        hint = f" (allowed: {allowed})" if allowed else ""
        value = err.get("input")
        return (
            f"invalid parameter {key} = {value!r} for {strategy}: {msg} ({source}); fix: "
            f"{setting(key, fields[key].default)}{hint}"
        )
    return (
        f"invalid parameters for {strategy}: {msg} ({source}); fix: change them"
        f" (defaults: {defaults or 'none'}; {show})"
    )


def config_error_line(exc: ValidationError, source: str) -> str:
    """``invalid <key> = <value>: <what is allowed> (<source>); fix: ...`` for the first error."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(err.get("loc", ())))
        return f"unknown key {loc} ({source}); fix: remove it (keys: {allowed})"
    if kind == "missing":
        return f"missing key {loc} ({source}); fix: add {loc} = ..."
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    ops = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
    bounds = [f"{op} {ctx[k]}" for k, op in ops if k in ctx]
    if bounds:
        allowed = f"a value {' and '.join(bounds)}"
    elif "expected" in ctx:
        allowed = f"one of {ctx['expected']}"
    else:
        allowed = ""
    if not loc:  # the experiment's own checks: the message says what is wrong
        return f"{msg} ({source}); fix: {_model_fix(msg)}"
    if loc in ("start", "end") and not allowed:
        day = "2020-01-02"
        fix = f"set {loc} = {day} (a real date)" if source != "options" else f"--{loc} {day}"
        return f"invalid {loc} = {value!r}: {msg} ({source}); fix: {fix}"
    fix = f"set {loc} to {allowed}" if allowed else f"correct {loc} ({_keys_hint(err)})"
    if source == "options" and loc in OPTION_KEYS and "expected" in ctx:
        # a command-line option: the fix is the option with its first allowed value
        first = str(ctx["expected"]).split(" or ")[0].split(",")[0].strip().strip("'\"")
        fix = f"--{OPTION_KEYS[loc]} {first} (one of {ctx['expected']})"
    return f"invalid {loc} = {value!r}: {msg} ({source}); fix: {fix}"


OPTION_KEYS = {"adjust": "adjust", "mode": "mode", "universe": "universe"}
"""Experiment keys set by a command-line option of the same name (their errors name it)."""


def _model_fix(msg: str) -> str:
    """What to type for a failed experiment-level check (`Experiment._coherent`)."""
    if msg.startswith("unknown strategy"):
        return "name one from `flowbt strategies list`"
    if msg.startswith("invalid parameters for "):
        name = msg.removeprefix("invalid parameters for ").split(":")[0]
        return f"change them (`flowbt strategies show {name}`)"
    if "universe or symbols" in msg:
        return "drop universe or symbols (keep one)"
    if msg.startswith("sleeves are for"):
        return "remove sleeves, or set strategy = 'composite'"
    if msg.startswith("symbols must"):
        return "name symbols, e.g. --symbols SPY"
    if "more than once" in msg:
        return "name each symbol once, e.g. --symbols SPY,QQQ"
    if "outside the years" in msg:
        return "give a date in 1678..2261, e.g. --start 2020-01-02"
    if "is before start" in msg:
        return "set end after start (--start/--end YYYY-MM-DD)"
    return "correct it as the message says (`flowbt strategies list`)"


def _keys_hint(err: Any) -> str:
    loc = err.get("loc", ())
    return "keys: " + ", ".join(_allowed_keys(loc))


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    if len(loc) <= 1:
        return sorted(Experiment.model_fields)
    if loc[0] == "costs":
        return sorted(Costs.model_fields)
    if loc[0] == "sleeves":
        return sorted(SleeveSpec.model_fields)
    return sorted(Experiment.model_fields)


__all__ = ["DEFAULT_FEES", "Costs", "Experiment", "experiment", "lay_options", "load_config"]
