"""``flowbt book``: the main job (``make run``), the composite book and each sleeve.

Prints a progress line per run, then the summary table and the path of the book's
tearsheet. See `flowbt.book` for what is run and written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowbt.book import run_book
from flowbt.cli.output import console, table
from flowbt.report.index import INDEX_FILE


def register(app: typer.Typer) -> None:
    """Add ``flowbt book`` to the CLI app."""

    @app.command("book")
    def book(
        out: Annotated[
            Path, typer.Option("--out", help="results folder (created with its parents)")
        ] = Path("results"),
        tearsheet: Annotated[
            bool, typer.Option(help="write each run's tearsheet.html and quantstats.csv")
        ] = True,
    ) -> None:
        """The composite book and each sleeve across the three universes, on the bundled data."""
        summary = run_book(out, progress=lambda line: console.print(line, markup=False),
                           tearsheet=tearsheet)  # fmt: skip
        shown = summary.drop(columns=["symbols"])
        console.print(table(shown, title=f"{len(summary)} runs (summary.csv)"))
        console.print(f"wrote {out / 'summary.csv'}", markup=False)
        if tearsheet:
            console.print(f"book tearsheet: {out / 'book' / 'tearsheet.html'}", markup=False)
        console.print(f"index of the runs: {out / INDEX_FILE}", markup=False)
