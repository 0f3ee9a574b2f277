"""The notebook entry point and the user's tradable mask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bt_helpers import random_ohlc
from pydantic import ValidationError

from flowbt import backtest


@pytest.fixture
def prices():
    return random_ohlc(np.random.default_rng(9), 300)


def test_backtest_by_name_with_keyword_params(prices):
    ev = backtest("sma_cross", prices, fast=5, slow=30, fees=0.001)
    vec = backtest("sma_cross", prices, mode="vector", fast=5, slow=30, fees=0.001)
    assert ev.stats()["n_trades"] > 2
    np.testing.assert_allclose(ev.equity, vec.equity, rtol=1e-9)
    assert ev.manifest["strategy"] == {"strategy": "sma_cross", "params": {"fast": 5, "slow": 30}}
    with pytest.raises(ValidationError):
        backtest("sma_cross", prices, fast=30, slow=5)
    with pytest.raises(ValueError, match="mode must be"):
        backtest("sma_cross", prices, mode="turbo")


def test_tradable_mask_blocks_fills(prices):
    base = backtest("sma_cross", prices, fast=5, slow=30)
    first = int(base.orders["bar"].iloc[0])
    mask = pd.DataFrame(True, index=prices.index, columns=["asset"])
    mask.iloc[first : first + 3] = False  # e.g. a halt
    halted = backtest("sma_cross", prices, fast=5, slow=30, tradable=mask)
    assert int(halted.orders["bar"].iloc[0]) == first + 3
    assert halted.orders["price"].iloc[0] == prices["open"].iloc[first + 3]
