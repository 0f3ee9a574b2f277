"""User price files (CSV or parquet) -> validated OHLCV frames.

Column names are mapped to flowbt's (see `data.schema`): Yahoo's CSV export,
yfinance's ``to_csv`` and Binance kline CSVs (with or without header) work as
they are; anything else takes an explicit ``mapping`` (``--map COLUMN=FIELD``).
Files are checked strictly by default (`data.validate`); ``repair=True``
(``--repair``) widens high/low to contain open/close and drops empty bars, and
says how many rows it touched. Dates are read by `data.timestamps` (``date_format``
/ ``--date-format`` for a layout it cannot tell, such as day-first dates whose
days are all <= 12).

What is refused, with file, row and fix: cells separated by ``;``, tabs or ``|``
(flowbt reads comma-separated files), text that is not UTF-8 (UTF-8 and UTF-16 with a
byte-order mark are read), two columns giving one field (``Close`` and ``close``),
rows with more cells than the header, and everything `data.validate` checks.

The symbol of a file is its name without the file-type suffix (``SPY.csv`` ->
``SPY``, ``BRK.B.csv.gz`` -> ``BRK.B``; leading dots dropped: ``.hidden.csv`` ->
``hidden``). Loading never writes to a user's file.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataError
from data.schema import (
    BINANCE_KLINE_COLUMNS,
    FIELDS,
    PRICE_COLUMNS,
    REQUIRED_PRICE_COLUMNS,
    canonical_columns,
)
from data.timestamps import parse_timestamps
from data.validate import Quirk, check_prices

FILE_KINDS = {".csv": "csv", ".gz": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
_SUFFIXES = (".csv.gz", ".txt.gz", ".csv", ".gz", ".txt", ".parquet", ".pq")
_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "'|' characters"}
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def symbol_for(path: str | Path) -> str:
    """The symbol a file stands for: its name without the file-type suffix and without
    leading dots (``a/SPY.csv`` -> ``SPY``, ``.hidden.csv`` -> ``hidden``).

    Raises `DataError` when nothing is left (a file named ``.csv``)."""
    path = Path(path)
    name = path.name
    lower = name.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix):
            name = name[: -len(suffix)]
            break
    symbol = name.lstrip(".").strip()
    if not symbol:
        raise DataError(
            "the file name gives no symbol",
            file=path,
            hint="name the file after its symbol, e.g. SPY.csv",
        )
    return symbol


def _encoding(path: Path) -> str:
    """UTF-8, or what a byte-order mark at the start of an uncompressed file says."""
    if path.suffix.lower() == ".gz":
        return "utf-8"
    with path.open("rb") as handle:
        head = handle.read(4)
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), "utf-8")


def _first_lines(path: Path, encoding: str) -> tuple[str, str]:
    """The header line and the line after it ("" when there is none)."""
    with pd.io.common.get_handle(path, "r", compression="infer", encoding=encoding) as handle:
        return str(handle.handle.readline()), str(handle.handle.readline())


def _looks_headerless(first: str) -> bool:
    """A Binance kline dump starts straight with numbers, no header line."""
    cells = [c.strip() for c in first.split(",")]
    if len(cells) != len(BINANCE_KLINE_COLUMNS):
        return False
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def _check_delimiter(path: Path, first: str, second: str, symbol: str) -> None:
    """A header split by ``;``, tabs or ``|`` instead of commas gets a word about it
    (and a command that converts the file, with decimal commas when it has them)."""
    commas = first.count(",")
    for sep, name in _OTHER_DELIMITERS.items():
        if first.count(sep) > commas:
            decimal = ", decimal=','" if re.search(r"\d,\d", second) else ""
            shown = "\\t" if sep == "\t" else sep
            raise DataError(
                f"the cells are separated by {name}, not commas (header {first.strip()[:60]!r})",
                file=path,
                symbol=symbol,
                row=1,
                hint='save it comma-separated, e.g. python -c "import pandas as pd; '
                f"pd.read_csv('{path}', sep='{shown}'{decimal}).to_csv('{path.with_suffix('')}"
                "_comma.csv', index=False)\"",
            )


def _read_raw(path: Path, kind: str, symbol: str) -> tuple[pd.DataFrame, int]:
    """Read the file as it is; return the frame and the file line of its first row."""
    try:
        if kind == "parquet":
            raw = pd.read_parquet(path)
            if isinstance(raw.index, pd.DatetimeIndex):
                raw = raw.rename_axis(raw.index.name or "date").reset_index()
            return raw, 1
        if path.stat().st_size == 0:
            raise DataError(
                "empty file", file=path, symbol=symbol, hint="the file has no bytes: re-export it"
            )
        encoding = _encoding(path)
        first, second = _first_lines(path, encoding)
        if _looks_headerless(first):
            names = list(BINANCE_KLINE_COLUMNS)
            return pd.read_csv(path, header=None, names=names, encoding=encoding), 1
        _check_delimiter(path, first, second, symbol)
        with warnings.catch_warnings():
            # more cells on a row than in the header: pandas would shift the row
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, skipinitialspace=True, encoding=encoding, index_col=False), 2
    except DataError:
        raise
    except pd.errors.ParserWarning:
        raise DataError(
            "some rows have more cells than the header",
            file=path,
            symbol=symbol,
            hint="give every row as many cells as the header (a stray comma?)",
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            "empty file", file=path, symbol=symbol, hint="the file has no rows: re-export it"
        ) from None
    except UnicodeError:
        raise DataError(
            f"cannot read {kind} file: the text is not UTF-8",
            file=path,
            symbol=symbol,
            hint="save the file as UTF-8 (in a spreadsheet: CSV UTF-8)",
        ) from None
    except pd.errors.ParserError as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        line = re.search(r"line (\d+)", text)
        raise DataError(
            f"cannot read {kind} file: {text}",
            file=path,
            symbol=symbol,
            row=int(line.group(1)) if line else None,
            hint="give every row as many cells as the header (a stray comma?)",
        ) from None
    except (OSError, ValueError, TypeError, OverflowError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read {kind} file: {text}",
            file=path,
            symbol=symbol,
            hint=f"check it is a {kind} file (re-export it if it is damaged)",
        ) from None


def read_price_file(
    path: str | Path,
    *,
    symbol: str | None = None,
    mapping: dict[str, str] | None = None,
    repair: bool = False,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read one user price file into an OHLCV frame; raise `DataError` if it is bad.

    The index is UTC, named ``date``: a daily bar at 00:00 UTC of its session date
    (its local date when the file writes offsets), an intraday bar at its instant.
    Prices are in the file's quote currency, volume in its units; ``adj_close`` (Yahoo's
    ``Adj Close``, the total-return close) is kept when the file has it. Nothing is
    shifted in time: bar ``t`` holds what the file says for ``t`` (point in time is
    the engine's job: a bar is known at its close). ``date_format`` is a `strftime`
    layout (``%d/%m/%Y``) for dates the file writes ambiguously. The quirks a repair
    handled are in ``frame.attrs["quirks"]`` (list of `Quirk`).
    """
    frame, _ = read_price_file_with_quirks(
        path, symbol=symbol, mapping=mapping, repair=repair, date_format=date_format
    )
    return frame


