"""``flowbt strategies list|show``: what each strategy trades, reads and takes.

``list`` prints every registered strategy with its thesis (the first line of its
docstring), the signals it reads, its default universe and symbols, and its benchmark.
``show NAME`` prints its parameters: type, default, bounds and description.
"""

from __future__ import annotations

import inspect
import sys
from typing import Annotated, Any

import pandas as pd
import typer

from flowbt.cli.output import console, table
from strategies.base import Strategy
from strategies.registry import get_strategy, known_strategies


def thesis_line(cls: type[Strategy]) -> str:
    """The first line of the strategy module's docstring (its thesis)."""
    doc = inspect.getdoc(sys.modules[cls.__module__]) or inspect.getdoc(cls) or ""
    return doc.splitlines()[0] if doc else ""


def strategies_frame() -> pd.DataFrame:
    """One row per registered strategy (what ``flowbt strategies list`` prints)."""
    rows = []
    for name in known_strategies():
        cls = get_strategy(name)
        strategy = cls()
        signals = sorted({r.signal for r in strategy.signal_requests().values()})
        rows.append(
            {
                "strategy": name,
                "thesis": thesis_line(cls),
                "signals": ", ".join(signals) or "prices only",
                "universe": cls.default_universe or "its own symbols",
                "symbols": ", ".join(strategy.symbols or []) or "any (--symbols)",
                "benchmark": cls.benchmark,
                "universes": ", ".join(cls.universes) or "-",
            }
        )
    return pd.DataFrame(rows)


def parameters_frame(name: str) -> pd.DataFrame:
    """One row per parameter of strategy ``name``: type, default, bounds, description."""
    cls = get_strategy(name)
    rows = []
    for pname, info in cls.Params.model_fields.items():
        space: dict[str, Any] = cls.search_space().get(pname, {})
        bounds = ", ".join(
            f"{op} {space[k]}"
            for k, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
            if k in space
        )
        default = info.get_default(call_default_factory=True)
        rows.append(
            {
                "parameter": pname,
                "type": getattr(info.annotation, "__name__", str(info.annotation)),
                "default": _short(default),
                "bounds": bounds,
                "description": info.description or "",
            }
        )
    return pd.DataFrame(rows, columns=["parameter", "type", "default", "bounds", "description"])


def _short(value: Any) -> str:
    if isinstance(value, tuple | list) and value and hasattr(value[0], "model_dump"):
        return "; ".join(f"{v.strategy} {v.weight:g}" for v in value)  # composite sleeves
    return str(value)


def register(app: typer.Typer) -> None:
    """Add ``flowbt strategies list`` and ``flowbt strategies show`` to the CLI app."""
    strategies_app = typer.Typer(
        help="List the strategies; show one's parameters.", no_args_is_help=True
    )
    app.add_typer(strategies_app, name="strategies")

    @strategies_app.command("list")
    def strategies_list() -> None:
        """Every strategy: thesis, signals, default universe and symbols, benchmark."""
        frame = strategies_frame()
        console.print(table(frame, title=f"{len(frame)} strategies"))
        console.print("Parameters of one: flowbt strategies show NAME")

    @strategies_app.command("show")
    def strategies_show(
        name: Annotated[str, typer.Argument(help="Strategy name, see `flowbt strategies list`.")],
    ) -> None:
        """One strategy's parameters: type, default, bounds and description."""
        cls = get_strategy(name)
        console.print(f"[bold]{name}[/bold]: {thesis_line(cls)}")
        doc = inspect.getdoc(sys.modules[cls.__module__]) or ""
        for line in doc.splitlines()[1:]:
            console.print(f"  {line}", markup=False)
        console.print(table(parameters_frame(name), title="parameters (--param NAME=VALUE)"))
