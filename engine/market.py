"""From `data.MarketData` to a backtest: bars on real calendars plus point-in-time signals.

Bars: each symbol keeps its own exchange calendar (NYSE, Korea, 24/7 crypto). One
calendar gives one row per session (the session date, 00:00 UTC); several are
merged on their real close instants (``MarketData.align(at="close")``), so a Seoul
close sorts before the New York close of the same date and a crypto UTC day after
both. Orders wait for the asset's next open session; positions in a closed market
are valued at its last close.

Prices: ``adjust=True`` (default) back-adjusts a ``raw+tr`` file's OHLC by its
total-return factor ``adj_close / close``, so dividends count as return (what
yfinance's ``auto_adjust`` and most backtesters do); ``adjusted`` files are used as
they are; ``raw`` files (e.g. Korean stocks, no total-return column) are used
as traded and the run's manifest says so.

Currency (``currency="USD"``, default: a USD portfolio): a symbol whose provenance
names another quote currency (the bundle's ``005930.KS`` / SAMSUNG and ``000660.KS`` /
SKHYNIX are in KRW) has its OHLC divided by the rate in `FX_RATES` (KRW: FRED
``DEXKOUS``, KRW per USD, the New York noon buying rate) known at that bar's close
(``data.calendars.session_close`` of its calendar, ``known_at`` from
``data.publication``). For a Seoul bar that is the previous New York business day's
noon rate, never a later one: the KRX open (09:00 KST, 00:00 UTC) and close (15:30
KST, 06:30 UTC) both fall before New York noon of the same date (16:00 UTC in summer,
17:00 in winter) and after the previous day's, so the rate known at the open is the
one known at the close: one rate per bar is point in time for its open, high, low
and close.
After the rate series ends (DEXKOUS: 2026-03-27) its last value is carried on; the
run warns (`data.errors.StaleRateWarning`) and its manifest says from when
(``manifest["fx"]``). A symbol quoted in a currency without a rate (or without the
rate series in the `MarketData`) is a ``ValueError``; an unknown currency (user files,
online sources) is used as quoted. ``currency=None`` trades every symbol as quoted.

Data that ends: a symbol whose data stops before the run's last bar (a later session
of its calendar closes by then without a bar; in the bundle BTC, ETH and the ETFs end
2026-06-05) is closed at its last bar and never traded again: its weight is set to 0
from its second-to-last bar (next-open fills: sold at its last bar's open) or from its
last bar (close fills: sold at that close). ``manifest["data_end"]`` names them.

Signals (point in time): a strategy names registered signals in
``signal_requests()``. Each is computed once on the whole `MarketData`, its rows
are re-stamped at the instant they became known (a ``known_at`` column if the
signal has one, else the close of its calendar's session, else the timestamp
itself when it carries a time of day) and every bar receives the latest row known
by that bar's close. A signal row known after a bar's close never reaches it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from data.calendars import session_close, session_open
from data.errors import StaleRateWarning
from data.market import MarketData
from data.publication import known_at, lag_for
from engine.api import check_mode, run
from engine.bars import OHLC, Bars, bars_from_frames
from engine.config import BacktestConfig
from engine.plan import strategy_weights
from engine.result import Result
from signals.registry import get_signal
from strategies.base import SignalRequest, Strategy


def _adjusted(frame: pd.DataFrame, basis: str, adjust: bool) -> pd.DataFrame:
    if not adjust or basis != "raw+tr" or "adj_close" not in frame.columns:
        return frame[list(OHLC)]
    factor = frame["adj_close"] / frame["close"]
    if factor.isna().any() or not np.isfinite(factor.to_numpy()).all():
        factor = factor.ffill().bfill()
    return frame[list(OHLC)].mul(factor, axis=0)


def bar_instants(index: pd.DatetimeIndex, calendars: Mapping[str, str]) -> pd.DatetimeIndex:
    """UTC instant of each bar's close: the index itself when bars carry close instants."""
    cals = set(calendars.values())
    if len(cals) == 1:
        return session_close(index, next(iter(cals)))
    return index


FX_RATES: dict[str, str] = {"KRW": "DEXKOUS"}
"""Quote currency -> macro series of its units per USD (a daily rate, see data.publication)."""
PORTFOLIO_CURRENCIES = ("USD",)


