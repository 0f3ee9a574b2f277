"""``flowbt optimize``: a parameter sweep with its overfitting statistics, into ``--out``.

Grid (``--grid``, default: the strategy's pydantic bounds), ``--random N`` or
``--optuna N``; constraints, objective, universe/symbols/dates/fees as for
``flowbt backtest``; chunks persisted for ``--resume``; ``--executor dask`` for a
cluster. Prints the summary (best, Sharpe, PSR, DSR, PBO, SPA p-value, robustness) and
the folder. A bad spec is one line and exit 2, before any trial runs.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from flowbt.cli import output
from flowbt.cli.run import FEES_HELP, Config, Out, symbol_list
from flowbt.optimize.api import DEFAULT_CHUNK, optimize
from flowbt.optimize.outputs import check_sweep_dir
from flowbt.optimize.trials import OBJECTIVES
from strategies.registry import known_strategies


def register(app: typer.Typer) -> None:
    """Add ``flowbt optimize`` to the CLI app."""

    @app.command("optimize")
    def optimize_cmd(
        out: Out,
        strategy: Annotated[
            str | None, typer.Argument(help=", ".join(known_strategies()) + " (or --config)")
        ] = None,
        config: Config = None,
        grid: Annotated[
            list[str] | None,
            typer.Option("--grid", help="NAME=START:STOP:NUM or NAME=v1,v2 (repeatable)"),
        ] = None,
        random: Annotated[int | None, typer.Option("--random", help="N random trials")] = None,
        optuna: Annotated[
            int | None, typer.Option("--optuna", help="N trials of optuna's TPE (seeded)")
        ] = None,
        constraint: Annotated[
            list[str] | None, typer.Option("--constraint", help='e.g. "fast < slow"')
        ] = None,
        objective: Annotated[
            str | None, typer.Option("--objective", help=" | ".join(OBJECTIVES) + " (sharpe)")
        ] = None,
        universe: Annotated[
            str | None, typer.Option("--universe", help="equities, memory or crypto")
        ] = None,
        symbols: Annotated[str | None, typer.Option("--symbols", help="comma-separated")] = None,
        start: Annotated[str | None, typer.Option(help="first session, YYYY-MM-DD")] = None,
        end: Annotated[str | None, typer.Option(help="last session, YYYY-MM-DD")] = None,
        fees: Annotated[float | None, typer.Option("--fees", help=FEES_HELP)] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="default 0")] = None,
        chunk: Annotated[
            int | None, typer.Option("--chunk", help=f"trials per chunk (default {DEFAULT_CHUNK})")
        ] = None,
        executor: Annotated[str, typer.Option("--executor", help="local | dask")] = "local",
        address: Annotated[
            str | None, typer.Option("--address", help="dask scheduler, tcp://HOST:PORT")
        ] = None,
        resume: Annotated[bool, typer.Option("--resume", help="reuse finished chunks")] = False,
        folds: Annotated[
            int | None, typer.Option("--walk-forward", help="walk-forward with N folds")
        ] = None,
        anchored: Annotated[bool, typer.Option("--anchored", help="anchored folds")] = False,
        purge: Annotated[int, typer.Option("--purge", help="periods purged")] = 0,
        embargo: Annotated[int, typer.Option("--embargo", help="periods embargoed")] = 0,
        cpcv: Annotated[
            str | None, typer.Option("--cpcv", help="N,K: N groups, K test groups (e.g. 6,2)")
        ] = None,
        signal_cache: Annotated[
            Path | None,
            typer.Option("--signal-cache", help="folder keeping computed signals for later sweeps"),
        ] = None,
        top_curves: Annotated[
            int, typer.Option("--top-curves", help="keep the equity of the K best trials")
        ] = 0,
        progress: Annotated[bool, typer.Option(help="progress bar on stderr")] = True,
    ) -> None:
        """Search a strategy's parameters; report PSR, DSR, PBO, SPA and robustness."""
        if chunk is not None and chunk < 1:
            raise ValueError(f"--chunk must be >= 1, got {chunk}; fix: --chunk {DEFAULT_CHUNK}")
        if random is not None and random < 1:
            raise ValueError(f"--random must be >= 1, got {random}; fix: --random 100")
        if optuna is not None and optuna < 1:
            raise ValueError(f"--optuna must be >= 1, got {optuna}; fix: --optuna 100")
        check_sweep_dir(Path(out))  # before the data is loaded or any trial runs
        wf = None
        if folds is not None:
            wf = {"folds": folds, "anchored": anchored, "purge": purge, "embargo": embargo}
        cv = None
        if cpcv is not None:
            parts = cpcv.split(",")
            if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
                raise ValueError(f"--cpcv {cpcv} is not N,K; fix: --cpcv 6,2")
            cv = {
                "groups": int(parts[0]),
                "test_groups": int(parts[1]),
                "purge": purge,
                "embargo": embargo,
            }
        opt = optimize(
            strategy,
            config=config,
            grid=grid or None,
            random=random,
            optuna=optuna,
            constraint=constraint or (),
            objective=objective,
            universe=universe,
            symbols=symbol_list(symbols),
            start=start,
            end=end,
            fees=fees,
            seed=seed,
            chunk=chunk,
            executor=executor,
            address=address,
            out=Path(out),
            resume=resume,
            walk_forward_folds=wf,
            cpcv=cv,
            progress=progress and sys.stderr.isatty(),
            command=shlex.join(["flowbt", *output.invocation]),
            signal_cache=signal_cache,
            top_curves=top_curves,
        )
        typer.echo(opt.report())
        typer.echo(f"-> {out}")
