"""``flowbt compare RUN_DIR... --out DIR``: runs side by side in one ``compare.html``.

See `flowbt.report.compare` for what the page holds. The benchmark is the first run's
unless ``--benchmark SYMBOL`` (a bundled symbol) or ``--no-benchmark`` says otherwise.
Prints the path of the page; every mistake is one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowbt.report.compare import compare


def register(app: typer.Typer) -> None:
    """Add ``flowbt compare`` to the CLI app."""

    @app.command("compare")
    def compare_cmd(
        runs: Annotated[
            list[Path] | None,
            typer.Argument(help="two or more results folders of `flowbt backtest ... --out`"),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="folder for compare.html (new, empty or an earlier compare)"
            ),
        ] = None,
        benchmark: Annotated[
            str | None,
            typer.Option("--benchmark", help="bundled symbol (default: the first run's)"),
        ] = None,
        no_benchmark: Annotated[
            bool, typer.Option("--no-benchmark", help="show no benchmark")
        ] = False,
    ) -> None:
        """Compare runs: equity, drawdowns, metrics with bootstrap CIs, correlations, more."""
        if out is None:
            raise ValueError("no output folder given (flowbt compare); fix: add --out DIR")
        if no_benchmark and benchmark is not None:
            raise ValueError(
                "--benchmark and --no-benchmark both given (flowbt compare); fix: drop one of them"
            )
        path = compare(runs or [], out, benchmark="" if no_benchmark else benchmark)
        typer.echo(str(path))