def read_price_file_with_quirks(
    path: str | Path,
    *,
    symbol: str | None = None,
    mapping: dict[str, str] | None = None,
    repair: bool = False,
    date_format: str | None = None,
) -> tuple[pd.DataFrame, list[Quirk]]:
    """Like `read_price_file` but also return the repairs made, as `Quirk` records."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=path, symbol=symbol, hint="check the path (ls it)")
    if path.is_dir():
        raise DataError(
            "a folder, not a price file",
            file=path,
            symbol=symbol,
            hint="give the path of a .csv or .parquet file inside it",
        )
    symbol = symbol or symbol_for(path)
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
        raise DataError(
            "empty file: no data rows",
            file=path,
            symbol=symbol,
            hint="the file has a header but no rows: re-export it",
        )
    try:
        columns = canonical_columns(list(raw.columns), mapping)
    except DataError as err:
        raise DataError(err.what, file=path, symbol=symbol, row=1, hint=err.hint) from None
    found = set(columns.values())
    missing = [c for c in ("date", *REQUIRED_PRICE_COLUMNS) if c not in found]
    if missing:
        unused = [str(c) for c in raw.columns if c not in columns]
        example = f"--map {unused[0]}={missing[0]}" if unused else f"--map Timestamp={missing[0]}"
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, raw.columns))}",
            file=path,
            symbol=symbol,
            row=1,
            hint=f"rename the columns to {', '.join(FIELDS[:5])}, or map them: {example} "
            f"(Python: mapping={{{(unused or ['Timestamp'])[0]!r}: {missing[0]!r}}})",
        )
    raw = raw[list(columns)].set_axis([columns[c] for c in columns], axis=1)
    index = parse_timestamps(
        raw["date"], file=str(path), symbol=symbol, first_row=first_row, date_format=date_format
    )
    frame = pd.DataFrame(index=index)
    for col in PRICE_COLUMNS:
        if col not in raw:
            continue
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.isna().to_numpy() & raw[col].notna().to_numpy()
        if bad.any() and raw[col].dtype != "float64":
            text = raw[col].astype("string").str.strip()
            bad &= ~text.str.lower().isin(["", "nan", "null", "none"]).to_numpy(dtype=bool)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"not a number in column {col}: {raw[col].iloc[pos]!r}",
                file=path,
                symbol=symbol,
                row=pos + first_row,
                hint="write plain numbers like 1234.5 (no thousands separators or "
                "currency signs), or leave the cell empty",
            )
        frame[col] = values.to_numpy(dtype="float64")
    if "volume" not in frame:
        frame["volume"] = np.nan
    return check_prices(frame, file=str(path), symbol=symbol, first_row=first_row, repair=repair)
