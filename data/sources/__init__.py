"""Online sources: small fetchers that turn one provider's answer into a canonical frame.

Every fetcher has the same shape, ``fetch(symbol, *, interval, start, end) -> DataFrame``:

- prices (``yahoo``, ``ccxt``): float columns ``open, high, low, close, volume`` (+
  ``adj_close`` for Yahoo) on a tz-aware UTC ``DatetimeIndex`` named ``date``; a daily bar
  is stamped 00:00 UTC of its session date (it is *known* only at that session's close).
- series (``fred``): one float column ``value`` on the same kind of index, stamped at the
  observation date (known later: see `data.publication` for the lag).

``start`` is inclusive and ``end`` exclusive (UTC timestamps or ``None``). A fetcher may
return an empty frame when the provider has no bar in the range; a transport failure or a
malformed answer raises (`DataError` for what flowbt recognises). Fetchers never touch the
cache: `data.cache.update` decides what to fetch and keeps what was on disk safe.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import pandas as pd

from data.errors import DataError

ONLINE_SOURCES: tuple[str, ...] = ("yahoo", "ccxt", "fred")
CACHE_ENV_VAR = "FLOWBT_CACHE_DIR"

# flowbt interval names (ccxt style) and how each provider spells them.
INTERVALS: tuple[str, ...] = ("1m", "5m", "15m", "30m", "1h", "1d", "1w")
_DURATION: dict[str, pd.Timedelta] = {
    "1m": pd.Timedelta(minutes=1),
    "5m": pd.Timedelta(minutes=5),
    "15m": pd.Timedelta(minutes=15),
    "30m": pd.Timedelta(minutes=30),
    "1h": pd.Timedelta(hours=1),
    "1d": pd.Timedelta(days=1),
    "1w": pd.Timedelta(weeks=1),
}
# What each source can be asked for. FRED series have their own frequency (weekly WALCL,
# monthly CPI): the cache keeps them under ``1d`` and no other interval means anything.
SOURCE_INTERVALS: dict[str, tuple[str, ...]] = {
    "yahoo": INTERVALS,
    "ccxt": INTERVALS,
    "fred": ("1d",),
}
_EXCHANGE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_INTERVAL_NOTE = {"fred": " (a FRED series has its own frequency)"}


class RequestError(DataError):
    """The request itself is wrong (an interval or timeframe the source does not serve).

    Unlike a network failure, retrying or falling back to the cache cannot help, so
    `data.cache.update` lets it through instead of serving a stale copy.
    """


def default_cache_dir() -> Path:
    """``$FLOWBT_CACHE_DIR`` when set, else ``~/.cache/flowbt``."""
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "flowbt"


# ---- secrets -------------------------------------------------------------------------
# Provider libraries copy request URLs (fredapi appends ``&api_key=...``) and headers into
# their exception texts. Every provider error passes `redact` before it becomes a flowbt
# message, warning or log line.
REDACTED = "***"
SECRET_ENV_VARS: tuple[str, ...] = ("FRED_API_KEY",)
_SECRET_NAMES = (
    r"api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?key)?|token|access[_-]?token|"
    r"password|passphrase|signature|key|auth"
)
# ``name=value`` in a query string or text, ``"name": "value"`` in JSON/dict reprs.
_SECRET_PAIR = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])((?:{_SECRET_NAMES}))(\s*=\s*|\s*[\"']?\s*:\s*[\"']?)"
    r"([^\s&'\",;)}\]]+)"
)


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every secret replaced by ``***``.

    Replaces the given ``secrets`` and the values of `SECRET_ENV_VARS` wherever they
    appear, and the value of any ``api_key=``/``apiKey=``/``secret=``/``token=``/
    ``key=``/``signature=``/``password=`` pair (query string, text or JSON) whatever it is.
    """
    out = str(text)
    known = {s for s in (*secrets, *(os.environ.get(v) for v in SECRET_ENV_VARS)) if s}
    for secret in sorted(known, key=len, reverse=True):
        if len(secret) >= 4:  # a 1-3 character "secret" would garble the message
            out = out.replace(secret, REDACTED)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)


def describe_failure(exc: BaseException, secrets: Iterable[str | None] = ()) -> str:
    """``Type: first line of the message``, redacted: how a provider failure is quoted."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return redact(f"{type(exc).__name__}: {line}" if line else type(exc).__name__, secrets)


def provider_error(
    what: str,
    exc: BaseException,
    *,
    source: str,
    symbol: str | None = None,
    hint: str | None = None,
    secrets: Iterable[str | None] = (),
) -> DataError:
    """The flowbt error for a provider failure: ``what: <redacted reason>``.

    The boundary where a provider library's exception becomes a flowbt error. Raise the
    result *outside* the ``except`` block (or ``from None``) so the original exception,
    whose text may hold a key, is neither the cause nor the context of the DataError.
    """
    return DataError(
        f"{what}: {describe_failure(exc, secrets)}",
        file=source,
        symbol=symbol,
        hint=redact(hint, secrets) if hint else None,
    )


class Fetcher(Protocol):
    """What `data.cache.update` calls to get new bars (tests pass fakes of this shape)."""

    def __call__(
        self,
        symbol: str,
        *,
        interval: str,
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
    ) -> pd.DataFrame: ...


def check_interval(interval: str, *, source: str, allowed: tuple[str, ...] | None = None) -> str:
    """Return ``interval`` if ``source`` serves it, else raise a one-line `RequestError`.

    ``allowed`` defaults to the source's `SOURCE_INTERVALS` (all of `INTERVALS` for a
    source flowbt does not list). The check is an exact match against a fixed list, so an
    interval can never be a path (``../x``) when it names a cache folder.
    """
    valid = allowed if allowed is not None else SOURCE_INTERVALS.get(source, INTERVALS)
    if not isinstance(interval, str) or interval not in valid:
        raise RequestError(
            f"unknown interval {interval!r} for source {source}" + _INTERVAL_NOTE.get(source, ""),
            file=source,
            hint=f"use --interval with one of {', '.join(valid)}",
        )
    return interval


def check_exchange_id(exchange_id: str) -> str:
    """A ccxt exchange id is lower-case letters, digits and ``_`` (it names a cache folder)."""
    if not isinstance(exchange_id, str) or not _EXCHANGE_ID.match(exchange_id):
        raise RequestError(
            f"invalid ccxt exchange id {exchange_id!r}",
            file="ccxt",
            hint="use a lower-case id such as binance, kraken, coinbase or bybit; "
            "python -c 'import ccxt; print(ccxt.exchanges)' lists them all",
        )
    return exchange_id


def interval_duration(interval: str) -> pd.Timedelta:
    """Length of one bar of ``interval`` (a week for ``1w``)."""
    return _DURATION[check_interval(interval, source="flowbt")]


def as_utc(when: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """A date/time as a UTC timestamp (naive = UTC); ``None`` stays ``None``."""
    if when is None:
        return None
    ts = pd.Timestamp(when)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


__all__ = [
    "CACHE_ENV_VAR",
    "INTERVALS",
    "ONLINE_SOURCES",
    "REDACTED",
    "SOURCE_INTERVALS",
    "Fetcher",
    "RequestError",
    "as_utc",
    "check_exchange_id",
    "check_interval",
    "default_cache_dir",
    "describe_failure",
    "interval_duration",
    "provider_error",
    "redact",
]
