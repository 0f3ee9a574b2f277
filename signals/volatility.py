"""VIX term structure: an inverted curve (VIX above VIX3M) marks hedging flow, demand for
near-dated protection, rather than panic in itself (per the articles).

Ratio = VIX close / VIX3M close (unitless; > 1 = inverted). Sources: Cboe VIX and VIX3M
index closes (bundled prices, VIX3M from 2009-09-18). Point in time: a session's ratio
uses that session's closes only. Cboe finalises the index closes at 16:15 ET, a quarter
hour after the NYSE close, so act on a bar's ratio at the next session (the engine's
default fill at the next open does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.market import MarketData
from signals.registry import register


@register("vix_term_structure", "VIX / VIX3M close ratio per session (> 1 = inverted curve)")
def vix_term_structure(md: MarketData) -> pd.DataFrame:
    """Columns ``vix``, ``vix3m`` (index points) and ``ratio`` on the VIX sessions.

    Sessions where either close is missing have a NaN ratio (never a stale close).
    """
    vix = md.price("VIX")["close"]
    vix3m = md.price("VIX3M")["close"].reindex(vix.index)
    return pd.DataFrame({"vix": vix, "vix3m": vix3m, "ratio": vix / vix3m}, index=vix.index)


def _runs(flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end positions (inclusive) of the runs of True in ``flag``."""
    edges = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


def inversion_spells(ratio: pd.Series, threshold: float = 1.0, min_length: int = 1) -> pd.DataFrame:
    """Spells of consecutive bars with ``ratio > threshold`` (a NaN ends a spell).

    One row per spell: ``start``, ``end`` (last inverted bar), ``length`` (bars),
    ``peak_ratio``, ``peak_date`` and ``ongoing`` (the series ends inside the spell, so
    its end and length are provisional). Spells shorter than ``min_length`` are dropped.
    """
    values = ratio.to_numpy(dtype=float)
    starts, ends = _runs(np.nan_to_num(values, nan=-np.inf) > threshold)
    rows = []
    for a, b in zip(starts, ends, strict=True):
        if b - a + 1 < min_length:
            continue
        peak = a + int(np.argmax(values[a : b + 1]))
        rows.append(
            {
                "start": ratio.index[a],
                "end": ratio.index[b],
                "length": int(b - a + 1),
                "peak_ratio": values[peak],
                "peak_date": ratio.index[peak],
                "ongoing": bool(b == len(values) - 1),
            }
        )
    columns = ["start", "end", "length", "peak_ratio", "peak_date", "ongoing"]
    return pd.DataFrame(rows, columns=columns)


@register("vix_inversion", "VIX/VIX3M inversion state per session: spell day count and peak so far")
def vix_inversion(md: MarketData, *, threshold: float = 1.0) -> pd.DataFrame:
    """Per session: ``ratio``, ``inverted`` (ratio > ``threshold``), ``spell_day`` (1 on a
    spell's first session, 0 outside spells) and ``spell_peak`` (highest ratio of the spell
    so far, NaN outside). Everything uses sessions up to the bar only."""
    ratio = vix_term_structure(md)["ratio"]
    inverted = (ratio > threshold).to_numpy()
    spell_id = np.cumsum(~inverted)  # constant within a spell
    groups = pd.Series(ratio.to_numpy(), index=ratio.index).where(inverted)
    spell_day = pd.Series(inverted.astype(int), index=ratio.index).groupby(spell_id).cumsum()
    spell_peak = groups.groupby(spell_id).cummax()
    return pd.DataFrame(
        {
            "ratio": ratio,
            "inverted": inverted,
            "spell_day": spell_day.astype(int),
            "spell_peak": spell_peak,
        },
        index=ratio.index,
    )
