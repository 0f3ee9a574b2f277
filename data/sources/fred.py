"""FRED macro series (e.g. WALCL, RRPONTSYD, DGS10) as a one-column ``value`` frame.

Without a key the series comes from FRED's public CSV download
(``fredgraph.csv?id=SERIES``); with an API key and the optional ``fredapi`` package
installed, from the FRED API. Units are the series' own (WALCL: millions of USD).
Observations are stamped 00:00 UTC of their observation date; FRED's missing values
(``.``) are dropped. Point in time: the observation date is *not* when the value became
known (WALCL's Wednesday level is published Thursday 16:30 ET): apply `data.publication`.
These are today's vintages; FRED revisions of old values are not tracked.
"""

from __future__ import annotations

import io
import os
from typing import Any, cast

import numpy as np
import pandas as pd

from data.errors import DataError
from data.sources import as_utc, check_interval, provider_error

CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
_DATE_HEADERS = ("observation_date", "DATE", "date")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"value": pd.Series(dtype="float64")}, index=pd.DatetimeIndex([], tz="UTC", name="date")
    )


def parse_fred_csv(text: str, *, series: str) -> pd.DataFrame:
    """FRED's CSV (``observation_date,SERIES`` or legacy ``DATE,SERIES``) -> ``value`` frame."""
    source = "fred"
    body = text.lstrip("\ufeff").strip()
    if not body:
        raise DataError("FRED sent an empty answer", file=source, symbol=series)
    head = body[:200].lower()
    if head.startswith("<") or "<html" in head or "<!doctype" in head:
        raise DataError(
            "FRED sent an HTML page instead of CSV",
            file=source,
            symbol=series,
            hint="check the series id on fred.stlouisfed.org (an unknown id gets an error page)",
        )
    try:
        raw = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"FRED CSV unreadable: {exc}", file=source, symbol=series) from None
    date_col = next((c for c in raw.columns if c.strip() in _DATE_HEADERS), None)
    if date_col is None or len(raw.columns) < 2:
        raise DataError(
            f"FRED CSV has no date column (header {', '.join(map(str, raw.columns))})",
            file=source,
            symbol=series,
            hint="expected observation_date,SERIES or DATE,SERIES",
        )
    value_col = next((c for c in raw.columns if c.strip().upper() == series.upper()), None)
    value_col = value_col or next(c for c in raw.columns if c != date_col)
    if raw.empty:
        return _empty()
    dates = pd.to_datetime(raw[date_col].str.strip(), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        pos = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(
            f"unparseable date {raw[date_col].iloc[pos]!r}", file=source, symbol=series, row=pos + 2
        )
    text_values = raw[value_col].str.strip()
    values = pd.to_numeric(text_values.where(text_values != "."), errors="coerce")
    junk = values.isna() & (text_values != ".") & (text_values != "")
    if junk.any():
        pos = int(np.flatnonzero(junk.to_numpy())[0])
        raise DataError(
            f"unparseable value {text_values.iloc[pos]!r}", file=source, symbol=series, row=pos + 2
        )
    index = pd.DatetimeIndex(dates, name="date").tz_localize("UTC").as_unit("ns")
    frame = pd.DataFrame({"value": values.to_numpy(dtype="float64")}, index=index)
    frame = frame.loc[frame["value"].notna()]
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame


def _get_csv(series: str, start: pd.Timestamp | None, session: Any, timeout: float) -> str:
    import requests

    params = {"id": series}
    if start is not None:
        params["cosd"] = start.strftime("%Y-%m-%d")
    http = session or requests.Session()
    failure: DataError | None = None
    try:
        response = http.get(CSV_URL, params=params, timeout=timeout)
    except requests.RequestException as exc:
        failure = provider_error(
            "FRED request failed",
            exc,
            source="fred",
            symbol=series,
            hint="check the network connection; the cached copy is used when there is one",
        )
    if failure is not None:  # raised here, outside ``except``: no chained original
        raise failure
    if response.status_code == 404:
        raise DataError(
            "FRED does not know this series (HTTP 404)",
            file="fred",
            symbol=series,
            hint="check the id on fred.stlouisfed.org",
        )
    if response.status_code >= 400:
        raise DataError(f"FRED answered HTTP {response.status_code}", file="fred", symbol=series)
    return response.text


def _get_api(series: str, start: pd.Timestamp | None, api_key: str) -> pd.DataFrame:
    from fredapi import Fred

    failure: DataError | None = None
    try:
        values = Fred(api_key=api_key).get_series(
            series, observation_start=start.strftime("%Y-%m-%d") if start is not None else None
        )
    except Exception as exc:  # fredapi raises bare ValueError/URLError/InvalidURL
        # fredapi's messages quote its request URL, ``...&api_key=<key>``: redact the key.
        failure = provider_error(
            "FRED API request failed",
            exc,
            source="fred",
            symbol=series,
            hint="check the series id on fred.stlouisfed.org and the network connection",
            secrets=(api_key,),
        )
    if failure is not None:  # raised here, outside ``except``: the original (with the
        raise failure  # key in its text and frames) is neither cause nor context
    index = pd.DatetimeIndex(values.index, name="date").tz_localize("UTC").as_unit("ns")
    frame = pd.DataFrame({"value": values.to_numpy(dtype="float64")}, index=index)
    return frame.loc[frame["value"].notna()]


def fetch_fred(
    symbol: str,
    *,
    interval: str = "1d",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    api_key: str | None = None,
    session: Any = None,
    timeout: float = 30,
) -> pd.DataFrame:
    """Fetch FRED series ``symbol`` from ``start`` (inclusive) to ``end`` (exclusive).

    ``interval`` must be ``1d`` (a series has its own frequency). ``api_key`` (or
    ``$FRED_API_KEY``) uses fredapi when installed, else the keyless CSV. ``session`` is a
    ``requests.Session`` (the transport; tests pass one serving a recorded CSV).
    """
    check_interval(interval, source="fred")
    series = symbol.strip().upper()
    start_ts, end_ts = as_utc(start), as_utc(end)
    key = api_key or os.environ.get("FRED_API_KEY")
    use_api = False
    if key:
        try:
            import fredapi  # noqa: F401

            use_api = True
        except ImportError:
            use_api = False
    if use_api:
        frame = _get_api(series, start_ts, cast(str, key))  # use_api implies a key
    else:
        frame = parse_fred_csv(_get_csv(series, start_ts, session, timeout), series=series)
    if start_ts is not None:
        frame = frame.loc[frame.index >= start_ts]
    if end_ts is not None:
        frame = frame.loc[frame.index < end_ts]
    return frame


__all__ = ["CSV_URL", "fetch_fred", "parse_fred_csv"]
