"""A backtest's outcome: equity, positions, orders, round-trip trades, stats, manifest.

Equity is marked at each bar's close (last known close for closed markets) in the
quote currency. ``orders`` are every order the run sent, with its status
(``filled``, ``cut`` = filled in part, ``rejected``) and the reason (``cash``,
``fees``); ``fills`` are the ones that traded (size signed: + buy, - sell).
``trades`` are round trips per asset: a trade opens when the position leaves zero
and closes when it returns to zero (a flip closes one and opens the other); a trade
still open at the end is marked at the last close with status "open".

``target_weights`` are the weights the strategy asked for at each bar's close (its
standing targets: a NaN "no decision" keeps the previous one; scaled to
``max_leverage``), ``weights`` what the portfolio held at each bar's close. A
target decided at bar ``t`` is in force from bar ``t + 1`` with next-open fills
(``t`` with close fills); ``off_target`` compares the invested share sum|w| held
with the one in force.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig, resolve_calendar
from engine.enums import OrderOutcome, OrderReason, order_dt
from engine.manifest import build_manifest
from engine.stats import performance
from engine.targets import cap_leverage

if TYPE_CHECKING:
    from strategies.base import Strategy

ORDER_COLUMNS = [
    "date",
    "bar",
    "symbol",
    "size",
    "price",
    "fees",
    "side",
    "order_id",
    "requested",
    "status",
    "reason",
]
OUTCOMES = {int(o): o.name.lower() for o in OrderOutcome}
REASONS = {int(r): ("" if r == OrderReason.NONE else r.name.lower()) for r in OrderReason}
OFF_TARGET_GAP = 0.2  # invested share (sum |w|) held vs in force that counts as off target
TRADE_COLUMNS = [
    "symbol",
    "direction",
    "status",
    "entry_date",
    "exit_date",
    "entry_bar",
    "exit_bar",
    "size",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "return",
]


@dataclass
class Result:
    equity: pd.Series
    cash: pd.Series
    positions: pd.DataFrame
    order_records: np.ndarray  # engine.enums.order_dt records
    close: pd.DataFrame
    init_cash: float
    periods_per_year: int
    calendar: str
    mode: str
    manifest_factory: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)
    decisions: np.ndarray | None = field(default=None, repr=False)  # (n, m), NaN = none
    fill_lag: int = 1  # bars from a decision to the bar it is in force (0: close fills)
    _orders: pd.DataFrame | None = field(default=None, repr=False)
    _trades: pd.DataFrame | None = field(default=None, repr=False)
    _manifest: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def manifest(self) -> dict[str, Any]:
        """Run manifest, built on first access (hashing the input is not free on big data)."""
        if self._manifest is None:
            self._manifest = self.manifest_factory() if self.manifest_factory else {}
        return self._manifest

    def manifest_name(self) -> str:
        """The strategy's name from the manifest ("backtest" when unnamed)."""
        return str(self.manifest.get("strategy", {}).get("strategy", "backtest"))

    def period_equity(self) -> pd.Series:
        """Equity once per period: the bars themselves for one calendar; the last value of
        each UTC day when several calendars are merged on their close instants (so a
        NYSE close and a crypto midnight of one day count once, as ``periods_per_year``
        assumes)."""
        index = pd.DatetimeIndex(self.equity.index)
        days = index.tz_convert("UTC").normalize() if index.tz is not None else index.normalize()
        if not days.has_duplicates and (index == days).all():
            return self.equity
        return self.equity.groupby(days).last().rename("equity")

    @property
    def returns(self) -> pd.Series:
        prev = self.equity.shift(1)
        prev.iloc[0] = self.init_cash
        return self.equity / prev - 1.0

    @property
    def exposure(self) -> pd.Series:
        """Gross exposure: sum of |units * last close| over assets, divided by equity."""
        held = (self.positions * self.close.ffill()).abs().fillna(0.0).sum(axis=1)
        return held / self.equity

    @property
    def target_weights(self) -> pd.DataFrame:
        """The standing target of each asset at each bar's close (0 before the first)."""
        cols = list(self.positions.columns)
        if self.decisions is None:
            return pd.DataFrame(np.nan, index=self.equity.index, columns=cols)
        frame = pd.DataFrame(self.decisions, index=self.equity.index, columns=cols)
        return frame.ffill().fillna(0.0)

    @property
    def weights(self) -> pd.DataFrame:
        """What the portfolio held at each bar's close: units * last close / equity."""
        held = (self.positions * self.close.ffill()).fillna(0.0)
        return held.div(self.equity, axis=0)

    @property
    def off_target(self) -> pd.Series:
        """|invested share held - invested share in force| at each bar's close."""
        in_force = self.target_weights.abs().sum(axis=1).shift(self.fill_lag).fillna(0.0)
        held = self.weights.abs().sum(axis=1)
        return (held - in_force).abs().rename("off_target")

    def off_target_days(self) -> tuple[int, int]:
        """(days, longest run of consecutive days) with the invested share off its target
        by more than ``OFF_TARGET_GAP`` at some bar of the day (UTC days)."""
        if self.decisions is None or not len(self.equity):
            return 0, 0
        gap = self.off_target
        index = pd.DatetimeIndex(gap.index)
        days = index.tz_convert("UTC").normalize() if index.tz is not None else index.normalize()
        daily = gap.groupby(days).max() > OFF_TARGET_GAP
        if not daily.any():
            return 0, 0
        # in ns whatever the index' unit (pandas 3 parses dates to us or s: asi8 of those
        # made every gap look shorter than a day and the longest run span everything)
        stamps = pd.DatetimeIndex(daily.index[daily.to_numpy()]).as_unit("ns")
        breaks = np.diff(stamps.asi8) > 86_400 * 10**9
        runs = np.split(np.arange(len(stamps)), np.flatnonzero(breaks) + 1)
        longest = max((stamps[r[-1]] - stamps[r[0]]).days + 1 for r in runs)
        return int(daily.sum()), int(longest)

    @property
    def orders(self) -> pd.DataFrame:
        """Every order with its status and reason (see `orders_frame`), built on first use."""
        if self._orders is None:
            self._orders = orders_frame(
                self.order_records,
                pd.DatetimeIndex(self.equity.index),
                list(self.positions.columns),
            )
        return self._orders

    @property
    def fills(self) -> pd.DataFrame:
        """The orders that traded (filled in full or cut)."""
        orders = self.orders
        return orders[orders["size"] != 0.0]

    @property
    def trades(self) -> pd.DataFrame:
        if self._trades is None:
            self._trades = round_trips(self.fills, self.close)
        return self._trades

    def stats(self) -> dict[str, Any]:
        """flowbt's headline metrics; annualised on ``periods_per_year`` per period."""
        perf: dict[str, Any] = performance(
            self.period_equity().to_numpy(), self.init_cash, self.periods_per_year
        )
        trades = self.trades
        closed = trades[trades["status"] == "closed"]
        # a period (UTC day) is in the market when a position is held at its end: an
        # asset held over its market's weekend or holiday still counts (its own sessions)
        in_market = (self.positions.abs() > 0).any(axis=1)
        in_market = in_market.groupby(_period_days(in_market.index)).last()
        fills, status = self.fills, self.orders["status"]
        days_off, longest_off = self.off_target_days()
        perf.update(
            {
                "n_trades": int(len(trades)),
                "n_closed_trades": int(len(closed)),
                "n_orders": int(len(fills)),
                "n_orders_cut": int((status == "cut").sum()),
                "n_orders_rejected": int((status == "rejected").sum()),
                "off_target_days": days_off,
                "longest_off_target_days": longest_off,
                "win_rate": float((closed["pnl"] > 0).mean()) if len(closed) else float("nan"),
                "total_fees": float(fills["fees"].sum()) if len(fills) else 0.0,
                "time_in_market": float(in_market.mean()) if len(in_market) else 0.0,
                "periods_per_year": self.periods_per_year,
                "calendar": self.calendar,
                "n_bars": int(len(self.equity)),
                "start": str(self.equity.index[0]) if len(self.equity) else None,
                "end": str(self.equity.index[-1]) if len(self.equity) else None,
            }
        )
        return perf


