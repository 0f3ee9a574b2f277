"""Signals by name, so the CLI and the optimisers can find them.

A signal is a pure function ``fn(md: MarketData, **params) -> Series | DataFrame`` whose
value at bar *t* uses only what was known at *t*'s close. Modules in this package
register their public signals with `register`; `list_signals` imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

SignalFn = Callable[..., pd.Series | pd.DataFrame]


@dataclass(frozen=True)
class SignalSpec:
    """A registered signal: its name, a one-line description and the function."""

    name: str
    description: str
    fn: SignalFn
    module: str

    def __call__(self, md: Any, **params: Any) -> pd.Series | pd.DataFrame:
        return self.fn(md, **params)


_REGISTRY: dict[str, SignalSpec] = {}


def register(name: str, description: str) -> Callable[[SignalFn], SignalFn]:
    """Decorator adding a signal function to the registry under ``name``."""
    if not name or not description.strip() or "\n" in description:
        raise ValueError(f"signal {name!r} needs a name and a one-line description")

    def add(fn: SignalFn) -> SignalFn:
        known = _REGISTRY.get(name)
        if known is not None and (known.module, known.fn.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise ValueError(f"signal {name!r} is already registered by {known.module}")
        _REGISTRY[name] = SignalSpec(name, description.strip(), fn, fn.__module__)
        return fn

    return add


def _load_all() -> None:
    """Import every module of the signals package so their signals register."""
    import signals

    for info in pkgutil.iter_modules(signals.__path__):
        if not info.name.startswith("_") and info.name != "registry":
            importlib.import_module(f"signals.{info.name}")


def list_signals() -> list[SignalSpec]:
    """Every registered signal, sorted by name."""
    _load_all()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_signal(name: str) -> SignalSpec:
    """The signal registered as ``name``; `ValueError` listing the known names otherwise."""
    _load_all()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(
            f"unknown signal {name!r}; known signals: {known} (signal registry);"
            " fix: pick one of them (`flowbt signals list` describes each)"
        )
    return _REGISTRY[name]