@dataclass(frozen=True)
class FxConversion:
    """What `bars_from_market` did to currencies.

    ``currency``: the run's currency (None = every symbol as quoted); ``converted``:
    symbol -> its quote currency, for the symbols converted; ``rates``: symbol -> the
    rate series used; ``stale_from``: the last observation date of a rate series that
    some converted bar outlived (its last value was carried on from there), else None.
    """

    currency: str | None
    converted: dict[str, str] = field(default_factory=dict)
    rates: dict[str, str] = field(default_factory=dict)
    stale_from: str | None = None

    def manifest(self) -> dict[str, Any]:
        series = sorted(set(self.rates.values()))
        return {
            "currency": self.currency,
            "converted": list(self.converted),
            "rate": series[0] if len(series) == 1 else (series or None),
            "stale_from": self.stale_from,
        }


def check_currency(currency: str | None) -> str | None:
    """The run's currency: ``"USD"`` or None (as quoted); ``ValueError`` otherwise."""
    if currency is None:
        return None
    if str(currency).upper() not in PORTFOLIO_CURRENCIES:
        raise ValueError(
            f"currency must be one of {', '.join(PORTFOLIO_CURRENCIES)} or None (as quoted),"
            f" got {currency!r}"
        )
    return str(currency).upper()


def fx_rate(
    md: MarketData, quote: str, index: pd.DatetimeIndex, calendar: str, *, symbol: str
) -> tuple[pd.Series, str | None]:
    """Units of ``quote`` per USD known at the close of each bar of ``index`` (session
    dates of ``calendar``), and the rate's last observation date when some bar closes
    after the next observation would have been published (stale), else None.

    Raises ``ValueError`` when there is no rate for ``quote``, the `MarketData` lacks
    the rate series, or a bar closes before any rate was known.
    """
    series = FX_RATES.get(quote)
    if series is None:
        raise ValueError(
            f"{symbol} is quoted in {quote} and there is no {quote}/USD rate to convert it"
            f" (rates known for {', '.join(FX_RATES)}); pass currency=None to trade as quoted"
        )
    if series not in md.macro:
        raise ValueError(
            f"{symbol} is quoted in {quote}: converting it to USD needs the macro series"
            f" {series}; load it (data.load(..., macro=[..., {series!r}])) or pass currency=None"
        )
    frame = md.macro[series]
    if len(frame):
        rate = md.series_on(series, index, calendar)
    else:
        rate = pd.Series(np.nan, index=index, name=series)
    missing = rate.isna().to_numpy()
    if missing.any():
        since = f"its first value is dated {frame.index[0].date()}" if len(frame) else "it is empty"
        raise ValueError(
            f"no {series} rate ({quote} per USD) was known at the close of {symbol}'s bar of"
            f" {index[missing][0].date()} ({since}); start later or pass currency=None"
        )
    last = pd.DatetimeIndex(frame.index[-1:])
    lag = lag_for(series)
    # when the observation after the last one would have been known (next business day)
    due = known_at(last, lag.model_copy(update={"business_days": lag.business_days + 1}))[0]
    stale = bool((session_close(index, calendar) > due).any())
    return rate, (str(last[0].date()) if stale else None)


def _convert(
    md: MarketData,
    frames: Mapping[str, pd.DataFrame],
    calendars: Mapping[str, str],
    currency: str | None,
) -> tuple[dict[str, pd.DataFrame], FxConversion]:
    out = dict(frames)
    if currency is None:
        return out, FxConversion(None)
    converted: dict[str, str] = {}
    rates: dict[str, str] = {}
    stale: list[str] = []
    for s, frame in frames.items():
        quote = md.provenance(s).currency
        if quote is None or quote.upper() == currency:
            continue  # unknown (user files, online sources): used as quoted
        rate, stale_from = fx_rate(md, quote.upper(), frame.index, calendars[s], symbol=s)
        out[s] = frame.div(rate.to_numpy(), axis=0)
        converted[s] = quote.upper()
        rates[s] = FX_RATES[quote.upper()]
        if stale_from is not None:
            stale.append(stale_from)
    fx = FxConversion(currency, converted, rates, min(stale) if stale else None)
    if fx.stale_from is not None:
        names = ", ".join(s for s in converted)
        warnings.warn(
            f"FX rate {', '.join(sorted(set(rates.values())))} ends {fx.stale_from}: {names}"
            f" converted to {currency} at its last rate after that (stale FX from"
            f" {fx.stale_from})",
            StaleRateWarning,
            stacklevel=4,
        )
    return out, fx


def bars_from_market(
    md: MarketData,
    symbols: Sequence[str],
    *,
    start: str | None = None,
    end: str | None = None,
    adjust: bool = True,
    currency: str | None = "USD",
) -> tuple[Bars, dict[str, str]]:
    """The engine's `Bars` for ``symbols`` (and each symbol's calendar).

    ``start``/``end`` are session dates (inclusive). ``currency="USD"`` (default)
    converts symbols quoted in another currency at the point-in-time rate (see the
    module docstring); ``None`` keeps every symbol as quoted. Raises ``ValueError`` for
    an unknown symbol, an empty window or a currency without a rate.
    """
    bars, calendars, _ = market_bars(
        md, symbols, start=start, end=end, adjust=adjust, currency=currency
    )
    return bars, calendars


