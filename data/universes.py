"""Named universes: the three markets the theses are about, as bundled symbols.

``equities`` (US index ETFs, the sector SPDRs, Treasuries), ``memory`` (the memory-chip
makers: Micron, Western Digital, Seagate, SanDisk (listed 2025-02), Samsung Electronics
and SK Hynix, the last two in KRW on the Korea Exchange) and ``crypto`` (BTC, ETH).
A universe is only a list: a strategy decides what it trades of it.
"""

from __future__ import annotations

from data.errors import DataError

SECTORS = ("XLB", "XLC", "XLE", "XLF", "XLI", "XLK", "XLP", "XLRE", "XLU", "XLV", "XLY")
UNIVERSES: dict[str, tuple[str, ...]] = {
    "equities": ("SPY", "QQQ", "IWM", *SECTORS, "TLT", "IEF"),
    "memory": ("MU", "WDC", "STX", "SNDK", "005930.KS", "000660.KS"),
    "crypto": ("BTC-USD", "ETH-USD"),
}


def universe(name: str) -> tuple[str, ...]:
    """The symbols of universe ``name``; ``DataError`` naming the known ones otherwise."""
    try:
        return UNIVERSES[name]
    except KeyError:
        raise DataError(
            f"unknown universe {name!r}", hint=f"use one of {', '.join(UNIVERSES)}"
        ) from None
