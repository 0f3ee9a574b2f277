"""What the command line prints: the console, tables, and one-line error texts.

Numbers print to the cent (6 significant digits when small), dates without 00:00.
Every user mistake becomes one line ``flowbt: error: <what> (<where>); fix: <how>``.
"""

from __future__ import annotations

import re
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


_SHAPE = re.compile(r"^.+ \(.+\); fix: .+$")


# command name -> its sub-commands (empty for a plain command); `flowbt.cli.main` fills it
commands: dict[str, set[str]] = {}


def command() -> str:
    """The sub-command of this invocation that exists, e.g. ``flowbt run`` or ``flowbt
    data show`` (``flowbt`` when the first word names none)."""
    words = ["flowbt"]
    first = invocation[0] if invocation else ""
    if first in commands:
        words.append(first)
        second = invocation[1] if len(invocation) > 1 else ""
        if second in commands[first]:
            words.append(second)
    return " ".join(words)


def three_parts(text: str) -> str:
    """``text`` as ``<what> (<where>); fix: <how>``: a line missing its where gets the
    command it came from, one missing its fix gets that command's ``--help``."""
    text = " ".join(text.split())
    if _SHAPE.match(text):
        return text
    what, sep, how = text.partition("; fix: ")
    what = what.rstrip(" ;.:")
    if not re.search(r"\([^()]+\)$", what):
        what = f"{what} ({command()})"
    return f"{what}; fix: {how.strip() if sep and how.strip() else f'see `{command()} --help`'}"


def os_error_line(exc: OSError) -> str:
    """An operating-system failure (disk full, permission, missing file) as one line."""
    why = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else command()
    fix = "check the path, its permissions and the free space, or pick another --out"
    if isinstance(exc, FileNotFoundError):
        fix = "check the path (it does not exist)"
    return f"{why} ({where}); fix: {fix}"


def error_line(exc: BaseException) -> str:
    """The one line that describes a user mistake (the CLI prefixes ``flowbt: error:``):
    always ``<what> (<where>); fix: <how>``."""
    if isinstance(exc, DataError):
        return three_parts(exc.one_line())
    if isinstance(exc, ValidationError):
        return three_parts(f"invalid {exc.title} parameters: {validation_line(exc)}")
    if isinstance(exc, OSError) and (exc.errno is not None or exc.filename is not None):
        return three_parts(os_error_line(exc))
    text = str(exc).strip()
    return three_parts(text.splitlines()[0] if text else type(exc).__name__)