def market_bars(
    md: MarketData,
    symbols: Sequence[str],
    *,
    start: str | None = None,
    end: str | None = None,
    adjust: bool = True,
    currency: str | None = "USD",
) -> tuple[Bars, dict[str, str], FxConversion]:
    """`bars_from_market` and what it did to currencies (`FxConversion`)."""
    if not symbols:
        raise ValueError("no symbols to trade; name at least one (e.g. --symbols SPY)")
    target = check_currency(currency)
    window = md.between(start, end)
    calendars = {s: window.calendar(s) for s in symbols}
    frames = {s: _adjusted(window.price(s), window.basis(s), adjust) for s in symbols}
    empty = [s for s, f in frames.items() if f.empty]
    if empty:
        raise ValueError(
            f"no bars for {', '.join(empty)} between {start or 'start'} and {end or 'end'}"
        )
    # rates from the whole md: the one known at the window's first bar predates it
    frames, fx = _convert(md, frames, calendars, target)
    if len(set(calendars.values())) == 1:
        return bars_from_frames(frames), calendars, fx
    closes = {s: session_close(f.index, calendars[s]) for s, f in frames.items()}
    bars = bars_from_frames({s: f.set_axis(closes[s]) for s, f in frames.items()})
    opens = np.full((bars.n_bars, bars.n_assets), np.iinfo(np.int64).min, dtype=np.int64)
    for k, s in enumerate(bars.symbols):
        rows = bars.index.get_indexer(closes[s])
        opens[rows, k] = session_open(frames[s].index, calendars[s]).as_unit("ns").asi8
    return replace(bars, opens=opens), calendars, fx


def data_ends(md: MarketData, bars: Bars, calendars: Mapping[str, str]) -> dict[str, pd.Timestamp]:
    """Symbols of ``bars`` whose data in ``md`` ends before the run's last bar, with their
    last session date: a later session of the symbol's calendar closes by the last bar
    (so a holiday or a calendar that closes later the same day is not an end)."""
    run_end = bar_instants(bars.index, calendars)[-1]
    out: dict[str, pd.Timestamp] = {}
    for s in bars.symbols:
        last = md.price(s).index[-1]
        cal = calendars[s]
        if session_close(pd.DatetimeIndex([last]), cal)[0] >= run_end:
            continue
        later = _sessions_after(cal, last, run_end)
        if bool((session_close(later, cal) <= run_end).any()):
            out[s] = last
    return out


@lru_cache(maxsize=64)
def _sessions_after(calendar: str, last: pd.Timestamp, until: pd.Timestamp) -> pd.DatetimeIndex:
    """Sessions of ``calendar`` (00:00 UTC dates) after ``last`` up to ``until``'s date."""
    lo, hi = last + pd.Timedelta(days=1), until.normalize()
    if lo > hi:
        return pd.DatetimeIndex([], tz="UTC")
    if calendar == "24/7":
        return pd.date_range(lo, hi, freq="D")
    import exchange_calendars as xcals

    # a margin either side: exchange_calendars needs start < end and session bounds
    cal = xcals.get_calendar(
        calendar,
        start=(lo - pd.Timedelta(days=10)).tz_localize(None),
        end=(hi + pd.Timedelta(days=10)).tz_localize(None),
    )
    sessions = pd.DatetimeIndex(cal.sessions)
    sessions = sessions.tz_localize("UTC") if sessions.tz is None else sessions
    return sessions[(sessions >= lo) & (sessions <= hi)]


def close_ended(
    weights: np.ndarray, bars: Bars, ended: Sequence[str], fill: str = "next_open"
) -> np.ndarray:
    """``weights`` (bars x assets, or sets x bars x assets) with each ``ended`` symbol at 0
    from its second-to-last bar (``next_open``: sold at its last bar's open) or its last
    bar (``close``) on."""
    w = np.array(weights, dtype=np.float64, copy=True)
    back = 2 if fill == "next_open" else 1
    for s in ended:
        k = bars.symbols.index(s)
        rows = np.flatnonzero(bars.tradable[:, k])
        w[..., (rows[-back] if len(rows) >= back else 0) :, k] = 0.0
    return w


