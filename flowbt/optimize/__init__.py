"""Parameter optimisation: ``flowbt.optimize(...)`` (see `flowbt.optimize.api`).

The package itself is callable, so ``flowbt.optimize("sma_cross", ...)`` runs a sweep
while ``flowbt.optimize.space``, ``.splits``, ``.overfitting`` ... stay importable.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from flowbt.optimize.api import optimize

        return optimize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
