"""Shared fixtures: the bundled snapshot (loaded once), real SPY bars, the raw shared CSVs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import data

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def bundle() -> data.MarketData:
    return data.load()


@pytest.fixture(scope="session")
def spy(bundle: data.MarketData) -> pd.DataFrame:
    """Real SPY sessions from the bundled snapshot: raw OHLC, adj_close, volume."""
    return bundle.price("SPY").copy()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The raw CSV snapshot the bundle was built from (beside the clone, as in CI)."""
    if not SHARED.exists():
        pytest.skip("shared/data is not beside this clone")
    return SHARED


@pytest.fixture
def bundled(monkeypatch: pytest.MonkeyPatch, bundle: data.MarketData) -> data.MarketData:
    """The CLI loads the session's bundle instead of reading it again."""
    monkeypatch.setattr(data, "load", lambda *a, **k: bundle)
    return bundle
