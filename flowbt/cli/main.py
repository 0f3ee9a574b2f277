"""The ``flowbt`` command line: the typer app, its sub-commands and the error boundary.

Every user mistake (bad file, unknown symbol, bad parameter) is printed as one
line ``flowbt: error: <what> (<where>); fix: <how>`` with exit code 2; no
traceback. Internal bugs still raise, so they get reported rather than hidden.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from data.errors import DataError, StaleDataWarning
from flowbt.cli import book, compare, optimize, output, run, signals, strategies, thesis
from flowbt.cli.data import data_app
from flowbt.cli.output import command, error_line, three_parts

EXIT_USER_ERROR = 2

app = typer.Typer(
    help="flowbt: backtests of flow- and policy-driven strategies on real, point-in-time data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_app, name="data")
run.register(app)
optimize.register(app)
book.register(app)
compare.register(app)
signals.register(app)
strategies.register(app)
thesis.register(app)


# flowbt's own code: its warnings reach the user, a library's (numpy's "invalid value
# encountered", pandas' deprecations) do not
OWN_PACKAGES = ("data", "signals", "strategies", "engine", "flowbt")
_ROOT = Path(__file__).resolve().parents[2]


def ours(category: type[Warning], filename: str) -> bool:
    """Whether a warning is flowbt's: a category flowbt defines (StaleDataWarning, ...),
    or a plain warning raised in flowbt's own source. RuntimeWarnings of numpy are
    attributed to the flowbt line that called numpy, so they are never ours by place."""
    if str(category.__module__).split(".")[0] in OWN_PACKAGES:
        return True
    if issubclass(category, RuntimeWarning | DeprecationWarning | FutureWarning):
        return False
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    return any(path.is_relative_to(_ROOT / pkg) for pkg in OWN_PACKAGES)


def _show_warning(
    message: Any, category: type[Warning], filename: str = "", *args: Any, **kwargs: Any
) -> None:
    if not ours(category, filename):
        return
    kind = "stale data" if issubclass(category, StaleDataWarning) else "warning"
    print(f"flowbt: {kind}: {message}", file=sys.stderr)


def _commands() -> dict[str, set[str]]:
    """Each command of the app and its sub-commands (for the hints of error lines)."""
    root = typer.main.get_command(app)
    out: dict[str, set[str]] = {}
    for name, cmd in (getattr(root, "commands", None) or {}).items():
        out[name] = set(getattr(cmd, "commands", None) or {})
    return out


def usage_line(exc: typer.TyperException) -> str:
    """click's usage error (unknown option, missing value, bad type) as one line; its
    own "Did you mean --x?" becomes the fix."""
    text = " ".join(str(exc.format_message()).split())
    help_ = f"see `{command()} --help`"
    if m := re.match(r"(.*?)\.? Did you mean (.+?)\??$", text):
        return f"{m[1]} ({command()}); fix: use {m[2]} ({help_})"
    if m := re.match(r"(.*?)\.? \(Possible options: (.+)\)$", text):
        return f"{m[1]} ({command()}); fix: use one of {m[2]} ({help_})"
    if m := re.match(r"Missing (option|argument) '([^']+)'", text):
        return f"missing {m[1]} {m[2]} ({command()}); fix: add {m[2]} ({help_})"
    return three_parts(f"{text.rstrip('.')} ({command()})")


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turn user errors into one line and exit code 2."""
    output.invocation[:] = list(sys.argv[1:] if argv is None else argv)
    if not output.commands:
        output.commands.update(_commands())
    with warnings.catch_warnings():
        warnings.simplefilter("always", StaleDataWarning)
        warnings.showwarning = _show_warning
        try:
            result = app(args=argv, standalone_mode=False, prog_name="flowbt")
        except typer.Exit as exc:
            return int(exc.exit_code)
        except typer.Abort:
            print("flowbt: aborted", file=sys.stderr)
            return 1
        except typer.TyperException as exc:  # click's usage errors
            print(f"flowbt: error: {usage_line(exc)}", file=sys.stderr)
            return EXIT_USER_ERROR
        except (DataError, ValidationError, ValueError, OSError) as exc:
            # OSError: a folder that vanished or filled up mid-run, a file that cannot be
            # read; the environment's fault, reported as one line like a user mistake
            print(f"flowbt: error: {error_line(exc)}", file=sys.stderr)
            return EXIT_USER_ERROR
    return result if isinstance(result, int) else 0


def entry() -> None:
    """`flowbt` console script."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
