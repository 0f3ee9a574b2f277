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
as traded and the run's manifest says so. No FX conversion: every asset is in its
own quote currency.

Signals (point in time): a strategy names registered signals in
``signal_requests()``. Each is computed once on the whole `MarketData`, its rows
are re-stamped at the instant they became known (a ``known_at`` column if the
signal has one, else the close of its calendar's session, else the timestamp
itself when it carries a time of day) and every bar receives the latest row known
by that bar's close. A signal row known after a bar's close never reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from data.calendars import session_close, session_open
from data.market import MarketData
from engine.api import check_mode, run
from engine.bars import OHLC, Bars, bars_from_frames
from engine.config import BacktestConfig
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


def bars_from_market(
    md: MarketData,
    symbols: Sequence[str],
    *,
    start: str | None = None,
    end: str | None = None,
    adjust: bool = True,
) -> tuple[Bars, dict[str, str]]:
    """The engine's `Bars` for ``symbols`` (and each symbol's calendar).

    ``start``/``end`` are session dates (inclusive). Raises ``ValueError`` for an
    unknown symbol or an empty window.
    """
    if not symbols:
        raise ValueError("no symbols to trade; name at least one (e.g. --symbols SPY)")
    window = md.between(start, end)
    calendars = {s: window.calendar(s) for s in symbols}
    frames = {s: _adjusted(window.price(s), window.basis(s), adjust) for s in symbols}
    empty = [s for s, f in frames.items() if f.empty]
    if empty:
        raise ValueError(
            f"no bars for {', '.join(empty)} between {start or 'start'} and {end or 'end'}"
        )
    if len(set(calendars.values())) == 1:
        return bars_from_frames(frames), calendars
    closes = {s: session_close(f.index, calendars[s]) for s, f in frames.items()}
    bars = bars_from_frames({s: f.set_axis(closes[s]) for s, f in frames.items()})
    opens = np.full((bars.n_bars, bars.n_assets), np.iinfo(np.int64).min, dtype=np.int64)
    for k, s in enumerate(bars.symbols):
        rows = bars.index.get_indexer(closes[s])
        opens[rows, k] = session_open(frames[s].index, calendars[s]).as_unit("ns").asi8
    return replace(bars, opens=opens), calendars


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


def signals_for(
    strategy: Strategy, md: MarketData, bars: Bars, calendars: Mapping[str, str]
) -> dict[str, pd.DataFrame]:
    """Every signal the strategy requests, computed on ``md`` and aligned to ``bars``."""
    instants = bar_instants(bars.index, calendars)
    out: dict[str, pd.DataFrame] = {}
    for key, request in strategy.signal_requests().items():
        if not isinstance(request, SignalRequest):
            raise TypeError(f"{strategy.name}.signal_requests()[{key!r}] must be a SignalRequest")
        values = get_signal(request.signal)(md, **dict(request.params))
        aligned = signal_on_bars(values, request.calendar, instants)
        out[key] = aligned.set_axis(bars.index)
    return out


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
) -> Result:
    """Backtest ``strategy`` on its symbols (or ``symbols``) from ``md``, signals included.

    Signals are computed on the full ``md`` (they are point in time by contract, see
    signals/) and aligned by known instant, so ``start`` only trims the traded window.
    Without ``start`` the run begins at the first bar where every requested signal
    has all its numeric columns defined and every symbol has had a bar (the warm-up
    is not traded, so years of cash while a z-score fills or an asset is not yet
    listed do not dilute the statistics).
    """
    check_mode(mode)
    names = list(symbols or strategy.symbols or [])
    if not names:
        raise ValueError(f"strategy {strategy.name!r} names no symbols; pass symbols=[...]")
    if symbols is not None:
        strategy.symbols = names
    bars, calendars = bars_from_market(md, names, start=start, end=end, adjust=adjust)
    signals = signals_for(strategy, md, bars, calendars)
    first = warmup_end(signals, bars) if start is None else None
    if first is not None and first > 0:
        bars = _slice(bars, first)
        signals = {k: v.iloc[first:] for k, v in signals.items()}
    bars = replace(bars, signals=signals)
    result = run(strategy, bars, config, mode, params_for_manifest=strategy.params.model_dump())
    result.manifest["data"].update(_provenance(md, names, calendars, adjust))
    result.manifest["signals"] = {
        k: {"signal": r.signal, "params": dict(r.params), "calendar": r.calendar}
        for k, r in strategy.signal_requests().items()
    }
    return result


def warmup_end(signals: Mapping[str, pd.DataFrame], bars: Bars) -> int | None:
    """First bar position where every signal's numeric columns are all defined and every
    symbol has had a bar (None when some signal is never fully defined)."""
    firsts = [int(np.argmax(bars.tradable[:, k])) for k in range(bars.n_assets)]
    for frame in signals.values():
        numeric = frame.select_dtypes("number")
        if numeric.shape[1] == 0:
            continue
        ok = numeric.notna().all(axis=1).to_numpy()
        if not ok.any():
            return None
        firsts.append(int(np.argmax(ok)))
    return max(firsts) if firsts else None


def _slice(bars: Bars, first: int) -> Bars:
    arrays = {f: getattr(bars, f)[first:] for f in (*OHLC, "tradable")}
    opens = None if bars.opens is None else bars.opens[first:]
    return replace(bars, index=bars.index[first:], opens=opens, **arrays)


def _provenance(
    md: MarketData, names: Sequence[str], calendars: Mapping[str, str], adjust: bool
) -> dict[str, Any]:
    out = {}
    for s in names:
        info = md.provenance(s)
        basis = md.basis(s)
        prices = "total return (back-adjusted)" if adjust and basis == "raw+tr" else "as stored"
        out[s] = {
            "source": info.source,
            "origin": info.origin,
            "basis": basis,
            "prices": prices,
            "calendar": calendars[s],
            "currency": info.currency,
        }
    return {"symbols_info": out}