def known_instants(frame: pd.DataFrame | pd.Series, calendar: str) -> pd.DatetimeIndex:
    """When each row of a signal became known (see the module docstring)."""
    if isinstance(frame, pd.DataFrame) and "known_at" in frame.columns:
        return pd.DatetimeIndex(frame["known_at"])
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError("a signal fed to a strategy needs a DatetimeIndex or a known_at column")
    if index.tz is None:
        index = index.tz_localize("UTC")
    if (index == index.normalize()).all():
        return session_close(index, calendar)
    return index


def signal_on_bars(
    frame: pd.DataFrame | pd.Series, calendar: str, instants: pd.DatetimeIndex
) -> pd.DataFrame:
    """The latest row of ``frame`` known at each instant (NaN before the first one)."""
    values = frame.to_frame() if isinstance(frame, pd.Series) else frame
    known = known_instants(values, calendar).as_unit("ns")
    instants = pd.DatetimeIndex(instants).as_unit("ns")
    order = np.argsort(known.asi8, kind="stable")
    known_sorted = known.asi8[order]
    pos = np.searchsorted(known_sorted, instants.asi8, side="right") - 1
    rows = values.iloc[order[pos.clip(0)]].reset_index(drop=True)
    if (pos < 0).any():
        rows = rows.mask(np.repeat((pos < 0)[:, None], rows.shape[1], axis=1))
    return rows.set_axis(instants)


SignalCache = dict[tuple[int, str, str], pd.DataFrame | pd.Series]


def signals_for(
    strategy: Strategy,
    md: MarketData,
    bars: Bars,
    calendars: Mapping[str, str],
    cache: SignalCache | None = None,
) -> dict[str, pd.DataFrame]:
    """Every signal the strategy requests, computed on ``md`` and aligned to ``bars``.

    With a ``cache``, a signal already computed on this ``md`` with the same parameters
    is reused (keyed by the MarketData's identity, the name and the parameters)."""
    instants = bar_instants(bars.index, calendars)
    out: dict[str, pd.DataFrame] = {}
    for key, request in strategy.signal_requests().items():
        if not isinstance(request, SignalRequest):
            raise TypeError(f"{strategy.name}.signal_requests()[{key!r}] must be a SignalRequest")
        params = dict(request.params)
        ident = (id(md), request.signal, repr(sorted(params.items())))
        if cache is not None and ident in cache:
            values = cache[ident]
        else:
            values = get_signal(request.signal)(md, **params)
            if cache is not None:
                cache[ident] = values
        aligned = signal_on_bars(values, request.calendar, instants)
        out[key] = aligned.set_axis(bars.index)
    return out


@dataclass(frozen=True)
class PreparedMarket:
    """The inputs of a market run before any weights: ``bars`` (warm-up trimmed, signals
    attached), each symbol's calendar, what was done to currencies, the symbols whose
    data ends early (``data_ends``) and the bar of the untrimmed window the run starts
    at (``first``: the warm-up's end, 0 when a start is given)."""

    bars: Bars
    calendars: dict[str, str]
    fx: FxConversion
    ended: dict[str, pd.Timestamp]
    names: list[str]
    first: int


def prepare_market(
    strategy: Strategy,
    md: MarketData,
    *,
    symbols: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    adjust: bool = True,
    currency: str | None = "USD",
    signal_cache: SignalCache | None = None,
    first: int | None = None,
) -> PreparedMarket:
    """Bars, signals and warm-up of a `run_market` (see there); ``first`` overrides the
    warm-up's end (a sweep starts every trial at the latest warm-up of its trials).
    Raises ``ValueError`` when a requested signal is never fully defined."""
    names = list(symbols or strategy.symbols or [])
    if not names:
        raise ValueError(f"strategy {strategy.name!r} names no symbols; pass symbols=[...]")
    if symbols is not None:
        strategy.symbols = names
    bars, calendars, fx = market_bars(
        md, names, start=start, end=end, adjust=adjust, currency=currency
    )
    signals = signals_for(strategy, md, bars, calendars, cache=signal_cache)
    bars = replace(bars, signals=signals)
    if first is None:
        first = strategy_warmup(strategy, bars, signals) if start is None else 0
    if first > 0:
        bars = bars.rows(first)
    ended = data_ends(md, bars, calendars)
    return PreparedMarket(bars, calendars, fx, ended, names, int(first))


def market_weights(
    strategy: Strategy, prepared: PreparedMarket, config: BacktestConfig | None = None
) -> np.ndarray:
    """The strategy's weights on the prepared bars, ended symbols closed (`close_ended`)."""
    weights = strategy_weights(strategy, prepared.bars)
    if not prepared.ended:
        return weights
    fill = (config or BacktestConfig()).fill
    return close_ended(weights, prepared.bars, list(prepared.ended), fill)


