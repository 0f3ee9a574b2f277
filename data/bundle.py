"""The bundled offline snapshot (``data/bundled/``): real prices, FRED series, events.

Built from the shared CSVs by `data.bundle_build`; ``MANIFEST.json`` holds each
file's provenance, basis, calendar, range, rows and checksum, ``SOURCES.md`` the
full story. Bundled prices load under two stated rules, and every row they touch
is reported in `MarketData.quirks`, never silently:

1. open or close outside [low, high] as published (47 VIX rows, 1 Samsung and
   3 SK Hynix rows): high/low are widened to contain open and close;
2. high/low missing (SPX before 2016-06-28: the source has closes only): left
   empty (NaN), never invented.

Bundled FOMC tables (``fomc_meetings``, ``fomc_statements``) load with the listed
corrections against the FOMC's published calendar (`data.events.EVENT_CORRECTIONS`:
a misdated June 2007 meeting, two missing 2008 meetings, the cancelled March 17-18,
2020 meeting), each reported in `MarketData.quirks` too.

Anything else wrong with a bundled file raises `DataError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataError
from data.events import correct_events, event_known_at
from data.market import MarketData, SeriesInfo
from data.publication import known_at, lag_for
from data.validate import Quirk, check_order, check_prices

BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"


@lru_cache(maxsize=1)
def manifest() -> dict[str, dict]:
    """Name -> manifest entry of every bundled file."""
    path = BUNDLE_DIR / "MANIFEST.json"
    if not path.exists():
        raise DataError(
            "bundle manifest missing",
            file=path,
            hint="reinstall flowbt or run `python -m data.bundle_build`",
        )
    return json.loads(path.read_text())


def bundled_names(kind: str) -> list[str]:
    return [n for n, e in manifest().items() if e["kind"] == kind]


def _info(name: str, entry: dict) -> SeriesInfo:
    lag = lag_for(name).describe() if entry["kind"] == "macro" else None
    return SeriesInfo(
        name=name,
        kind=entry["kind"],
        source="bundled",
        origin=f"{entry['origin']} [shared/data/{entry['source_file']}; see data/bundled/SOURCES.md]",
        basis=entry.get("basis"),
        calendar=entry.get("calendar"),
        currency=entry.get("currency"),
        units=entry.get("units"),
        lag=lag,
        rows=entry["rows"],
        start=entry["start"],
        end=entry["end"],
        aliases=entry.get("aliases", []),
        sha256=entry.get("sha256"),
    )


def _read(entry: dict, name: str) -> pd.DataFrame:
    path = BUNDLE_DIR / entry["file"]
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read bundled file: {exc}", file=path, symbol=name) from None


def _price(name: str, entry: dict, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Quirk]]:
    return check_prices(
        frame,
        file=f"data/bundled/{entry['file']}",
        symbol=name,
        first_row=1,
        repair=True,
        allow_missing_high_low=True,
    )


def _macro(name: str, entry: dict, frame: pd.DataFrame) -> pd.DataFrame:
    frame.index = frame.index.as_unit("ns")
    check_order(frame.index, file=f"data/bundled/{entry['file']}", symbol=name, first_row=1)
    values = frame["value"].to_numpy()
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0]) + 1
        raise DataError("missing value", file=entry["file"], symbol=name, row=row)
    frame["known_at"] = known_at(frame.index, lag_for(name))
    return frame


def _event(name: str, entry: dict, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Quirk]]:
    frame["date"] = frame["date"].dt.as_unit("ns")
    frame, quirks = correct_events(name, frame)
    frame["known_at"] = event_known_at(name, frame)
    return frame, quirks


def _pick(requested: Iterable[str] | None, kind: str) -> list[str]:
    available = bundled_names(kind)
    if requested is None:
        return available
    aliases = {a: n for n, e in manifest().items() for a in e.get("aliases", [])}
    picked = []
    for name in requested:
        key = aliases.get(name, name)
        if key not in available:
            raise DataError(
                f"unknown bundled {kind} {name!r}",
                symbol=name,
                hint=f"run `flowbt data list` to see the {len(available)} bundled {kind} names",
            )
        picked.append(key)
    return picked


def load_bundle(
    symbols: Iterable[str] | None = None,
    macro: Iterable[str] | None = None,
    events: Iterable[str] | None = None,
) -> MarketData:
    """Load bundled prices, macro series and event tables (``None`` = all of a kind)."""
    entries = manifest()
    picked = {
        kind: _pick(req, kind)
        for kind, req in (("price", symbols), ("macro", macro), ("event", events))
    }
    names = [n for kind in picked.values() for n in kind]
    # parquet decoding releases the GIL: read the files concurrently
    with ThreadPoolExecutor(max_workers=4) as pool:
        raw = dict(zip(names, pool.map(lambda n: _read(entries[n], n), names), strict=True))
    prices, quirks, info = {}, [], {}
    for name in picked["price"]:
        prices[name], found = _price(name, entries[name], raw[name])
        quirks.extend(found)
    series = {name: _macro(name, entries[name], raw[name]) for name in picked["macro"]}
    tables = {}
    for name in picked["event"]:
        tables[name], found = _event(name, entries[name], raw[name])
        quirks.extend(found)
    info = {name: _info(name, entries[name]) for name in names}
    return MarketData(prices, series, tables, info, quirks)