def _period_days(index: pd.Index) -> pd.DatetimeIndex:
    """The period (UTC day) of each bar, as `Result.period_equity` groups them."""
    idx = pd.DatetimeIndex(index)
    return idx.tz_convert("UTC").normalize() if idx.tz is not None else idx.normalize()


def orders_frame(
    records: np.ndarray, index: pd.DatetimeIndex, symbols: tuple[str, ...] | list[str]
) -> pd.DataFrame:
    """Order records (``engine.enums.order_dt``) -> tidy DataFrame, in the order sent."""
    rec = np.asarray(records, dtype=order_dt)
    bars = rec["bar"]
    requested = rec["requested"]
    side = np.where(requested > 0, "buy", "sell").astype(object)

    def labels(codes: np.ndarray, names: dict[int, str]) -> Any:
        return pd.array(np.asarray([names[int(c)] for c in codes], dtype=object), dtype="str")

    return pd.DataFrame(
        {
            "date": index[bars],
            "bar": bars,
            "symbol": pd.array(np.asarray(symbols, dtype=object)[rec["col"]], dtype="str"),
            "size": rec["size"],
            "price": rec["price"],
            "fees": rec["fees"],
            "side": pd.array(side, dtype="str"),
            "order_id": rec["order_id"],
            "requested": requested,
            "status": labels(rec["outcome"], OUTCOMES),
            "reason": labels(rec["reason"], REASONS),
        },
        columns=ORDER_COLUMNS,
    )


