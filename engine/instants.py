"""Bars of several calendars laid out as the instants at which opens and closes happen.

Point-in-time rule for next-open fills across calendars. Bars merged from several
calendars (``engine.market_run``) have one row per close instant, so the row after
a New York close (20:00 UTC) can be a 24/7 UTC day that *opened* at 00:00, twenty
hours before that close. Filling an order decided at the New York close at that
day's open would trade at a price from before the decision. The grid gives every
close and every open its own row, in time order (at equal instants the close comes
first, so a 24/7 day's decision still fills at the next day's open):

- close rows, one per bar row: the assets whose bar closes there are known at
  their close, the strategy's weights are decided there, borrow is charged there;
- open rows, one per distinct open instant: the assets opening then trade at their
  open (stops and limits against that bar's high and low); every other asset is
  valued at its last close. The latest decision (that of the last close row)
  stands at every open row until the next close row.

Both simulators run on the grid, so they still agree; results are read back at the
close rows, and each fill is reported at the bar whose open it traded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.bars import Bars
from engine.config import BacktestConfig


@dataclass(frozen=True)
class Grid:
    """``bars`` on instants, and the way back to the bar rows."""

    bars: Bars  # rows = instants; open/high/low at open rows, close at close rows
    close_rows: np.ndarray  # (n,) grid row of each bar row's close
    bar_of: np.ndarray  # (G, m) bar row whose open or close is at this grid row, -1 = none
    decision: np.ndarray  # (G,) bar row of the latest close at or before this row, -1 = none

    def weights(self, weights: np.ndarray) -> np.ndarray:
        """Bar-row weights (decided at each close) as the decision standing at each grid row."""
        out = np.asarray(weights, dtype=np.float64)[self.decision.clip(0)]
        out[self.decision < 0] = np.nan
        return out

    def read_back(
        self, equity: np.ndarray, cash: np.ndarray, pos: np.ndarray, records: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A grid run's outputs per bar row: equity, cash and positions at each bar's
        close, and fill records at the bar whose open traded (not the grid row)."""
        fills = records.copy()
        fills["bar"] = self.bar_of[fills["bar"], fills["col"]]
        at = self.close_rows
        return equity[at], cash[at], pos[at], fills


def needs_grid(bars: Bars, config: BacktestConfig) -> bool:
    """Only next-open fills on bars merged from several calendars need the grid."""
    return bars.opens is not None and config.fill == "next_open"


def instant_grid(bars: Bars) -> Grid:
    """The grid of ``bars`` (which must carry ``opens``)."""
    if bars.opens is None:
        raise ValueError("bars carry no open instants; they come from one calendar")
    n, m = bars.n_bars, bars.n_assets
    closes = bars.index.as_unit("ns").asi8
    has_open = ~np.isnan(bars.open) & (bars.opens != np.iinfo(np.int64).min)
    cell_bar, cell_col = np.nonzero(has_open)
    opens = bars.opens[cell_bar, cell_col]
    # one sortable key per event: instant * 2, + 1 for an open (after a close at the
    # same instant); int64 holds it until the year 2116
    keys = np.unique(np.concatenate([closes * 2, opens * 2 + 1]))
    close_rows = np.searchsorted(keys, closes * 2)
    open_rows = np.searchsorted(keys, opens * 2 + 1)
    g = len(keys)

    def on_grid(values: np.ndarray, rows: np.ndarray, cells: tuple[np.ndarray, ...]) -> np.ndarray:
        out = np.full((g, m), np.nan)
        out[rows, cells[1]] = values[cells]
        return out

    cells = (cell_bar, cell_col)
    close = np.full((g, m), np.nan)
    close[close_rows] = bars.close
    tradable = np.zeros((g, m), dtype=bool)
    tradable[open_rows, cell_col] = bars.tradable[cells]
    bar_of = np.full((g, m), -1, dtype=np.int64)
    bar_of[close_rows] = np.arange(n)[:, None]
    bar_of[open_rows, cell_col] = cell_bar
    is_close = np.zeros(g, dtype=bool)
    is_close[close_rows] = True
    decision = np.cumsum(is_close) - 1  # bar rows are in close order
    grid_bars = Bars(
        index=pd.DatetimeIndex(keys // 2, tz="UTC"),
        symbols=bars.symbols,
        open=on_grid(bars.open, open_rows, cells),
        high=on_grid(bars.high, open_rows, cells),
        low=on_grid(bars.low, open_rows, cells),
        close=close,
        tradable=tradable,
    )
    return Grid(bars=grid_bars, close_rows=close_rows, bar_of=bar_of, decision=decision)
