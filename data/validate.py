"""Validation of price frames: loud errors by default, an opt-in repair mode.

Strict mode (the default for user files) raises a `DataError` naming the file,
symbol and row of the first offending bar. ``repair=True`` widens high/low to
contain open/close and drops rows with no price at all, and reports how many
rows it touched as `Quirk` records instead of changing anything silently.
Large moves are *not* errors: a 40% day (BTC on 2020-03-12, VIX spikes) is real.

Plausible values (any mode, no repair): every price (open, high, low, close and
``adj_close``) is finite and ``PRICE_MIN < price < PRICE_MAX`` (1e-10 to 1e12 in the
quote currency: below a satoshi's worth of a micro-cap token, above any quote ever
printed), so ``inf``, ``1e308`` or ``1e-300`` (a unit or decimal-point slip) is a
`DataError` naming the column and the row; volume is finite and >= 0 (empty allowed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel

from data.errors import DataError
from data.schema import OHLC

PRICE_MIN = 1e-10
"""Smallest plausible price (exclusive), in units of the quote currency."""
PRICE_MAX = 1e12
"""Largest plausible price (exclusive), in units of the quote currency."""


class Quirk(BaseModel):
    """A known irregularity of a series and the rule that handled it."""

    symbol: str
    rule: str
    rows: int
    first: str | None = None
    last: str | None = None
    detail: str = ""

    def line(self) -> str:
        span = f" {self.first}..{self.last}" if self.first else ""
        return f"{self.symbol}: {self.rule} on {self.rows} row(s){span} - {self.detail}"


def _day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()


def check_order(index: pd.DatetimeIndex, *, file: str, symbol: str, first_row: int = 2) -> None:
    """Timestamps must be strictly increasing: no unsorted and no duplicated rows."""
    values = index.asi8
    if len(values) < 2:
        return
    step = np.diff(values)
    if (step > 0).all():
        return
    dup = np.flatnonzero(step == 0)
    back = np.flatnonzero(step < 0)
    if len(back) and (not len(dup) or back[0] < dup[0]):
        pos = back[0] + 1
        raise DataError(
            f"timestamps are not sorted: {_day(index[pos])} comes after {_day(index[pos - 1])}",
            file=file,
            symbol=symbol,
            row=pos + first_row,
            hint="sort the file by date",
        )
    pos = dup[0] + 1
    raise DataError(
        f"duplicated timestamp {_day(index[pos])}",
        file=file,
        symbol=symbol,
        row=pos + first_row,
        hint="keep one bar per timestamp",
    )


def check_finite(frame: pd.DataFrame, *, file: str, symbol: str, first_row: int = 2) -> None:
    """No ``inf`` or ``-inf`` in any price column or in volume (NaN is checked later)."""
    for col in (*OHLC, "adj_close", "volume"):
        if col not in frame:
            continue
        values = frame[col].to_numpy(dtype="float64", copy=False)
        bad = np.isinf(values)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"non-finite {col} {values[pos]} on {_day(frame.index[pos])} "
                f"({int(bad.sum())} such bar(s))",
                file=file,
                symbol=symbol,
                row=pos + first_row,
                hint=f"correct or remove the bar: every {col} must be a finite number",
            )


def check_plausible(frame: pd.DataFrame, *, file: str, symbol: str, lines: np.ndarray) -> None:
    """Every price (OHLC, adj_close; NaN skipped) in (``PRICE_MIN``, ``PRICE_MAX``).

    ``lines`` holds the file line of each row of ``frame``."""
    for col in (*OHLC, "adj_close"):
        if col not in frame:
            continue
        values = frame[col].to_numpy(dtype="float64", copy=False)
        with np.errstate(invalid="ignore"):
            bad = (values <= PRICE_MIN) | (values >= PRICE_MAX)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"implausible {col} {values[pos]:g} on {_day(frame.index[pos])} "
                f"(flowbt accepts {PRICE_MIN:g} < price < {PRICE_MAX:g})",
                file=file,
                symbol=symbol,
                row=int(lines[pos]),
                hint="correct the value (a unit or decimal-point slip?) or remove the bar",
            )


def _span(index: pd.DatetimeIndex, mask: np.ndarray) -> tuple[str | None, str | None]:
    hits = index[mask]
    if len(hits) == 0:
        return None, None
    return _day(hits[0]), _day(hits[-1])


def check_prices(
    frame: pd.DataFrame,
    *,
    file: str,
    symbol: str,
    first_row: int = 2,
    repair: bool = False,
    allow_missing_high_low: bool = False,
) -> tuple[pd.DataFrame, list[Quirk]]:
    """Validate an OHLCV frame with a UTC DatetimeIndex; return it (maybe repaired) and quirks.

    ``first_row`` is the file line number of the frame's first row (2 for a CSV with
    a header) so errors point at the line a user sees in an editor.
    ``allow_missing_high_low`` accepts bars whose high and low are both empty (an
    index published with closes only, e.g. SPX before 2016-06-28) and reports them.
    """
    quirks: list[Quirk] = []
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.unit != "ns":
        frame = frame.set_axis(frame.index.as_unit("ns"))  # one resolution everywhere
    if frame.empty:
        raise DataError(
            "no data rows", file=file, symbol=symbol, hint="check the file is not empty"
        )
    check_order(frame.index, file=file, symbol=symbol, first_row=first_row)
    check_finite(frame, file=file, symbol=symbol, first_row=first_row)

    ohlc = frame[list(OHLC)].to_numpy(dtype="float64", copy=False)
    lines = np.arange(len(frame)) + first_row  # file line of each row, kept through repairs
    nan = np.isnan(ohlc)
    empty_rows = nan.all(axis=1)
    pos: np.ndarray | int  # the empty rows' positions here, one bad row's position below
    if empty_rows.any():
        pos = np.flatnonzero(empty_rows)
        runs = np.split(pos, np.flatnonzero(np.diff(pos) != 1) + 1)
        longest = max(runs, key=len)
        if not repair:
            raise DataError(
                f"{len(pos)} bar(s) have no price at all (NaN run of {len(longest)} "
                f"starting {_day(frame.index[longest[0]])})",
                file=file,
                symbol=symbol,
                row=int(lines[pos[0]]),
                hint="remove the empty rows or pass repair=True / --repair to drop them",
            )
        first, last = _span(frame.index, empty_rows)
        quirks.append(
            Quirk(
                symbol=symbol,
                rule="dropped bars without any price",
                rows=len(pos),
                first=first,
                last=last,
                detail=f"longest NaN run {len(longest)}",
            )
        )
        frame = frame.loc[~empty_rows]
        ohlc = ohlc[~empty_rows]
        lines = lines[~empty_rows]
        nan = nan[~empty_rows]
        if frame.empty:
            raise DataError(
                "no priced rows left after dropping the empty bars",
                file=file,
                symbol=symbol,
                hint="the file holds no prices: check it is the right file",
            )

    oc_missing = nan[:, 0] | nan[:, 3]
    if oc_missing.any():
        pos = int(np.flatnonzero(oc_missing)[0])
        raise DataError(
            f"open or close is empty on {_day(frame.index[pos])} "
            f"({int(oc_missing.sum())} such bar(s))",
            file=file,
            symbol=symbol,
            row=int(lines[pos]),
            hint="fill or remove the incomplete bars",
        )
    hl_missing = nan[:, 1] | nan[:, 2]
    if hl_missing.any():
        if not allow_missing_high_low:
            pos = int(np.flatnonzero(hl_missing)[0])
            raise DataError(
                f"high or low is empty on {_day(frame.index[pos])} "
                f"({int(hl_missing.sum())} such bar(s))",
                file=file,
                symbol=symbol,
                row=int(lines[pos]),
                hint="fill or remove the incomplete bars",
            )
        first, last = _span(frame.index, hl_missing)
        quirks.append(
            Quirk(
                symbol=symbol,
                rule="high/low missing, left empty",
                rows=int(hl_missing.sum()),
                first=first,
                last=last,
                detail="close-only history; high/low stay NaN, never invented",
            )
        )

    with np.errstate(invalid="ignore"):
        nonpos = (ohlc <= 0).any(axis=1)
    if nonpos.any():
        pos = int(np.flatnonzero(nonpos)[0])
        bad = float(np.nanmin(ohlc[pos]))
        raise DataError(
            f"non-positive price {bad:g} on {_day(frame.index[pos])}",
            file=file,
            symbol=symbol,
            row=int(lines[pos]),
            hint="prices must be > 0; fix or remove the bar",
        )
    check_plausible(frame, file=file, symbol=symbol, lines=lines)
    o, h, low, c = ohlc[:, 0], ohlc[:, 1], ohlc[:, 2], ohlc[:, 3]
    with np.errstate(invalid="ignore"):
        inverted = h < low
    if inverted.any():
        pos = int(np.flatnonzero(inverted)[0])
        raise DataError(
            f"high {h[pos]:g} < low {low[pos]:g} on {_day(frame.index[pos])}",
            file=file,
            symbol=symbol,
            row=int(lines[pos]),
            hint="swap or correct high/low",
        )
    with np.errstate(invalid="ignore"):
        outside = (o > h) | (o < low) | (c > h) | (c < low)
    if outside.any():
        pos = int(np.flatnonzero(outside)[0])
        if not repair:
            which = "close" if (c[pos] > h[pos] or c[pos] < low[pos]) else "open"
            value = c[pos] if which == "close" else o[pos]
            raise DataError(
                f"{which} {value:g} outside [low {low[pos]:g}, high {h[pos]:g}] on "
                f"{_day(frame.index[pos])} ({int(outside.sum())} such bar(s))",
                file=file,
                symbol=symbol,
                row=int(lines[pos]),
                hint="correct the bar or pass repair=True / --repair to widen high/low",
            )
        frame = frame.copy()
        frame["high"] = np.fmax(h, np.fmax(o, c))
        frame["low"] = np.fmin(low, np.fmin(o, c))
        first, last = _span(frame.index, outside)
        quirks.append(
            Quirk(
                symbol=symbol,
                rule="widened high/low to contain open/close",
                rows=int(outside.sum()),
                first=first,
                last=last,
                detail="open or close outside [low, high] as published",
            )
        )
    if "volume" in frame:
        vol = frame["volume"].to_numpy(dtype="float64", copy=False)
        with np.errstate(invalid="ignore"):
            neg = vol < 0
        if neg.any():
            pos = int(np.flatnonzero(neg)[0])
            raise DataError(
                f"negative volume {vol[pos]:g} on {_day(frame.index[pos])}",
                file=file,
                symbol=symbol,
                row=int(lines[pos]),
                hint="volume must be >= 0 (or empty); fix or remove the bar",
            )
    return frame, quirks
