"""flowbt: backtests of flow- and policy-driven strategies on real, point-in-time data.

The public API for notebooks::

    import flowbt
    md = flowbt.load(["SPY"])                       # bundled snapshot, offline
    bt = flowbt.backtest("buyback_blackout", md, fees=0.001)
    bt.stats(); bt.trades; bt.plot("equity.png"); bt.tearsheet("t.html", benchmark="SPY")

The layers below it import downward only: ``data < signals < strategies < engine <
flowbt``; this package is the application (CLI, reports, research, optimisation).
"""

from flowbt.api import Backtest, backtest, load, tearsheet
from strategies.registry import get_strategy, known_strategies, register

__all__ = [
    "Backtest",
    "backtest",
    "get_strategy",
    "known_strategies",
    "load",
    "register",
    "tearsheet",
]