def run_market(
    strategy: Strategy,
    md: MarketData,
    config: BacktestConfig | None = None,
    *,
    mode: str = "event",
    symbols: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    adjust: bool = True,
    currency: str | None = "USD",
    signal_cache: SignalCache | None = None,
) -> Result:
    """Backtest ``strategy`` on its symbols (or ``symbols``) from ``md``, signals included.

    Signals are computed on the full ``md`` (they are point in time by contract, see
    signals/) and aligned by known instant, so ``start`` only trims the traded window.
    Without ``start`` the run begins at the first bar where every requested signal
    has all its numeric columns defined and every symbol has had a bar (the warm-up
    is not traded, so years of cash while a z-score fills or an asset is not yet
    listed do not dilute the statistics).

    ``currency="USD"`` (default) values the portfolio in USD, converting KRW-quoted
    symbols at the point-in-time DEXKOUS rate; ``None`` trades every symbol as quoted
    (``manifest["fx"]``). ``signal_cache`` (a dict) shares computed signals between runs
    on the same ``md``: each (signal, parameters) is computed once. A symbol whose data
    ends before the run's last bar is closed at its last bar (``manifest["data_end"]``);
    see the module docstring.
    """
    check_mode(mode)
    prepared = prepare_market(
        strategy,
        md,
        symbols=symbols,
        start=start,
        end=end,
        adjust=adjust,
        currency=currency,
        signal_cache=signal_cache,
    )
    weights = market_weights(strategy, prepared, config) if prepared.ended else None
    result = run(
        strategy,
        prepared.bars,
        config,
        mode,
        weights=weights,
        params_for_manifest=strategy.params.model_dump(),
    )
    result.manifest["data"].update(
        _provenance(md, prepared.names, prepared.calendars, adjust, prepared.fx)
    )
    result.manifest["signals"] = {
        k: {"signal": r.signal, "params": dict(r.params), "calendar": r.calendar}
        for k, r in strategy.signal_requests().items()
    }
    result.manifest["fx"] = prepared.fx.manifest()
    result.manifest["data_end"] = {s: str(t.date()) for s, t in prepared.ended.items()}
    return result


def strategy_warmup(strategy: Strategy, bars: Bars, signals: Mapping[str, pd.DataFrame]) -> int:
    """The first bar ``strategy`` can trade from on ``bars``: every signal it requires
    fully defined and every symbol it requires has had a bar (`warmup_end`; 0 when a
    signal is never fully defined). ``signals`` are aligned to ``bars`` (`signals_for`).
    Shared by `run_market` and the sweeps, which start every trial at the latest
    warm-up of their signal request sets."""
    required = [bars.symbols.index(s) for s in strategy.required_symbols() if s in bars.symbols]
    needed = {k: signals[k] for k in strategy.required_signals() if k in signals}
    warm = warmup_end(needed, bars, required)
    return 0 if warm is None else warm


def warmup_end(
    signals: Mapping[str, pd.DataFrame], bars: Bars, required: Sequence[int] | None = None
) -> int | None:
    """First bar position where every signal's numeric columns are all defined and every
    ``required`` asset column (default: all) has had a bar (None when some signal is
    never fully defined)."""
    cols = range(bars.n_assets) if required is None else required
    firsts = [int(np.argmax(bars.tradable[:, k])) for k in cols]
    for frame in signals.values():
        numeric = frame.select_dtypes("number")
        if numeric.shape[1] == 0:
            continue
        ok = numeric.notna().all(axis=1).to_numpy()
        if not ok.any():
            return None
        firsts.append(int(np.argmax(ok)))
    return max(firsts) if firsts else None


def _provenance(
    md: MarketData,
    names: Sequence[str],
    calendars: Mapping[str, str],
    adjust: bool,
    fx: FxConversion | None = None,
) -> dict[str, Any]:
    out = {}
    for s in names:
        info = md.provenance(s)
        basis = md.basis(s)
        prices = "total return (back-adjusted)" if adjust and basis == "raw+tr" else "as stored"
        entry = {
            "source": info.source,
            "origin": info.origin,
            "basis": basis,
            "prices": prices,
            "calendar": calendars[s],
            "currency": info.currency,
            "quote_currency": info.currency,
        }
        if fx is not None and s in fx.converted:
            entry["prices"] = (
                f"{prices}, converted {fx.converted[s]} -> {fx.currency} at {fx.rates[s]}"
                " (the rate known at each bar's close)"
            )
            entry["currency"] = fx.currency
            entry["fx_rate"] = fx.rates[s]
        out[s] = entry
    return {"symbols_info": out}
