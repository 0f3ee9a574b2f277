"""``flowbt thesis``: the event study of each thesis on the bundled data, as a table.

The studies live in `flowbt.research.thesis`; this command prints them (and writes
them as JSON with ``--json``). Mistakes raise ``ValueError`` shown as one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import data
from flowbt.cli.output import console, table
from flowbt.report.files import check_output_path
from flowbt.research.thesis import SIGNIFICANT, results_frame, run_theses, weeks_for, write_json


def register(app: typer.Typer) -> None:
    """Add ``flowbt thesis`` to the CLI app."""

    @app.command("thesis")
    def thesis(
        horizon: Annotated[
            int, typer.Option("--horizon", help="Forward return horizon in sessions (1..250).")
        ] = 20,
        json_file: Annotated[
            Path | None, typer.Option("--json", help="Also write the results to this .json file.")
        ] = None,
    ) -> None:
        """Event study per thesis on the bundled data: effect, HAC t-statistic, sample size."""
        if json_file is not None:
            check_output_path(json_file, (".json",))
        if not 1 <= horizon <= 250:
            raise ValueError(f"--horizon must be in 1..250 sessions, got {horizon}")
        rows = run_theses(data.load(), horizon)
        console.print(
            table(
                results_frame(rows),
                title=f"Thesis checks on the bundled data (horizon {horizon} sessions, "
                f"{weeks_for(horizon)} weeks for weekly studies)",
            )
        )
        console.print(
            "Forward simple returns from the first close at or after the signal is known; "
            f"effects in bp; t from Newey-West SE (lags = horizon - 1); |t| >= {SIGNIFICANT} "
            f"read as significant, {len(rows)} tests, no multiple-testing adjustment.",
            markup=False,
        )
        if json_file is not None:
            write_json(rows, json_file, horizon)
            console.print(f"wrote {json_file}", markup=False)
