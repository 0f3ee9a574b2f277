"""User price files (CSV or parquet) -> validated OHLCV frames.

Column names are mapped to flowbt's (see `data.schema`): Yahoo's CSV export,
yfinance's ``to_csv`` and Binance kline CSVs (with or without header) work as
they are; anything else takes an explicit ``mapping``. Files are checked
strictly by default; ``repair=True`` widens high/low to contain open/close and
drops empty bars, and says how many rows it touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataError
from data.schema import (
    BINANCE_KLINE_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_PRICE_COLUMNS,
    canonical_columns,
)
from data.timestamps import parse_timestamps
from data.validate import Quirk, check_prices

FILE_KINDS = {".csv": "csv", ".gz": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _looks_headerless(path: Path) -> bool:
    """A Binance kline dump starts straight with numbers, no header line."""
    with pd.io.common.get_handle(path, "r", compression="infer") as handle:
        first = handle.handle.readline()
    cells = [c.strip() for c in first.split(",")]
    if len(cells) != len(BINANCE_KLINE_COLUMNS):
        return False
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def _read_raw(path: Path, kind: str, symbol: str) -> tuple[pd.DataFrame, int]:
    """Read the file as it is; return the frame and the file line of its first row."""
    try:
        if kind == "parquet":
            raw = pd.read_parquet(path)
            if isinstance(raw.index, pd.DatetimeIndex):
                raw = raw.reset_index()
            return raw, 1
        if path.stat().st_size == 0:
            raise DataError("empty file", file=path, symbol=symbol, hint="the file has no bytes")
        if _looks_headerless(path):
            return pd.read_csv(path, header=None, names=list(BINANCE_KLINE_COLUMNS)), 1
        return pd.read_csv(path, skipinitialspace=True), 2
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(
            "empty file", file=path, symbol=symbol, hint="the file has no rows"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {kind} file: {first}", file=path, symbol=symbol) from None


def read_price_file(
    path: str | Path,
    *,
    symbol: str | None = None,
    mapping: dict[str, str] | None = None,
    repair: bool = False,
) -> pd.DataFrame:
    """Read one user price file into an OHLCV frame (UTC index ``date``); raise DataError if bad.

    The quirks a repair handled are in ``frame.attrs["quirks"]`` (list of `Quirk`).
    """
    frame, _ = read_price_file_with_quirks(path, symbol=symbol, mapping=mapping, repair=repair)
    return frame


def read_price_file_with_quirks(
    path: str | Path,
    *,
    symbol: str | None = None,
    mapping: dict[str, str] | None = None,
    repair: bool = False,
) -> tuple[pd.DataFrame, list[Quirk]]:
    """Like `read_price_file` but also return the repairs made, as `Quirk` records."""
    path = Path(path)
    symbol = symbol or path.name.split(".")[0]
    if not path.exists():
        raise DataError("file not found", file=path, symbol=symbol, hint="check the path")
    suffix = path.suffix.lower()
    kind = FILE_KINDS.get(suffix)
    if kind is None:
        raise DataError(
            f"unknown file type {suffix!r}",
            file=path,
            symbol=symbol,
            hint="use .csv, .csv.gz or .parquet",
        )
    raw, first_row = _read_raw(path, kind, symbol)
    if raw.empty:
        raise DataError("empty file: no data rows", file=path, symbol=symbol)

    columns = canonical_columns(list(raw.columns), mapping)
    found = set(columns.values())
    missing = [c for c in ("date", *REQUIRED_PRICE_COLUMNS) if c not in found]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, raw.columns))}",
            file=path,
            symbol=symbol,
            hint="rename the columns or pass a mapping such as --map Timestamp=date",
        )
    raw = raw[list(columns)].rename(columns=columns)
    index = parse_timestamps(raw["date"], file=str(path), symbol=symbol, first_row=first_row)
    frame = pd.DataFrame(index=index)
    for col in PRICE_COLUMNS:
        if col not in raw:
            continue
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.isna().to_numpy() & raw[col].notna().to_numpy()
        if bad.any() and raw[col].dtype == object:
            text = raw[col].astype("string").str.strip()
            bad &= ~text.str.lower().isin(["", "nan", "null", "none"]).to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"not a number in column {col}: {raw[col].iloc[pos]!r}",
                file=path,
                symbol=symbol,
                row=pos + first_row,
            )
        frame[col] = values.to_numpy(dtype="float64")
    if "volume" not in frame:
        frame["volume"] = np.nan
    return check_prices(frame, file=str(path), symbol=symbol, first_row=first_row, repair=repair)
