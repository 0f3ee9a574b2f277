"""Errors of the data layer.

A `DataError` always says *what* is wrong, *where* (file, symbol, row) and, when
there is one, *how to fix it*, so the CLI can print it as one line.
"""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Bad or missing market data, raised early and loudly.

    Attributes mirror the message so callers and tests can check them:
    ``file`` (path or source name), ``symbol``, ``row`` (1-based line number in
    the file, header = line 1, when the problem sits on a row) and ``hint``.
    ``where`` names any other place, such as the argument that is wrong
    (``"argument end"``); it is printed first among the places.
    """

    def __init__(
        self,
        what: str,
        *,
        file: str | Path | None = None,
        symbol: str | None = None,
        row: int | None = None,
        hint: str | None = None,
        where: str | None = None,
    ) -> None:
        self.what = what
        self.where = where
        self.file = str(file) if file is not None else None
        self.symbol = symbol
        self.row = row
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = [self.where] if self.where else []
        if self.file:
            where.append(f"file {self.file}")
        if self.symbol:
            where.append(f"symbol {self.symbol}")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = self.what
        if where:
            text += f" ({', '.join(where)})"
        if self.hint:
            text += f"; fix: {self.hint}"
        return text


class StaleDataWarning(UserWarning):
    """A refresh failed or came back empty and the cached copy was used instead."""


class StaleRateWarning(StaleDataWarning):
    """A conversion rate (e.g. the USD/KRW series DEXKOUS) ended before the bars it
    converts: its last value was carried on, so those bars use a stale rate."""
