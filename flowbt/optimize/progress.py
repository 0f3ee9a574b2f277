"""The sweep's progress bar (rich, on stderr): trials done, trials per second, ETA."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


def rich_progress() -> Callable[[int, int], None]:
    """A callback ``(done, planned)`` that draws the bar; it closes itself when done."""
    bar = Progress(
        TextColumn("trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = bar.add_task("sweep", total=None, rate=0.0)
    state = {"started": False}

    def update(done: int, planned: int) -> None:
        if not state["started"]:
            bar.start()
            state["started"] = True
        elapsed = bar.tasks[0].elapsed or 0.0
        bar.update(task, completed=done, total=planned, rate=done / elapsed if elapsed else 0.0)
        if done >= planned:
            bar.stop()

    return update
