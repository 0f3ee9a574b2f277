"""`MarketData`: prices, macro series and events behind one point-in-time API.

Every value carries the instant it became known: a price bar at its session
close, a macro observation at its publication time (`data.publication`), an
event at its release (`data.events`). `MarketData.as_of(t)` keeps only what
was known at ``t``; `MarketData.series_on` aligns a macro series to bars using
only what was published by each bar's close.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pydantic import BaseModel

from data.calendars import AlignedPrices, align, session_close
from data.errors import DataError
from data.events import meetings_as_of
from data.validate import Quirk

ET = "America/New_York"


class SeriesInfo(BaseModel):
    """Provenance and conventions of one price symbol, macro series or event table."""

    name: str
    kind: str  # "price" | "macro" | "event"
    source: str  # "bundled", "yahoo", "ccxt:binance", "fred", "csv", ...
    origin: str = ""  # where the numbers come from (repository, vendor, file)
    basis: str | None = None  # price basis (see data.schema.PriceBasis)
    calendar: str | None = None  # XNYS, XKRX or 24/7 for prices
    currency: str | None = None
    units: str | None = None  # macro units
    lag: str | None = None  # publication rule (macro and events)
    rows: int = 0
    start: str | None = None
    end: str | None = None
    aliases: list[str] = []
    fetched_at: str | None = None
    sha256: str | None = None


def to_instant(t: str | pd.Timestamp) -> pd.Timestamp:
    """A point in time as a UTC instant.

    Tz-aware values are converted; naive values are New York wall time; a bare
    date (midnight, naive) means the *end* of that New York day, so
    ``as_of("2020-03-23")`` includes that day's closes.
    """
    ts = pd.Timestamp(t)
    if ts.tzinfo is not None:
        return ts.tz_convert("UTC")
    if ts == ts.normalize():
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return ts.tz_localize(ET).tz_convert("UTC")


class MarketData:
    """Prices per symbol, macro series and event tables, each with provenance.

    * ``prices[symbol]``: OHLCV frame, UTC index (00:00 UTC of the session date),
      columns ``open high low close volume`` and ``adj_close`` when the source has one;
      `basis(symbol)` says whether OHLC are raw or already adjusted.
    * ``macro[name]``: frame indexed by observation date with ``value`` and ``known_at``.
    * ``events[name]``: table with a ``date`` and a ``known_at`` column.

    Frames are shared, not copied: treat them as read-only.
    """

    def __init__(
        self,
        prices: dict[str, pd.DataFrame],
        macro: dict[str, pd.DataFrame],
        events: dict[str, pd.DataFrame],
        info: dict[str, SeriesInfo],
        quirks: list[Quirk] | None = None,
        as_of: pd.Timestamp | None = None,
    ) -> None:
        self.prices = prices
        self.macro = macro
        self.events = events
        self.info = info
        self.quirks = quirks or []
        self.as_of_time = as_of
        self._aliases = {a: s for s, i in info.items() for a in i.aliases}

    # --- lookup -------------------------------------------------------------
    @property
    def symbols(self) -> list[str]:
        return list(self.prices)

    def _resolve(self, name: str, table: dict, kind: str) -> str:
        name = self._aliases.get(name, name)
        if name not in table:
            known = ", ".join(sorted(table)) or "none loaded"
            raise DataError(f"unknown {kind} {name!r}", symbol=name, hint=f"available: {known}")
        return name

    def price(self, symbol: str) -> pd.DataFrame:
        """OHLCV frame of ``symbol`` (aliases such as SAMSUNG work)."""
        return self.prices[self._resolve(symbol, self.prices, "symbol")]

    def basis(self, symbol: str) -> str:
        """Price basis of the frame: raw+tr, adjusted, index, raw or unknown."""
        return self.info[self._resolve(symbol, self.prices, "symbol")].basis or "unknown"

    def calendar(self, symbol: str) -> str:
        return self.info[self._resolve(symbol, self.prices, "symbol")].calendar or "XNYS"

    def series(self, name: str, *, by: str = "observation") -> pd.Series:
        """Values of a macro series, indexed by observation date or (``by="known"``) publication."""
        frame = self.macro[self._resolve(name, self.macro, "series")]
        if by == "known":
            return pd.Series(
                frame["value"].to_numpy(), index=pd.DatetimeIndex(frame["known_at"]), name=name
            )
        if by != "observation":
            raise DataError(
                f"unknown index {by!r}",
                where="argument by",
                hint="use by='observation' or by='known'",
            )
        return frame["value"].rename(name)

    def series_on(self, name: str, index: pd.DatetimeIndex, calendar: str = "XNYS") -> pd.Series:
        """A macro series as seen at each bar of ``index``: the latest value published
        by that bar's close (NaN before the first publication)."""
        frame = self.macro[self._resolve(name, self.macro, "series")]
        closes = session_close(index, calendar)
        known = pd.DatetimeIndex(frame["known_at"])
        order = known.argsort(kind="stable")
        known = known[order]
        values = frame["value"].to_numpy()[order]
        pos = known.searchsorted(closes, side="right") - 1
        out = pd.Series(values[pos.clip(0)], index=index, name=name)
        out[pos < 0] = float("nan")
        return out

    def event(self, name: str) -> pd.DataFrame:
        """Event table with ``date`` and ``known_at`` columns."""
        return self.events[self._resolve(name, self.events, "event table")]

    def align(self, symbols: Iterable[str] | None = None, *, at: str = "session") -> AlignedPrices:
        """Symbols on the union of their timestamps with a per-asset tradable mask."""
        names = [self._resolve(s, self.prices, "symbol") for s in (symbols or self.prices)]
        return align(
            {s: self.prices[s] for s in names},
            {s: self.calendar(s) for s in names},
            at=at,
        )

    # --- point in time ------------------------------------------------------
    def as_of(self, t: str | pd.Timestamp) -> MarketData:
        """Only what was known at ``t`` (see `to_instant` for how ``t`` is read)."""
        cut = to_instant(t)
        prices = {}
        for sym, frame in self.prices.items():
            closes = session_close(frame.index, self.calendar(sym))
            prices[sym] = frame.iloc[: int(closes.searchsorted(cut, side="right"))]
        macro = {n: f.loc[f["known_at"] <= cut] for n, f in self.macro.items()}
        events = {}
        for name, frame in self.events.items():
            if name == "fomc_meetings":
                events[name] = meetings_as_of(frame, cut)
            else:
                events[name] = frame.loc[frame["known_at"] <= cut]
        return MarketData(prices, macro, events, self.info, self.quirks, as_of=cut)

    def between(self, start: str | None = None, end: str | None = None) -> MarketData:
        """Prices and macro observations restricted to [start, end] (dates, inclusive)."""
        lo = pd.Timestamp(start, tz="UTC") if start else None
        hi = pd.Timestamp(end, tz="UTC") if end else None
        prices = {s: f.loc[lo:hi] for s, f in self.prices.items()}
        macro = {n: f.loc[lo:hi] for n, f in self.macro.items()}
        return MarketData(prices, macro, self.events, self.info, self.quirks, self.as_of_time)

    # --- description ----------------------------------------------------------
    def provenance(self, name: str) -> SeriesInfo:
        """Where a symbol, series or event table comes from and how it is dated."""
        for table in (self.prices, self.macro, self.events):
            key = self._aliases.get(name, name)
            if key in table:
                return self.info[key]
        raise DataError(
            f"unknown name {name!r}", symbol=name, hint="run `flowbt data list` for the names"
        )

    def summary(self) -> pd.DataFrame:
        """One row per symbol/series/table: kind, source, range, rows, basis or units."""
        rows = []
        for table in (self.prices, self.macro, self.events):
            for name, frame in table.items():
                info = self.info[name]
                dates = (
                    frame.index
                    if "date" not in frame.columns
                    else pd.DatetimeIndex(frame["date"].dropna())
                )
                rows.append(
                    {
                        "name": name,
                        "kind": info.kind,
                        "source": info.source,
                        "start": dates.min().date().isoformat() if len(dates) else "",
                        "end": dates.max().date().isoformat() if len(dates) else "",
                        "rows": len(frame),
                        "basis/units": info.basis or info.units or "",
                    }
                )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        when = f", as of {self.as_of_time}" if self.as_of_time is not None else ""
        return (
            f"MarketData({len(self.prices)} symbols, {len(self.macro)} macro series, "
            f"{len(self.events)} event tables{when})"
        )
