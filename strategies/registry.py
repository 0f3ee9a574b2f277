"""Strategies by name: the built-ins, plus ``register`` for user strategies.

The CLI, the public API and the optimisers find a strategy class here by its
``name``. Strategy modules import only ``strategies.base`` (the contract); this
module is the one place that lists them.
"""

from __future__ import annotations

from strategies.base import Strategy
from strategies.buyback_blackout import BuybackBlackout
from strategies.composite import Composite
from strategies.cta_trend import CtaTrend
from strategies.fed_pivot import FedPivot
from strategies.liquidity_rotation import LiquidityRotation
from strategies.memory_cycle import MemoryCycle
from strategies.sma_cross import SmaCross
from strategies.vix_hedge import VixHedge

BUILTINS: tuple[type[Strategy], ...] = (
    BuybackBlackout,
    Composite,
    CtaTrend,
    FedPivot,
    LiquidityRotation,
    MemoryCycle,
    SmaCross,
    VixHedge,
)

_REGISTRY: dict[str, type[Strategy]] = {cls.name: cls for cls in BUILTINS}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a user strategy reachable by ``get_strategy(cls.name)``."""
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise TypeError(f"{cls!r} is not a Strategy subclass")
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"strategy name {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def known_strategies() -> list[str]:
    """Every registered strategy name, sorted."""
    return sorted(_REGISTRY)


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``; unknown names raise with the known list."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(
            f"unknown strategy {name!r}; known strategies: {known} (strategy registry);"
            " fix: name one of them (`flowbt strategies list`)"
        ) from None


# the composite book builds its sleeves by name through the registry
Composite.resolve = get_strategy
