"""``flowbt signals list|show``: the registered signals, computed on the bundled data.

``show`` computes a signal on the whole bundled history (so rolling windows are warm and
every value equals what a backtest sees), then restricts the printed rows and the plot
to ``--start``/``--end``; without either, the plot shows the signal's last 5 years (a
dense signal over decades is unreadable; the computed signal is not cut). ``--param
NAME=VALUE`` values are checked against the signal function's signature and type hints
(a sequence takes comma-separated values). Every mistake raises ``ValueError`` (or
``DataError``), shown by the CLI as one line.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from pydantic import TypeAdapter, ValidationError

import data
from flowbt.cli.output import console, table
from flowbt.cli.run import parse_params
from flowbt.report.files import check_output_path
from flowbt.report.plots import DEFAULT_YEARS, plot_signal, time_axis
from signals.registry import SignalSpec, get_signal, list_signals

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
_SEQUENCES = (list, tuple, collections.abc.Sequence)


def parse_signal_params(fn: Any, name: str, items: list[str]) -> dict[str, Any]:
    """``["symbol=QQQ", "lookbacks=20,60"]`` -> typed keyword arguments of ``fn``.

    Unknown names, repeated names and values that do not fit the type hint raise
    `ValueError` naming the parameter and listing the accepted ones.
    """
    sig = inspect.signature(fn)
    accepted = {
        p.name: p
        for p in list(sig.parameters.values())[1:]
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    hints = typing.get_type_hints(fn)
    out: dict[str, Any] = {}
    for key, raw in parse_params(items).items():  # NAME=VALUE syntax, no repeats
        if key not in accepted:
            known = ", ".join(accepted) or "none"
            raise ValueError(f"signal {name} has no parameter {key!r}; parameters: {known}")
        hint = hints.get(key, Any)
        out[key] = _coerce(key, raw, hint, name)
    return out


def _is_sequence(hint: Any) -> bool:
    args = typing.get_args(hint) if _is_union(hint) else (hint,)
    return any(typing.get_origin(a) in _SEQUENCES for a in args)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _coerce(key: str, raw: str, hint: Any, name: str) -> Any:
    value: Any = raw
    if raw.lower() == "none" and _is_union(hint) and type(None) in typing.get_args(hint):
        return None
    if _is_sequence(hint):
        value = [v.strip() for v in raw.split(",") if v.strip()]
    try:
        out = TypeAdapter(hint).validate_python(value)
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"]
        raise ValueError(f"invalid --param {key}={raw} for signal {name}: {msg}") from None
    return tuple(out) if isinstance(out, list) else out


def _parse_date(value: str | None, option: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).tz_localize(None).tz_localize("UTC")
    except (ValueError, TypeError):
        raise ValueError(f"{option} {value!r} is not a date; fix: use YYYY-MM-DD") from None


def restrict(
    frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Rows dated within [start, end] (dates inclusive)."""
    if start is None and end is None:
        return frame
    axis = time_axis(frame)
    if axis is None:
        raise ValueError("this signal's rows carry no dates; drop --start/--end")
    days = axis.tz_localize(None) if axis.tz is not None else axis
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= days >= start.tz_localize(None)
    if end is not None:
        keep &= days < end.tz_localize(None) + pd.Timedelta(days=1)
    return frame.loc[keep]


def compute_signal(
    name: str, params: list[str] | None = None
) -> tuple[SignalSpec, dict[str, Any], pd.DataFrame, data.MarketData]:
    """(spec, typed params, output as a DataFrame, MarketData) for signal ``name``."""
    spec = get_signal(name)
    kwargs = parse_signal_params(spec.fn, name, params or [])
    md = data.load()
    out = spec(md, **kwargs)
    frame = out.to_frame() if isinstance(out, pd.Series) else out
    return spec, kwargs, frame, md


def register(app: typer.Typer) -> None:
    """Add ``flowbt signals list`` and ``flowbt signals show`` to the CLI app."""
    signals_app = typer.Typer(
        help="List the registered signals; compute, print and plot one.", no_args_is_help=True
    )
    app.add_typer(signals_app, name="signals")

    @signals_app.command("list")
    def signals_list() -> None:
        """Every registered signal: name, module and a one-line description."""
        specs = list_signals()
        frame = pd.DataFrame(
            {
                "name": [s.name for s in specs],
                "module": [s.module for s in specs],
                "description": [s.description for s in specs],
            }
        )
        console.print(table(frame, title=f"{len(specs)} registered signals"))
        console.print("Show one: flowbt signals show NAME [--param k=v] [--plot FILE.png]")

    @signals_app.command("show")
    def signals_show(
        name: Annotated[str, typer.Argument(help="Signal name, see `flowbt signals list`.")],
        param: Annotated[
            list[str] | None,
            typer.Option("--param", help="NAME=VALUE (repeatable); sequences: 20,60,120."),
        ] = None,
        start: Annotated[
            str | None, typer.Option(help="First date shown/plotted (inclusive), YYYY-MM-DD.")
        ] = None,
        end: Annotated[
            str | None, typer.Option(help="Last date shown/plotted (inclusive), YYYY-MM-DD.")
        ] = None,
        rows: Annotated[int, typer.Option(help="Rows to print from each end.")] = 5,
        plot: Annotated[
            Path | None,
            typer.Option(
                "--plot",
                help="Write the signal over the price it drives (.png/.svg/.pdf); without"
                f" --start/--end it shows the signal's last {DEFAULT_YEARS} years.",
            ),
        ] = None,
    ) -> None:
        """Compute one signal on the bundled data, print its first/last rows, plot it."""
        if rows < 1:
            raise ValueError(f"--rows must be at least 1, got {rows}")
        lo, hi = _parse_date(start, "--start"), _parse_date(end, "--end")
        if lo is not None and hi is not None and hi < lo:
            raise ValueError(f"--end {end} is before --start {start}")
        if plot is not None:
            check_output_path(plot, PLOT_SUFFIXES)
        spec, kwargs, frame, md = compute_signal(name, param)
        shown = restrict(frame, lo, hi)
        if shown.empty:
            raise ValueError(f"signal {name} has no rows between {start} and {end}")
        console.print(f"[bold]{spec.name}[/bold] ({spec.module}): {spec.description}")
        used = ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults"
        console.print(f"  parameters: {used}", markup=False)
        axis = time_axis(shown)
        span = f", {axis.min():%Y-%m-%d} .. {axis.max():%Y-%m-%d}" if axis is not None else ""
        console.print(f"  rows: {len(shown)} of {len(frame)}{span}", markup=False)
        listing = shown.reset_index() if isinstance(shown.index, pd.DatetimeIndex) else shown
        if len(listing) > 2 * rows:
            listing = pd.concat([listing.head(rows), listing.tail(rows)])
        console.print(table(listing))
        if plot is not None:
            plot_signal(spec.name, frame, md, kwargs, plot, start=lo, end=hi)
            console.print(f"wrote {plot}", markup=False)
