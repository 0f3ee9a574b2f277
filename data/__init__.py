"""flowbt data layer: real prices, macro series and events, point in time.

``data.load()`` returns a `MarketData` over the bundled offline snapshot;
see `data.api.load` for the online sources and user files.
"""

from data.api import SOURCES, load
from data.calendars import AlignedPrices, align
from data.errors import DataError, StaleDataWarning
from data.files import read_price_file
from data.market import MarketData, SeriesInfo
from data.validate import Quirk

__all__ = [
    "SOURCES",
    "AlignedPrices",
    "DataError",
    "MarketData",
    "Quirk",
    "SeriesInfo",
    "StaleDataWarning",
    "align",
    "load",
    "read_price_file",
]
