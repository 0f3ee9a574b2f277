"""Explicit orders a strategy may place from an event hook.

Sizes are in units of the asset (positive buy, negative sell/short); ``units=None``
closes the whole position. An order placed while handling bar ``t`` becomes
active at bar ``t + 1`` (it cannot trade on a price it already saw) and is
checked against each later bar of its asset until it fills or is cancelled.
Gap rule: if the open is already through the trigger, the fill is at the open.
"""

from __future__ import annotations

from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class OrderType(IntEnum):
    MARKET = 0
    LIMIT = 1
    STOP = 2
    STOP_LIMIT = 3
    TRAILING_STOP = 4


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
