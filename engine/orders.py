"""Explicit orders a strategy may place from an event hook, and the book that holds them.

Sizes are in units of the asset (positive buy, negative sell/short); ``units=None``
closes the whole position. An order placed while handling bar ``t`` becomes
active at bar ``t + 1`` (it cannot trade on a price it already saw) and is
checked against each later bar of its asset until it fills or is cancelled.
Gap rule: if the open is already through the trigger, the fill is at the open.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.enums import BookArrays, OrderStatus, OrderType

__all__ = ["Order", "OrderBook", "OrderType"]


class Order(BaseModel):
    """One explicit order. ``trail`` is a fraction (0.05 = trail 5% behind the extreme)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str
    units: float | None = None
    type: OrderType = OrderType.MARKET
    limit: float | None = Field(None, gt=0)
    stop: float | None = Field(None, gt=0)
    trail: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _prices_match_type(self) -> Order:
        need = {
            OrderType.MARKET: (),
            OrderType.LIMIT: ("limit",),
            OrderType.STOP: ("stop",),
            OrderType.STOP_LIMIT: ("stop", "limit"),
            OrderType.TRAILING_STOP: ("trail",),
        }[self.type]
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"{self.type.name} order needs {name}")
        if self.units is not None and self.units == 0:
            raise ValueError("units must be non-zero (or None to close the position)")
        return self

    @classmethod
    def market(cls, symbol: str, units: float | None) -> Order:
        return cls(symbol=symbol, units=units)

    @classmethod
    def limit_order(cls, symbol: str, units: float | None, limit: float) -> Order:
        return cls(symbol=symbol, units=units, type=OrderType.LIMIT, limit=limit)

    @classmethod
    def stop_order(cls, symbol: str, units: float | None, stop: float) -> Order:
        return cls(symbol=symbol, units=units, type=OrderType.STOP, stop=stop)

    @classmethod
    def stop_limit(cls, symbol: str, units: float | None, stop: float, limit: float) -> Order:
        return cls(symbol=symbol, units=units, type=OrderType.STOP_LIMIT, stop=stop, limit=limit)

    @classmethod
    def trailing_stop(cls, symbol: str, units: float | None, trail: float) -> Order:
        return cls(symbol=symbol, units=units, type=OrderType.TRAILING_STOP, trail=trail)


class OrderBook:
    """Explicit orders in the flat arrays the compiled loop reads (and updates)."""

    def __init__(self) -> None:
        self.arrays = BookArrays(
            col=np.empty(0, dtype=np.int64),
            kind=np.empty(0, dtype=np.int64),
            units=np.empty(0),
            limit=np.empty(0),
            stop=np.empty(0),
            trail=np.empty(0),
            active_from=np.empty(0, dtype=np.int64),
            status=np.empty(0, dtype=np.int64),
            ref=np.empty(0),
        )

    def __len__(self) -> int:
        return len(self.arrays.col)

    def add(self, orders: list[tuple[int, Order]], symbols: tuple[str, ...]) -> None:
        """Append ``(active_from_bar, order)`` pairs; unknown symbols raise ``ValueError``."""
        if not orders:
            return
        index = {s: k for k, s in enumerate(symbols)}
        for _, o in orders:
            if o.symbol not in index:
                raise ValueError(f"order for unknown symbol {o.symbol!r}; known: {list(symbols)}")

        def nan(x: float | None) -> float:
            return np.nan if x is None else float(x)

        new: dict[str, list[int] | list[float]] = {
            "col": [index[o.symbol] for _, o in orders],
            "kind": [int(o.type) for _, o in orders],
            "units": [nan(o.units) for _, o in orders],
            "limit": [nan(o.limit) for _, o in orders],
            "stop": [nan(o.stop) for _, o in orders],
            "trail": [nan(o.trail) for _, o in orders],
            "active_from": [b for b, _ in orders],
            "status": [int(OrderStatus.PENDING)] * len(orders),
            "ref": [np.nan] * len(orders),
        }
        self.arrays = BookArrays(
            **{
                name: np.append(old, new[name]).astype(old.dtype)
                for name, old in self.arrays._asdict().items()
            }
        )

    def cancel(self, col: int) -> None:
        """Cancel every pending order of asset column ``col``."""
        a = self.arrays
        a.status[(a.col == col) & (a.status == OrderStatus.PENDING)] = OrderStatus.CANCELLED
