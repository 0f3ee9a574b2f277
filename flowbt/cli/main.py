"""The ``flowbt`` command line: the typer app, its sub-commands and the error boundary.

Every user mistake (bad file, unknown symbol, bad parameter) is printed as one
line ``flowbt: error: <what> (<where>); fix: <how>`` with exit code 2; no
traceback. Internal bugs still raise, so they get reported rather than hidden.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import typer
from pydantic import ValidationError

from data.errors import DataError, StaleDataWarning
from flowbt.cli import book, compare, optimize, output, run, signals, strategies, thesis
from flowbt.cli.data import data_app
from flowbt.cli.output import error_line

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


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    kind = "stale data" if issubclass(category, StaleDataWarning) else "warning"
    print(f"flowbt: {kind}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turn user errors into one line and exit code 2."""
    output.invocation[:] = list(sys.argv[1:] if argv is None else argv)
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
            print(f"flowbt: error: {exc.format_message()}", file=sys.stderr)
            return EXIT_USER_ERROR
        except (DataError, ValidationError, ValueError, FileNotFoundError) as exc:
            print(f"flowbt: error: {error_line(exc)}", file=sys.stderr)
            return EXIT_USER_ERROR
    return result if isinstance(result, int) else 0


def entry() -> None:
    """`flowbt` console script."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
