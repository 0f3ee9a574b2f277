"""Canonical shapes of market data and the column mappings that produce them.

Every price frame in flowbt has a tz-aware UTC ``DatetimeIndex`` named ``date``
(a daily bar is stamped at 00:00 UTC of its session date) and the float columns
``open, high, low, close, volume`` plus ``adj_close`` when the source has one.
"""

from __future__ import annotations

import re
from enum import StrEnum

from data.errors import DataError

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
REQUIRED_PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
OHLC: tuple[str, ...] = ("open", "high", "low", "close")


class PriceBasis(StrEnum):
    """What the OHLC numbers of a frame are (see data/bundled/SOURCES.md)."""

    RAW_TR = "raw+tr"  # OHLC as traded (split-adjusted only); adj_close = total-return close
    ADJUSTED = "adjusted"  # OHLC already dividend+split adjusted; adj_close = close
    INDEX = "index"  # index level, no dividends
    RAW = "raw"  # as traded, no total-return column (e.g. KRW stocks, exchange candles)
    UNKNOWN = "unknown"  # a user file: flowbt cannot know


# Header aliases, matched after lower-casing and dropping spaces, dashes and underscores.
# Covers Yahoo's CSV export (Date, Open, ..., Adj Close, Volume), yfinance's
# DataFrame.to_csv (Datetime for intraday) and Binance kline CSVs with a header.
_ALIASES: dict[str, str] = {
    "date": "date",
    "datetime": "date",
    "time": "date",
    "timestamp": "date",
    "opentime": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "last": "close",
    "adjclose": "adj_close",
    "adjustedclose": "adj_close",
    "volume": "volume",
    "vol": "volume",
}

# Binance's public kline dumps (data.binance.vision) have no header row and these 12 columns.
BINANCE_KLINE_COLUMNS: tuple[str, ...] = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", str(name).strip().lower())


FIELDS: tuple[str, ...] = ("date", *PRICE_COLUMNS)
"""The names a column can be mapped to (``mapping`` values, ``--map COLUMN=FIELD``)."""

_PANDAS_DUPLICATE = re.compile(r"^(.+)\.(\d+)$")  # read_csv names a repeated header "Close.1"


def canonical_columns(columns: list[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Map a file's column names to flowbt's (only the columns that have a meaning).

    ``mapping`` (file column -> canonical name, one of `FIELDS`) wins over the
    built-in aliases: a field it assigns is not also taken by an alias. Two columns
    that would give the same field (``Close`` and ``close``, or a header repeated)
    raise `DataError` (without a file: the caller adds it), never "first wins".
    """
    mapping = dict(mapping or {})
    names = [str(c) for c in columns]
    for col, field in mapping.items():
        if field not in FIELDS:
            raise DataError(
                f"mapping {col}={field}: {field!r} is not a field",
                hint=f"map columns to one of {', '.join(FIELDS)}, e.g. --map {col}=close",
            )
        if col not in names:
            raise DataError(
                f"mapping names column {col!r}, which the file does not have; "
                f"found {', '.join(names)}",
                hint="use a column name exactly as the header spells it, e.g. "
                f"--map {names[0] if names else 'Timestamp'}=date",
            )
    by_mapping = {target: col for col, target in mapping.items()}
    if len(by_mapping) < len(mapping):
        targets = list(mapping.values())
        twice = next(t for t in targets if targets.count(t) > 1)
        cols = [c for c, t in mapping.items() if t == twice]
        raise DataError(
            f"mapping sends columns {cols[0]!r} and {cols[1]!r} both to {twice}",
            hint=f"map one column to {twice}",
        )
    out: dict[str, str] = {}
    seen: dict[str, str] = {}  # field -> the column that gave it
    for col, name in zip(columns, names, strict=True):
        if name in mapping:
            out[col] = mapping[name]
            continue
        target = _ALIASES.get(_key(name))
        dup = _PANDAS_DUPLICATE.match(name)
        if target is None and dup and dup.group(1) in names:
            repeated = _ALIASES.get(_key(dup.group(1)))
            if repeated is not None and repeated not in by_mapping:
                raise DataError(
                    f"column {dup.group(1)!r} appears twice in the header",
                    hint="delete or rename one of the two columns",
                )
        if target is None or target in by_mapping:
            continue
        if target in seen:
            raise DataError(
                f"columns {seen[target]!r} and {name!r} both map to {target}",
                hint=f"delete or rename one of them, or pick one with --map {seen[target]}={target} "
                f"(Python: mapping={{{seen[target]!r}: {target!r}}})",
            )
        out[col] = target
        seen[target] = name
    return out
