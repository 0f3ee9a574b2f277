"""flowbt: backtests of flow- and policy-driven strategies on real, point-in-time data.

The public API for notebooks::

    import flowbt
    md = flowbt.load(["SPY"])                       # bundled snapshot, offline
    bt = flowbt.backtest("buyback_blackout", md, fees=0.001)
    bt.stats(); bt.trades; bt.plot("equity.png"); bt.tearsheet("t.html", benchmark="SPY")
    opt = flowbt.optimize("buyback_blackout", grid=["threshold=0.2:0.9:8"])
    opt.results; opt.best; opt.summary; print(opt.report()); opt.tearsheet("best.html")
    flowbt.compare([bt, opt, "results/cta"], out="cmp")  # cmp/compare.html, side by side

The layers below it import downward only: ``data < signals < strategies < engine <
flowbt``; this package is the application (CLI, reports, research, optimisation).
"""

from flowbt import optimize  # a callable package: flowbt.optimize(...) runs a sweep
from flowbt.api import Backtest, backtest, load, tearsheet
from flowbt.optimize.api import Optimization
from flowbt.report.compare import compare
from strategies.registry import get_strategy, known_strategies, register

__all__ = [
    "Backtest",
    "Optimization",
    "backtest",
    "compare",
    "get_strategy",
    "known_strategies",
    "load",
    "optimize",
    "register",
    "tearsheet",
]
