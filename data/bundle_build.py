"""Maintainer script: rebuild ``data/bundled/`` from the shared CSV snapshot.

    python -m data.bundle_build /path/to/shared/data            # everything
    python -m data.bundle_build /path/to/shared/data DEXKOUS    # only these names

Writes one zstd parquet per file (prices, macro, events), ``MANIFEST.json``
with a provenance note, basis, calendar, units, range, rows and sha256 per
file, and copies ``SOURCES.md`` beside them. Values are copied as published;
nothing is repaired here (quirks are handled, and reported, when loading).
The two ICE BofA spread series are left out: ICE restricts redistribution
(HYG/LQD serve as the credit proxy). Naming files rebuilds only those: the other
files and their manifest entries are left as they are (their checksums do not change).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from data.calendars import calendar_for
from data.schema import PRICE_COLUMNS, PriceBasis

BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"
EXCLUDED = {"BAMLH0A0HYM2", "BAMLC0A0CM"}  # ICE licence: no redistribution

_YF = "jonsflow/risk-model @f6b08eb2 (Yahoo Finance daily, to 2026-06-05)"
PRICE_ORIGIN: dict[str, tuple[PriceBasis, str]] = {
    "SPY": (
        PriceBasis.RAW_TR,
        "vlaas/balancing_portfolio @b6f24fc (TradingView raw + adjusted exports)",
    ),
    "QQQ": (
        PriceBasis.RAW_TR,
        "vlaas/balancing_portfolio @b6f24fc (TradingView raw + adjusted exports)",
    ),
    "MU": (
        PriceBasis.RAW_TR,
        "Yahoo-derived copies spliced 2000/2020/2026-04 (dieperdev, growwanalysis, heliar-k IB)",
    ),
    "WDC": (
        PriceBasis.RAW_TR,
        "Yahoo-derived copies spliced; OHLC before 2025-02-24 are Sandisk-spin-off adjusted (x0.755858)",
    ),
    "STX": (
        PriceBasis.RAW_TR,
        "Yahoo-derived copies spliced 2002/2020/2026-04 (dieperdev, growwanalysis, wudn9922)",
    ),
    "SNDK": (
        PriceBasis.RAW_TR,
        "growwanalysis/nasdaq100 + heliar-k/market-base IB bars; no dividends",
    ),
    "005930.KS": (
        PriceBasis.RAW,
        "heliar-k/market-base @ea74518 SAMSUNG (KRW, split-adjusted, no dividends)",
    ),
    "000660.KS": (PriceBasis.RAW, "heliar-k/market-base @ea74518 SKHYNIX (KRW, no dividends)"),
    "SPX": (
        PriceBasis.INDEX,
        "tzjtan/historical-stock-data (Yahoo ^GSPC) + heliar-k IB high/low from 2016-06-28",
    ),
    "NDX": (PriceBasis.INDEX, "ManULoreN14/regimen-tilt-nq @d7ac3f7 (Yahoo ^NDX)"),
    "RUT": (PriceBasis.INDEX, "heliar-k/market-base IB index bars; no volume"),
    "SOX": (PriceBasis.INDEX, "heliar-k/market-base IB index bars; no volume"),
    "VIX": (PriceBasis.INDEX, "datasets/finance-vix @6f56e27 (CBOE VIX_History; ODC-PDDL-1.0)"),
    "VIX3M": (PriceBasis.INDEX, "ManULoreN14/regimen-tilt-nq (CBOE VIX3M_History)"),
    "BTC-USD": (PriceBasis.ADJUSTED, _YF + "; UTC days"),
    "ETH-USD": (PriceBasis.ADJUSTED, _YF + "; UTC days"),
}
ALIASES = {"005930.KS": "SAMSUNG", "000660.KS": "SKHYNIX"}
CURRENCY = {"005930.KS": "KRW", "000660.KS": "KRW"}

MACRO_UNITS = {
    "WALCL": "millions USD (Wednesday level)",
    "WTREGEN": "millions USD (week average ending Wednesday)",
    "WRESBAL": "millions USD",
    "TREAST": "millions USD",
    "WSHOMCB": "millions USD",
    "RRPONTSYD": "billions USD",
    "TGA_DTS_DAILY": "millions USD",
    "M2SL": "billions USD",
    "ICSA": "claims",
    "PAYEMS": "thousands of persons",
    "CPIAUCSL": "index 1982-84=100",
    "CPILFESL": "index 1982-84=100",
    "PCEPI": "index 2017=100",
    "PCEPILFE": "index 2017=100",
    "NFCI": "index (0 = average conditions)",
    "STLFSI4": "index",
    "UMCSENT": "index 1966:Q1=100",
    "DEXKOUS": "KRW per USD (noon buying rate in New York)",
}
MACRO_ORIGIN_DEFAULT = "heliar-k/market-base @ea74518 (FRED snapshot fetched 2026-08-21..24)"
MACRO_ORIGIN = {
    "EFFR": "jonsflow/risk-model aeb4dce0 + fred_cache.json @f6b08eb2 (FRED)",
    "T10Y2Y": "jonsflow/risk-model aeb4dce0 + fred_cache.json @f6b08eb2 (FRED)",
    "T10Y3M": "Thecoderstef/Macro-Charts @0275968 (FRED)",
    "M2SL": "Thecoderstef/Macro-Charts @0275968 (FRED)",
    "TGA_DTS_DAILY": "heliar-k/market-base (Daily Treasury Statement, TGA closing balance)",
    "DEXKOUS": "eggT0928/MDD @d77f785 (FRED DEXKOUS, H.10 noon buying rates; holidays dropped)",
}
EVENT_FILES = {
    "fomc_statements": (
        "fomc_statements.csv",
        "date",
        "FOMC statements 1994-2026 (fomc/statements, SajittaPhat/fed-sentiment, heliar-k)",
    ),
    "fomc_minutes": (
        "fomc_minutes_2021_2026.csv",
        "meeting_date",
        "FOMC minutes, dated by meeting (heliar-k/market-base)",
    ),
    "fomc_meetings": (
        "fomc_meetings.csv",
        "date",
        "FOMC meetings, held + scheduled (Ate329/fed-statement-scraping); target range from DFEDTARL/U",
    ),
    "fed_speeches_text": (
        "fed_speeches_text_2025_2026.csv",
        "date",
        "Board-member speeches with text 2025-2026 (heliar-k/market-base)",
    ),
    "fed_speeches_index": (
        "fed_speeches_index_2006_2024.csv",
        "date",
        "Fed speeches metadata 2006-2024 (EeshaanAsodekar/FOMC-hawkish-dovish-analysis)",
    ),
    "fomc_implied_probabilities": (
        "fomc_implied_probabilities.csv",
        "date",
        "FedWatch-style probabilities from ZQ settlements, 2026-07-29..08-21 (heliar-k)",
    ),
    "earnings_dates": (
        "earnings_dates_sp500.csv",
        "date",
        "S&P 500 8-K Item 2.02 filing dates (PyPI stocks-earnings-dates 0.1.9); current members only",
    ),
    "sp500_constituents": (
        "sp500_constituents.csv",
        "Date added",
        "S&P 500 members as of 2026-08-08 (datasets/s-and-p-500-companies, ODC-PDDL-1.0)",
    ),
    "fed_funds_futures": (
        "../macro/fed_funds_futures_ZQ.csv",
        "date",
        "CBOT ZQ daily bars (IB) for contracts 2026-07..2028-07, quoted 2024-07-31..2026-07-31",
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, compression="zstd", index=True)


def _span(index: pd.Index) -> tuple[str | None, str | None]:
    if len(index) == 0:
        return None, None
    return str(pd.Timestamp(index.min()).date()), str(pd.Timestamp(index.max()).date())


def build(shared: Path, out: Path = BUNDLE_DIR, only: Iterable[str] | None = None) -> dict:
    """Write the bundle to ``out``; with ``only``, just those names (merged into the
    existing manifest, every other file and entry untouched)."""
    wanted = None if only is None else set(only)
    manifest: dict[str, dict] = {}
    if wanted is not None:
        manifest = json.loads((out / "MANIFEST.json").read_text())

    def skip(name: str) -> bool:
        return wanted is not None and name not in wanted

    for csv in sorted((shared / "prices").glob("*.csv")):
        symbol = csv.stem.split("_")[0]
        if skip(symbol):
            continue
        raw = pd.read_csv(csv)
        index = pd.DatetimeIndex(pd.to_datetime(raw["date"], format="%Y-%m-%d"), name="date")
        frame = raw[list(PRICE_COLUMNS)].astype("float64").set_index(index.tz_localize("UTC"))
        rel = f"prices/{symbol}.parquet"
        _write(frame, out / rel)
        basis, origin = PRICE_ORIGIN.get(symbol, (PriceBasis.ADJUSTED, _YF))
        start, end = _span(frame.index)
        manifest[symbol] = {
            "kind": "price",
            "file": rel,
            "source_file": f"prices/{csv.name}",
            "basis": basis.value,
            "calendar": calendar_for(symbol),
            "currency": CURRENCY.get(symbol, "USD"),
            "aliases": [ALIASES[symbol]] if symbol in ALIASES else [],
            "origin": origin,
            "rows": len(frame),
            "start": start,
            "end": end,
        }
    for csv in sorted((shared / "macro").glob("*.csv")):
        name = csv.stem
        if name in EXCLUDED or name == "fed_funds_futures_ZQ" or skip(name):
            continue
        raw = pd.read_csv(csv)
        index = pd.DatetimeIndex(pd.to_datetime(raw["date"], format="%Y-%m-%d"), name="date")
        frame = pd.DataFrame(
            {"value": raw["value"].astype("float64").to_numpy()}, index=index.tz_localize("UTC")
        )
        rel = f"macro/{name}.parquet"
        _write(frame, out / rel)
        start, end = _span(frame.index)
        manifest[name] = {
            "kind": "macro",
            "file": rel,
            "source_file": f"macro/{csv.name}",
            "units": MACRO_UNITS.get(
                name, "percent" if not name.startswith("CBOE") else "index points"
            ),
            "origin": MACRO_ORIGIN.get(
                name,
                MACRO_ORIGIN_DEFAULT
                if not name.startswith("CBOE")
                else "heliar-k/market-base data/cboe (CBOE closes)",
            ),
            "rows": len(frame),
            "start": start,
            "end": end,
        }
    for name, (fname, date_col, origin) in EVENT_FILES.items():
        if skip(name):
            continue
        src = (shared / "events" / fname).resolve()
        raw = pd.read_csv(src)
        if date_col != "date":
            raw = raw.rename(columns={date_col: "date"})
        raw["date"] = pd.to_datetime(
            raw["date"], format="%Y-%m-%d", errors="coerce"
        ).dt.tz_localize("UTC")
        rel = f"events/{name}.parquet"
        _write(raw, out / rel)
        start, end = _span(pd.DatetimeIndex(raw["date"].dropna()))
        manifest[name] = {
            "kind": "event",
            "file": rel,
            "source_file": str(src.relative_to(shared.resolve())),
            "origin": origin,
            "rows": len(raw),
            "start": start,
            "end": end,
        }
    built = [name for name in manifest if not skip(name)]
    missing = sorted((wanted or set()) - set(built))
    if missing:
        raise ValueError(f"nothing to build for {', '.join(missing)} in {shared}")
    for name in built:
        manifest[name]["sha256"] = _sha256(out / manifest[name]["file"])
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    shutil.copyfile(shared / "SOURCES.md", out / "SOURCES.md")
    return manifest


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    names = sys.argv[2:] or None
    result = build(target, only=names)
    print(f"wrote {len(names) if names else len(result)} files to {BUNDLE_DIR}")
