"""What the command line prints: the console, tables, and one-line error texts.

Numbers print to the cent (6 significant digits when small), dates without 00:00.
Every user mistake becomes one line ``flowbt: error: <what> (<where>); fix: <how>``.
"""

from __future__ import annotations

import sys
from typing import cast

import pandas as pd
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from data.errors import DataError
from flowbt.experiment import validation_line

# the arguments of this invocation (``flowbt.cli.main.main`` sets them): what manifests
# record as the command line, also when the CLI runs inside another program (tests)
invocation: list[str] = []

console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def table(frame: pd.DataFrame, title: str | None = None) -> Table:
    """A rich table of ``frame``: numbers right-aligned, text left."""
    out = Table(title=title, show_lines=False, header_style="bold")
    for col in frame.columns:
        out.add_column(str(col), justify="right" if frame[col].dtype.kind in "if" else "left")
    for row in frame.itertuples(index=False):
        out.add_row(*(cell(v) for v in row))
    return out


def cell(value: object) -> str:
    """Numbers to the cent (or 6 significant digits when small), dates without 00:00."""
    if isinstance(value, pd.Timestamp):
        return cast(
            str, value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
        )
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.6g}"
    return escape(str(value))


def error_line(exc: BaseException) -> str:
    """The one line that describes a user mistake (the CLI prefixes ``flowbt: error:``)."""
    if isinstance(exc, DataError):
        return exc.one_line()
    if isinstance(exc, ValidationError):
        return f"invalid {exc.title} parameters: {validation_line(exc)}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
