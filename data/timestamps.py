"""Parsing of timestamp columns into a UTC index, with row-precise errors.

Accepted, with no option needed:

* ISO dates/datetimes (``2024-01-31``, ``2024-01-31T14:30``): naive = UTC, or every
  row with an offset (``+09:00``, ``Z``);
* ``YYYYMMDD`` integers (``20240131``);
* epoch numbers in seconds, milliseconds, microseconds or nanoseconds, each value by
  its own magnitude (Binance klines switched from ms to us in 2025);
* ``D/M/YYYY`` or ``M/D/YYYY`` (``/``, ``.`` or ``-`` between) when some day is above
  12, which says the order; otherwise the order is ambiguous and ``date_format``
  (``--date-format``, e.g. ``%d/%m/%Y``) must say it;
* anything else pandas reads unambiguously (``Mar 19, 2020``), or any layout given as
  ``date_format`` (a `strftime` pattern).

Refused with a `DataError` naming file, row and fix: a column mixing naive and
offset-carrying values (flowbt will not guess which clock a row was written in),
small numbers that are neither YYYYMMDD nor epoch timestamps (spreadsheet serial
days, row numbers: they would become 1970 instants), impossible dates (2020-02-30)
and dates outside 1678..2261 (what a nanosecond index holds).

Daily bars keep their session date: when every timestamp carries an offset and
sits at local midnight (``2020-03-19T00:00:00+09:00``, a Seoul session), the bar is
stamped 00:00 UTC of that *local* date, not at the previous UTC day's 15:00, which
would put Monday's session on a Sunday and make the calendar look 24/7. Intraday
timestamps with an offset are converted to the UTC instant they name.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings

import numpy as np
import pandas as pd

from data.errors import DataError

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_OFFSET_PART = re.compile(r"\s*(?:Z|[+-]\d{2}:?\d{2})$")
# D/M/Y or M/D/Y with one separator, optionally followed by a time of day
_NUMERIC_DMY = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\S.*))?$")

EARLIEST = pd.Timestamp("1678-01-01", tz="UTC")
LATEST = pd.Timestamp("2261-12-31", tz="UTC")
"""The dates a nanosecond UTC index can hold (whole years): outside them, an error."""

DATE_HINT = (
    "write dates as text like 2024-01-31, or give their layout with --date-format "
    "(Python: date_format=), e.g. %d/%m/%Y"
)

# epoch magnitude thresholds: a value at or above the bound is in that unit
_EPOCH_UNITS: tuple[tuple[float, int], ...] = (
    (1e17, 1),  # nanoseconds
    (1e14, 1_000),  # microseconds
    (1e11, 1_000_000),  # milliseconds
    (1e8, 1_000_000_000),  # seconds (1e8 s = 1973-03-03)
)


def _fail(what: str, file: str, symbol: str, pos: int, first_row: int, hint: str) -> DataError:
    return DataError(what, file=file, symbol=symbol, row=pos + first_row, hint=hint)


def _yyyymmdd(values: np.ndarray) -> pd.DatetimeIndex | None:
    """The values as YYYYMMDD dates when every one of them is one (1678..2261), else None."""
    if not np.all(np.mod(values, 1) == 0):
        return None
    if not ((values >= 16780101) & (values <= 22611231)).all():
        return None
    text = pd.Series(values.astype("int64").astype(str))
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce", utc=True)
    if parsed.isna().any():
        return None
    return pd.DatetimeIndex(parsed)


def _yyyymmdd_valid(values: np.ndarray) -> np.ndarray:
    """Per value: an integer that is a real YYYYMMDD date in 1678..2261."""
    whole = np.mod(values, 1) == 0
    text = pd.Series(np.where(whole, values, 0).astype("int64").astype(str))
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce", utc=True)
    years = values // 10_000
    in_range = (years >= EARLIEST.year) & (years <= LATEST.year)
    return np.asarray(whole & parsed.notna().to_numpy() & in_range)


def _epoch(
    values: np.ndarray, *, file: str, symbol: str, first_row: int, ints: np.ndarray | None
) -> pd.DatetimeIndex:
    """Epoch numbers, each in the unit its magnitude says, as UTC instants. ``ints``:
    the same numbers as exact int64 when the column holds integers (ns epochs do not
    fit a float's 53 bits), else None."""
    size = np.abs(values)
    small = size < _EPOCH_UNITS[-1][0]
    if small.any():
        pos = int(np.flatnonzero(small)[0])
        lo, hi = float(np.min(values)), float(np.max(values))
        raise _fail(
            f"date column holds numbers ({lo:g}..{hi:g}) that are neither YYYYMMDD dates nor "
            f"epoch timestamps: {values[pos]:g} looks like a spreadsheet serial day or a row "
            "number and would become a 1970 instant",
            file,
            symbol,
            pos,
            first_row,
            "export the dates as text like 2024-01-31 (in a spreadsheet: format the date "
            "column as YYYY-MM-DD before saving)",
        )
    scale = np.ones(len(values), dtype="int64")
    for bound, factor in reversed(_EPOCH_UNITS):
        scale[size >= bound] = factor
    if ints is not None:
        over = np.abs(ints) > np.iinfo(np.int64).max // scale
        nanos = np.where(over, 0, ints) * scale
    else:
        big = values * scale
        over = ~(np.abs(big) < 9.2e18)
        nanos = np.where(over, 0, big).astype("int64")
    index = pd.DatetimeIndex(pd.to_datetime(nanos, unit="ns", utc=True))
    outside = over | (index < EARLIEST) | (index > LATEST)
    if outside.any():
        pos = int(np.flatnonzero(outside)[0])
        raise _fail(
            f"epoch timestamp {values[pos]:g} is outside {EARLIEST.year}..{LATEST.year}",
            file,
            symbol,
            pos,
            first_row,
            "use epoch seconds, milliseconds or microseconds, or dates like 2024-01-31",
        )
    return pd.DatetimeIndex(index.as_unit("ns"), name="date")


def _numeric(
    raw: pd.Series, *, file: str, symbol: str, first_row: int, date_format: str | None
) -> pd.DatetimeIndex:
    values = raw.to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        what = "empty timestamp" if np.isnan(values[pos]) else f"timestamp {values[pos]}"
        raise _fail(what, file, symbol, pos, first_row, "every row needs a date")
    if date_format is not None:
        if not np.all(np.mod(values, 1) == 0):
            raise _fail(
                f"date column holds fractional numbers ({values[0]:g}), which date_format "
                f"{date_format!r} cannot describe",
                file,
                symbol,
                0,
                first_row,
                "drop --date-format to read them as epoch timestamps",
            )
        text = pd.Series(values.astype("int64").astype(str), index=raw.index)
        return _text(text, file=file, symbol=symbol, first_row=first_row, date_format=date_format)
    dates = _yyyymmdd(values)
    if dates is not None:
        return pd.DatetimeIndex(dates.as_unit("ns"), name="date")
    eight = (values >= 10_000_000) & (values < 100_000_000)
    if eight.all():  # 8 digits each, but not all real YYYYMMDD dates
        ok = _yyyymmdd_valid(values)
        pos = int(np.flatnonzero(~ok)[0])
        raise _fail(
            f"date {values[pos]:.0f} is not a real YYYYMMDD date",
            file,
            symbol,
            pos,
            first_row,
            "correct that row (YYYYMMDD, e.g. 20240131)",
        )
    ints = None
    if pd.api.types.is_integer_dtype(raw.dtype) and np.abs(values).max() < 9.2e18:
        ints = raw.to_numpy(dtype="int64")  # exact, also for nanosecond epochs
    return _epoch(values, file=file, symbol=symbol, first_row=first_row, ints=ints)


def _day_month_order(
    text: pd.Series, *, file: str, symbol: str, first_row: int
) -> tuple[bool, str] | None:
    """For D/M/Y-or-M/D/Y dates: (dayfirst, strftime format or "") from the values, or
    None when the column is not in that style. Raise when the order is ambiguous."""
    parts = text.str.extract(_NUMERIC_DMY)
    matched = parts[0].notna().to_numpy()
    if not matched.any():
        return None
    if not matched.all():
        pos = int(np.flatnonzero(~matched)[0])
        raise _fail(
            f"dates written in more than one style: {text.iloc[pos]!r} vs "
            f"{text.iloc[int(np.flatnonzero(matched)[0])]!r}",
            file,
            symbol,
            pos,
            first_row,
            "write every date in one layout, e.g. 2024-01-31",
        )
    first = parts[0].astype(int).to_numpy()
    second = parts[2].astype(int).to_numpy()
    day_first = first > 12
    month_first = second > 12
    if day_first.any() and month_first.any():
        a, b = int(np.flatnonzero(day_first)[0]), int(np.flatnonzero(month_first)[0])
        raise _fail(
            f"dates mix day-first {text.iloc[a]!r} and month-first {text.iloc[b]!r}",
            file,
            symbol,
            max(a, b),
            first_row,
            "write every date in one order, e.g. 2024-01-31",
        )
    sep = str(parts[1].iloc[0])
    year = "%Y" if len(str(parts[3].iloc[0])) == 4 else "%y"
    timed = bool(parts[4].notna().any())
    if day_first.any() or month_first.any():
        dayfirst = bool(day_first.any())
        order = f"%d{sep}%m{sep}{year}" if dayfirst else f"%m{sep}%d{sep}{year}"
        return dayfirst, "" if timed else order
    if (first == second).all():  # 01/01/2020, 02/02/2020: either order reads the same
        return False, "" if timed else f"%m{sep}%d{sep}{year}"
    pos = int(np.flatnonzero(first != second)[0])
    raise _fail(
        f"ambiguous dates: every day and month is <= 12, so {text.iloc[pos]!r} reads as "
        "day-first or month-first",
        file,
        symbol,
        pos,
        first_row,
        f"say the order: --date-format %d{sep}%m{sep}{year} (day first) or "
        f"--date-format %m{sep}%d{sep}{year} (month first); in Python "
        f"date_format='%d{sep}%m{sep}{year}'",
    )


def _why_unparseable(value: str) -> str:
    """A reason for a date pandas could not read, when there is a clear one."""
    match = re.match(r"^\s*(-?\d{1,5})-(\d{1,2})-(\d{1,2})", value)
    if match:
        year, month, day = (int(g) for g in match.groups())
        if not EARLIEST.year <= year <= LATEST.year:
            return f" (year {year} is outside {EARLIEST.year}..{LATEST.year})"
        try:
            dt.date(year, month, day)
        except ValueError as exc:
            return f" ({exc})"
    return ""


def _text(
    text: pd.Series, *, file: str, symbol: str, first_row: int, date_format: str | None
) -> pd.DatetimeIndex:
    text = text.astype("string").str.strip()
    missing = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if missing.any():
        pos = int(np.flatnonzero(missing)[0])
        raise _fail("empty date", file, symbol, pos, first_row, "every row needs a date")
    has_offset = text.str.contains(_OFFSET).to_numpy(dtype=bool)
    if has_offset.any() and not has_offset.all():
        pos = int(np.flatnonzero(has_offset != has_offset[0])[0])
        raise _fail(
            f"mixed timezones: {text.iloc[pos]!r} vs {text.iloc[0]!r}",
            file,
            symbol,
            pos,
            first_row,
            "write every timestamp in one timezone (UTC or with an offset on every row)",
        )
    if has_offset.all() and _local_midnight(text.iloc[[0, len(text) // 2, -1]], date_format):
        # daily bars at local midnight keep their local session date (a quick look at
        # three rows first: intraday files skip the second parse)
        naive = text.str.replace(_OFFSET_PART, "", regex=True)
        local = _parse(naive, date_format, file, symbol, first_row, trial=True)
        if local is not None and bool(local.notna().all()):
            wall = pd.DatetimeIndex(local).tz_localize(None)
            if (wall == wall.normalize()).all():
                index = pd.DatetimeIndex(wall.tz_localize("UTC"))
                return _in_range(index, text, file=file, symbol=symbol, first_row=first_row)
    parsed = _parse(text, date_format, file, symbol, first_row)
    assert parsed is not None  # not a trial: ambiguity raised
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = str(text.iloc[pos])
        if date_format is not None:
            raise _fail(
                f"date {value!r} does not match date_format {date_format!r}{_why_unparseable(value)}",
                file,
                symbol,
                pos,
                first_row,
                "correct that row or give the layout the file uses with --date-format "
                "(Python: date_format=), e.g. %Y-%m-%d",
            )
        raise _fail(
            f"unparseable date {value!r}{_why_unparseable(value)}",
            file,
            symbol,
            pos,
            first_row,
            DATE_HINT,
        )
    return _in_range(pd.DatetimeIndex(parsed), text, file=file, symbol=symbol, first_row=first_row)


def _local_midnight(text: pd.Series, date_format: str | None) -> bool:
    """Whether every value of ``text`` (with offsets) is at midnight of its own clock."""
    naive = text.str.replace(_OFFSET_PART, "", regex=True)
    local = _parse(naive, date_format, "", "", 0, trial=True)
    if local is None or not bool(local.notna().all()):
        return False
    wall = pd.DatetimeIndex(local).tz_localize(None)
    return bool((wall == wall.normalize()).all())


def _parse(
    text: pd.Series,
    date_format: str | None,
    file: str,
    symbol: str,
    first_row: int,
    *,
    trial: bool = False,
) -> pd.Series | None:
    """Parse ``text`` as UTC instants (NaT where a row cannot be read). A ``trial``
    parse returns None for an ambiguous or mixed layout instead of raising."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas' "could not infer format"
        if date_format is not None:
            try:
                return pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
            except (ValueError, TypeError) as exc:
                raise DataError(
                    f"invalid date_format {date_format!r}: {str(exc).splitlines()[0]}",
                    file=file,
                    symbol=symbol,
                    hint="use strftime codes such as --date-format %d/%m/%Y or %Y-%m-%d",
                ) from None
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        if not parsed.isna().any():
            return parsed
        try:
            order = _day_month_order(text, file=file, symbol=symbol, first_row=first_row)
        except DataError:
            if trial:
                return None
            raise
        if order is not None:
            dayfirst, fmt = order
            if fmt:
                return pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
            return pd.to_datetime(
                text, format="mixed", dayfirst=dayfirst, errors="coerce", utc=True
            )
        # Not ISO and not numeric day/month: let pandas infer per element.
        return pd.to_datetime(text, errors="coerce", utc=True, format="mixed")


def _in_range(
    index: pd.DatetimeIndex, text: pd.Series, *, file: str, symbol: str, first_row: int
) -> pd.DatetimeIndex:
    outside = (index < EARLIEST) | (index > LATEST)
    if outside.any():
        pos = int(np.flatnonzero(outside)[0])
        raise _fail(
            f"date {text.iloc[pos]!r} is outside {EARLIEST.year}..{LATEST.year}",
            file,
            symbol,
            pos,
            first_row,
            "correct the year of that row",
        )
    return pd.DatetimeIndex(index.as_unit("ns"), name="date")


def _aware(raw: pd.Series, *, file: str, symbol: str, first_row: int) -> pd.DatetimeIndex:
    """A tz-aware column: a daily bar at local midnight keeps its local date."""
    local = pd.DatetimeIndex(raw)
    wall = local.tz_localize(None)
    if str(local.tz) not in ("UTC", "utc") and (wall == wall.normalize()).all():
        index = wall.tz_localize("UTC")
    else:
        index = local.tz_convert("UTC")
    return _in_range(index, raw.astype(str), file=file, symbol=symbol, first_row=first_row)


def parse_timestamps(
    raw: pd.Series,
    *,
    file: str,
    symbol: str,
    first_row: int = 2,
    date_format: str | None = None,
) -> pd.DatetimeIndex:
    """Turn a raw date column into a tz-aware UTC DatetimeIndex named ``date`` (ns).

    ``first_row`` is the file line of the column's first value (errors name the line
    a user sees); ``date_format`` a `strftime` layout (``%d/%m/%Y``) that overrides
    the detection. A daily bar (every timestamp at midnight, of UTC or of its own
    offset) is stamped 00:00 UTC of its session date. Raises `DataError`.
    """
    if raw.isna().any() and not pd.api.types.is_numeric_dtype(raw.dtype):
        pos = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise _fail("empty date", file, symbol, pos, first_row, "every row needs a date")
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return _aware(raw, file=file, symbol=symbol, first_row=first_row)
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        index = pd.DatetimeIndex(raw).tz_localize("UTC")
        return _in_range(index, raw.astype(str), file=file, symbol=symbol, first_row=first_row)
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise _fail(
            f"date column holds true/false values ({raw.iloc[0]!r})",
            file,
            symbol,
            0,
            first_row,
            DATE_HINT,
        )
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return _numeric(raw, file=file, symbol=symbol, first_row=first_row, date_format=date_format)
    return _text(raw, file=file, symbol=symbol, first_row=first_row, date_format=date_format)
