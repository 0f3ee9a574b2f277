"""Fixtures for engine tests: the real SPY prices."""

from __future__ import annotations

import pandas as pd
import pytest
from bt_helpers import SPY_CSV, read_ohlc_csv


@pytest.fixture(scope="session")
def spy() -> pd.DataFrame:
    if not SPY_CSV.exists():
        pytest.skip("bundled SPY.csv not available")
    return read_ohlc_csv(SPY_CSV)
