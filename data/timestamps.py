"""Parsing of timestamp columns into a UTC index, with row-precise errors.

Accepted: ISO dates/datetimes (naive = UTC, or all with an offset), and epoch
numbers in seconds, milliseconds or microseconds (Binance klines switched from
ms to us in 2025). A column mixing naive and offset-carrying values is rejected:
flowbt will not guess which clock a row was written in.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from data.errors import DataError

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def _epoch_unit(values: np.ndarray) -> str:
    biggest = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    if biggest >= 1e17:
        return "ns"
    if biggest >= 1e14:
        return "us"
    if biggest >= 1e11:
        return "ms"
    return "s"


def parse_timestamps(
    raw: pd.Series, *, file: str, symbol: str, first_row: int = 2
) -> pd.DatetimeIndex:
    """Turn a raw date column into a tz-aware UTC DatetimeIndex named ``date``."""
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(raw.dt.tz_convert("UTC"), name="date")
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return pd.DatetimeIndex(raw.dt.tz_localize("UTC"), name="date")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64")
        bad = np.isnan(values)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError("empty timestamp", file=file, symbol=symbol, row=pos + first_row)
        unit = _epoch_unit(values)
        return pd.DatetimeIndex(
            pd.to_datetime(values.astype("int64"), unit=unit, utc=True), name="date"
        )

    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        pos = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataError(
            "empty date",
            file=file,
            symbol=symbol,
            row=pos + first_row,
            hint="every row needs a date",
        )
    has_offset = text.str.contains(_OFFSET).to_numpy(dtype=bool)
    if has_offset.any() and not has_offset.all():
        pos = int(np.flatnonzero(has_offset != has_offset[0])[0])
        raise DataError(
            f"mixed timezones: {text.iloc[pos]!r} vs {text.iloc[0]!r}",
            file=file,
            symbol=symbol,
            row=pos + first_row,
            hint="write every timestamp in one timezone (UTC or with an offset on every row)",
        )
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    if parsed.isna().any():
        # Not ISO: let pandas infer per element before declaring a row unparseable.
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"unparseable date {text.iloc[pos]!r}",
            file=file,
            symbol=symbol,
            row=pos + first_row,
            hint="use ISO dates like 2024-01-31",
        )
    return pd.DatetimeIndex(parsed, name="date").as_unit("ns")
