"""``flowbt data list|show|update``: the bundled snapshot, the local cache, online sources.

Every mistake (unknown symbol, bad file, bad date) raises ``DataError``, shown by
the CLI as one line; nothing is written except by ``update``, which writes the cache
atomically. ``update`` exits 0 when every symbol was refreshed, `EXIT_STALE` (3) when a
refresh failed and the older cached copy was served instead, 2 on an error.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
import typer

import data
from data.bundle import load_bundle, manifest
from data.errors import DataError
from data.online import cache_summary, update_many
from flowbt.cli.output import console, table
from flowbt.cli.run import parse_mapping

data_app = typer.Typer(help="List, show and update market data.", no_args_is_help=True)
EXIT_STALE = 3  # `flowbt data update`: a refresh failed, the cached copy was served
F = TypeVar("F", bound=Callable[..., Any])


def _quiet_numerics(command: F) -> F:
    """Run a data command without numpy's floating-point RuntimeWarnings.

    ``invalid value encountered`` from a library's arithmetic on NaN (yfinance, pandas on
    gappy series) says nothing a user can act on; real data problems are DataErrors.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"numpy|pandas")
            warnings.filterwarnings(
                "ignore", message=r".*(invalid value|divide by zero|overflow) encountered"
            )
            return command(*args, **kwargs)

    return run  # type: ignore[return-value]


@data_app.command("list")
@_quiet_numerics
def data_list(
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Cache folder (default $FLOWBT_CACHE_DIR or ~/.cache/flowbt)."),
    ] = None,
) -> None:
    """Every bundled and cached symbol, series and event table with its range and rows."""
    md = load_bundle()
    summary = md.summary()
    console.print(table(summary, title=f"Bundled snapshot (offline): {len(summary)} files"))
    if md.quirks:
        console.print("[bold]Vendor quirks handled by stated rules (data/bundle.py):[/bold]")
        for quirk in md.quirks:
            console.print(f"  - {quirk.line()}", markup=False)
    cached = cache_summary(cache_dir)
    if cached is not None and len(cached):
        console.print(table(cached, title=f"Local cache: {len(cached)} entries"))
    else:
        console.print(
            "Local cache: empty (fill it with `flowbt data update SYMBOL --source yahoo|ccxt|fred`)."
        )


@data_app.command("show")
@_quiet_numerics
def data_show(
    name: Annotated[
        str,
        typer.Argument(
            help="Symbol, macro series or event table, e.g. SPY, WALCL, fomc_statements."
        ),
    ],
    start: Annotated[str | None, typer.Option(help="First date (inclusive), YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (inclusive), YYYY-MM-DD.")] = None,
    source: Annotated[
        str, typer.Option(help="bundled, yahoo, ccxt, fred, csv or parquet.")
    ] = "bundled",
    exchange: Annotated[str, typer.Option(help="ccxt exchange id.")] = "binance",
    rows: Annotated[int, typer.Option(help="Rows to print from each end (1 or more).")] = 5,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format", help="A file's date order, e.g. %d/%m/%Y (csv/parquet only)."
        ),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="A file's column as a field, COLUMN=FIELD (repeatable)."),
    ] = None,
    repair: Annotated[
        bool, typer.Option(help="Widen high/low and drop empty bars of a file, reporting each.")
    ] = False,
) -> None:
    """Provenance, basis or publication lag, and the first/last rows of one series
    (a bundled name, a cached symbol, or a price file with --source csv|parquet)."""
    if rows < 1:
        raise DataError(
            f"--rows must be at least 1, got {rows}",
            symbol=name,
            hint=f"flowbt data show {name} --rows 5 prints the first and last 5 rows",
        )
    if source == "bundled" and (date_format or mapping or repair):
        raise DataError(
            "--date-format, --map and --repair apply to price files only",
            symbol=name,
            hint=f"flowbt data show FILE.csv --source csv --date-format ..., or drop them for {name}",
        )
    if source == "bundled":
        entry_kind = next(
            (e["kind"] for n, e in manifest().items() if name in (n, *e.get("aliases", []))), None
        )
        if entry_kind is None:
            raise DataError(
                f"unknown bundled name {name!r}", symbol=name, hint="run `flowbt data list`"
            )
        # keyword arguments of data.load, one list filled below
        kwargs: dict[str, Any] = {"symbols": [], "macro": [], "events": []}
        kwargs[{"price": "symbols", "macro": "macro", "event": "events"}[entry_kind]] = [name]
        md = data.load(source="bundled", start=start, end=end, **kwargs)
    else:
        files = source in ("csv", "parquet")  # the file options; others refuse them
        extra: dict[str, Any] = (
            {"date_format": date_format, "mapping": parse_mapping(mapping), "repair": repair}
            if files or date_format or mapping
            else {}
        )
        md = data.load([name], source=source, start=start, end=end, exchange=exchange, **extra)
        name = next(iter({**md.prices, **md.macro}))  # a file path loads as its stem
    info = md.provenance(name)
    if info.kind == "price":
        frame = md.price(name)
    elif info.kind == "macro":
        frame = md.macro[info.name]
    else:
        frame = md.event(info.name)
        if start or end:
            lo = pd.Timestamp(start or "1900-01-01", tz="UTC")
            hi = pd.Timestamp(end or "2100-01-01", tz="UTC")
            frame = frame.loc[(frame["date"] >= lo) & (frame["date"] <= hi)]
        frame = frame[[c for c in frame.columns if c not in ("text",)]]
    if frame.empty:
        raise DataError(
            f"no rows between {start} and {end}", symbol=name, hint="widen --start/--end"
        )
    console.print(f"[bold]{info.name}[/bold] ({info.kind}, source {info.source})")
    for key in ("origin", "basis", "calendar", "currency", "units", "lag", "fetched_at"):
        value = getattr(info, key)
        if value:
            console.print(f"  {key}: {value}", markup=False)
    console.print(f"  rows: {len(frame)}")
    shown = frame.reset_index() if "date" not in frame.columns else frame
    if len(shown) > 2 * rows:
        shown = pd.concat([shown.head(rows), shown.tail(rows)])
    console.print(table(shown))
    if info.kind == "price":
        for quirk in md.quirks:
            console.print(f"  quirk: {quirk.line()}", markup=False)


@data_app.command("update")
@_quiet_numerics
def data_update(
    symbols: Annotated[list[str], typer.Argument(help="Symbols or FRED series ids.")],
    source: Annotated[str, typer.Option(help="yahoo, ccxt or fred.")] = "yahoo",
    exchange: Annotated[
        str, typer.Option(help="ccxt exchange id (with --source ccxt).")
    ] = "binance",
    interval: Annotated[
        str,
        typer.Option(help="Bar interval: 1m, 5m, 15m, 30m, 1h, 1d, 1w (fred: 1d only)."),
    ] = "1d",
    start: Annotated[str | None, typer.Option(help="First date for a new cache entry.")] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Cache folder.")] = None,
    repair: Annotated[
        bool,
        typer.Option(help="Widen high/low to contain open/close (reported) instead of failing."),
    ] = False,
) -> None:
    """Fetch what is new into the local parquet cache (incremental, atomic).

    Exit codes: 0 every symbol refreshed; 3 a refresh failed and the cached
    copy was served (a `stale data` warning names it); 2 an error.
    """
    stale = []
    for done in update_many(
        symbols,
        source=source,
        exchange=exchange,
        interval=interval,
        start=start,
        cache_dir=cache_dir,
        repair=repair,
    ):
        console.print(done.line, markup=False)
        if done.stale:
            stale.append(done.symbol)
    if stale:
        raise typer.Exit(code=EXIT_STALE)
