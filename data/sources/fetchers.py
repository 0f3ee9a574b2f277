"""The network fetcher of each online source, imported only when a fetch is asked for.

``import data`` never loads yfinance or ccxt or opens a socket: the provider modules
are imported here, lazily, by `get_fetcher`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from data.errors import DataError
from data.sources import ONLINE_SOURCES


def get_fetcher(
    source: str, *, exchange: str = "binance", cache_root: str | Path | None = None
) -> Callable[..., pd.DataFrame]:
    """The default network fetcher of ``source`` (``ccxt`` uses ``exchange``).

    ``cache_root`` is flowbt's cache folder: yfinance keeps its own cookie/timezone caches
    under ``<cache_root>/yfinance``. Imports lazily so that ``import data`` never loads
    yfinance/ccxt or opens a socket.
    """
    if source == "yahoo":
        from data.sources.yahoo import fetch_yahoo

        return functools.partial(fetch_yahoo, cache_root=cache_root)
    if source == "ccxt":
        from data.sources.crypto import fetch_ccxt, make_exchange

        ex = make_exchange(exchange)  # fail early on an unknown exchange id

        def fetch(
            symbol: str,
            *,
            interval: str,
            start: str | pd.Timestamp | None = None,
            end: str | pd.Timestamp | None = None,
        ) -> pd.DataFrame:
            return fetch_ccxt(symbol, interval=interval, start=start, end=end, exchange=ex)

        return fetch
    if source == "fred":
        from data.sources.fred import fetch_fred

        return fetch_fred
    raise DataError(
        f"unknown online source {source!r}", hint=f"use one of {', '.join(ONLINE_SOURCES)}"
    )