def round_trips(orders: pd.DataFrame, close: pd.DataFrame) -> pd.DataFrame:
    """Round-trip trades from fills (see module docstring); pnl is net of both sides' fees."""
    rows: list[dict[str, Any]] = []
    if len(orders) == 0:
        return pd.DataFrame(columns=TRADE_COLUMNS)
    last_close = close.ffill().iloc[-1]
    for sym, fills in orders.groupby("symbol", sort=False):
        pos = 0.0
        cur: dict[str, Any] | None = None
        for f in fills.itertuples(index=False):
            remaining = float(f.size)
            fee_per_unit = float(f.fees) / abs(remaining)
            while remaining != 0.0:
                if cur is None:
                    cur = {
                        "symbol": sym,
                        "direction": "long" if remaining > 0 else "short",
                        "entry_date": f.date,
                        "entry_bar": int(f.bar),
                        "size": 0.0,
                        "cost": 0.0,
                        "exit_units": 0.0,
                        "proceeds": 0.0,
                        "fees": 0.0,
                    }
                sign = 1.0 if cur["direction"] == "long" else -1.0
                if remaining * sign > 0:  # adds to the trade
                    cur["size"] += abs(remaining)
                    cur["cost"] += abs(remaining) * f.price
                    cur["fees"] += abs(remaining) * fee_per_unit
                    pos += remaining
                    remaining = 0.0
                    continue
                # reduces it: close up to the open position, the rest flips
                qty = min(abs(remaining), abs(pos))
                cur["exit_units"] += qty
                cur["proceeds"] += qty * f.price
                cur["fees"] += qty * fee_per_unit
                pos += -sign * qty
                remaining += sign * qty
                if abs(pos) <= 1e-12 * max(cur["size"], 1.0):
                    pos = 0.0
                    rows.append(_close_trade(cur, f.date, int(f.bar), "closed"))
                    cur = None
        if cur is not None and pos != 0.0:
            # mark the open remainder at the last close
            cur["proceeds"] += abs(pos) * float(last_close[sym])
            cur["exit_units"] += abs(pos)
            rows.append(_close_trade(cur, close.index[-1], len(close) - 1, "open"))
    return pd.DataFrame(rows, columns=TRADE_COLUMNS)


def _close_trade(cur: dict[str, Any], date: Any, bar: int, status: str) -> dict[str, Any]:
    entry = cur["cost"] / cur["size"]
    exit_ = cur["proceeds"] / cur["exit_units"]
    sign = 1.0 if cur["direction"] == "long" else -1.0
    pnl = sign * (exit_ - entry) * cur["size"] - cur["fees"]
    return {
        "symbol": cur["symbol"],
        "direction": cur["direction"],
        "status": status,
        "entry_date": cur["entry_date"],
        "exit_date": date,
        "entry_bar": cur["entry_bar"],
        "exit_bar": bar,
        "size": cur["size"],
        "entry_price": entry,
        "exit_price": exit_,
        "fees": cur["fees"],
        "pnl": pnl,
        "return": pnl / cur["cost"],
    }


def assemble_result(
    bars: Bars,
    config: BacktestConfig,
    outputs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    mode: str,
    strategy: Strategy | None,
    params: Mapping[str, Any] | None = None,
    weights: np.ndarray | None = None,
) -> Result:
    """The `Result` of a simulator's per-bar ``outputs`` (equity, cash, positions, order
    records) and the strategy's ``weights`` (bar rows); both simulators end here."""
    equity, cash, pos, records = outputs
    calendar, ppy = resolve_calendar(config, bars)
    decisions = None
    if weights is not None and not np.isnan(weights).all():
        decisions = cap_leverage(weights, config.max_leverage)
    symbols = list(bars.symbols)
    describe = strategy.describe() if strategy is not None else {"strategy": "weights"}
    if params:
        describe = {**describe, "params": dict(params)}

    def manifest() -> dict[str, Any]:
        return build_manifest(
            strategy=describe,
            config=config.model_dump(),
            data_checksum=bars.checksum(),
            mode=mode,
            symbols=symbols,
            start=str(bars.index[0]) if bars.n_bars else None,
            end=str(bars.index[-1]) if bars.n_bars else None,
            n_bars=bars.n_bars,
        )

    return Result(
        equity=pd.Series(equity, index=bars.index, name="equity", copy=False),
        cash=pd.Series(cash, index=bars.index, name="cash", copy=False),
        positions=pd.DataFrame(pos, index=bars.index, columns=symbols, copy=False),
        order_records=np.asarray(records, dtype=order_dt),
        close=bars.frame("close"),
        init_cash=config.init_cash,
        periods_per_year=ppy,
        calendar=calendar,
        mode=mode,
        manifest_factory=manifest,
        decisions=decisions,
        fill_lag=1 if config.fill == "next_open" else 0,
    )
