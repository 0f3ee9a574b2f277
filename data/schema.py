"""Canonical shapes of market data and the column mappings that produce them.

Every price frame in flowbt has a tz-aware UTC ``DatetimeIndex`` named ``date``
(a daily bar is stamped at 00:00 UTC of its session date) and the float columns
``open, high, low, close, volume`` plus ``adj_close`` when the source has one.
"""

from __future__ import annotations

import re
from enum import StrEnum

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


def canonical_columns(columns: list[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Map a file's column names to flowbt's (only the columns that have a meaning).

    ``mapping`` (file column -> canonical name) wins over the built-in aliases.
    """
    mapping = mapping or {}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        target = mapping[col] if col in mapping else _ALIASES.get(_key(col))
        if target is None or target in taken:
            continue
        out[col] = target
        taken.add(target)
    return out
