"""Property tests: mutated price files either load as valid frames or raise `DataError`.

Valid files (real SPY rows as Yahoo exports them, a lower-case variant, Binance klines,
offset timestamps, a parquet file) are mutated the way files really break: cells
dropped, swapped or garbled, rows swapped or truncated, delimiters, encodings and UTC
offsets changed, inf/NaN injected. Whatever comes out, the load is a frame that passes
flowbt's checks or a one-line `DataError`; never another exception type, and the input
file's bytes never change. Examples are capped so the file runs in a few seconds.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import data
from data import DataError
from data.validate import PRICE_MAX, PRICE_MIN

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run and machine
    database=None,
)

# real SPY sessions (Yahoo CSV export, March 2020)
ROWS = [
    ["2020-03-16", "241.18", "256.90", "237.36", "239.85", "219.92", "297240000"],
    ["2020-03-17", "245.04", "256.17", "237.07", "252.80", "231.79", "262070500"],
    ["2020-03-18", "236.25", "248.37", "228.02", "240.00", "220.05", "327597100"],
    ["2020-03-19", "239.25", "247.38", "232.22", "240.51", "220.52", "288124000"],
    ["2020-03-20", "242.53", "244.47", "228.50", "228.80", "209.78", "347158800"],
    ["2020-03-23", "228.19", "229.68", "218.26", "222.95", "204.42", "326025200"],
    ["2020-03-24", "234.42", "244.10", "233.80", "243.15", "222.94", "235494500"],
    ["2020-03-25", "244.87", "256.35", "239.75", "246.79", "226.28", "299430300"],
]
HEADERS = {
    "yahoo": ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"],
    "lower": ["date", "open", "high", "low", "close", "adj_close", "volume"],
}
GARBAGE = [
    "",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e308",
    "1e-300",
    "-1",
    "0",
    "abc",
    "2020-02-30",
    "1500-01-01",
    "43909",
    "20200319",
    "03/04/2020",
    "1,5",
    '"',
    "\x00",
    "1e400",
    "١٢٣",  # Arabic-Indic digits
    "  12.5  ",
    "true",
]


def _base(kind: str) -> list[list[str]]:
    """A valid file as a table of cells (the first row is the header, if any)."""
    if kind in HEADERS:
        return [list(HEADERS[kind]), *[list(r) for r in ROWS]]
    if kind == "offsets":
        return [list(HEADERS["yahoo"]), *[[r[0] + "T00:00:00-04:00", *r[1:]] for r in ROWS]]
    # binance: no header, open time in ms, 12 columns
    out = []
    for r in ROWS:
        ms = int(pd.Timestamp(r[0], tz="UTC").timestamp()) * 1000
        out.append([str(ms), *r[1:5], r[6], str(ms + 86_399_999), "0", "0", "0", "0", "0"])
    return out


@st.composite
def mutated_file(draw: st.DrawFn) -> tuple[bytes, str]:
    """Bytes of a mutated price file and the suffix it is saved under."""
    table = _base(draw(st.sampled_from(["yahoo", "lower", "offsets", "binance"])))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(
            st.sampled_from(
                ["drop", "swap_cells", "swap_rows", "garble", "inject", "offset", "dup_header"]
            )
        )
        r = draw(st.integers(0, len(table) - 1))
        row = table[r]
        if op == "drop" and row:
            row.pop(draw(st.integers(0, len(row) - 1)))
        elif op == "swap_cells" and len(row) > 1:
            i, j = draw(st.integers(0, len(row) - 1)), draw(st.integers(0, len(row) - 1))
            row[i], row[j] = row[j], row[i]
        elif op == "swap_rows":
            s = draw(st.integers(0, len(table) - 1))
            table[r], table[s] = table[s], table[r]
        elif op == "garble" and row:
            cell = draw(st.integers(0, len(row) - 1))
            row[cell] = draw(st.sampled_from(GARBAGE) | st.text(max_size=8))
        elif op == "inject" and len(row) > 1:
            row[draw(st.integers(1, len(row) - 1))] = draw(
                st.sampled_from(["inf", "-inf", "nan", "1e308", "1e-300"])
            )
        elif op == "offset" and row:
            row[0] = row[0] + draw(st.sampled_from(["Z", "+09:00", "-05:00", "+0530", " UTC"]))
        elif op == "dup_header" and row:
            row.append(row[draw(st.integers(0, len(row) - 1))])
    delimiter = draw(st.sampled_from([","] * 9 + [";", "\t", "|"]))
    text = "\n".join(delimiter.join(row) for row in table)
    text += draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"]))
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    if draw(st.integers(0, 3)) == 0:  # truncated, as an interrupted download
        raw = raw[: draw(st.integers(0, len(raw)))]
    suffix = draw(st.sampled_from([".csv"] * 8 + [".txt", ".parquet"]))  # .parquet: misnamed
    return raw, suffix


def check_frame(frame: pd.DataFrame) -> None:
    """What a loaded price frame promises."""
    assert isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC"
    assert frame.index.name == "date" and frame.index.unit == "ns"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert set(frame.columns) >= {"open", "high", "low", "close", "volume"}
    ohlc = frame[["open", "high", "low", "close"]].to_numpy()
    assert np.isfinite(ohlc).all()
    assert ((ohlc > PRICE_MIN) & (ohlc < PRICE_MAX)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert not np.isinf(frame["volume"].to_numpy()).any()


def load_outcome(path: Path, **kwargs: object) -> pd.DataFrame | DataError:
    """A loaded frame or the DataError; any other exception fails the test."""
    before = path.read_bytes()
    try:
        frame = data.read_price_file(path, **kwargs)  # type: ignore[arg-type]
    except DataError as err:
        line = str(err)
        assert "\n" not in line and err.hint, line
        return err
    finally:
        assert path.read_bytes() == before  # never a changed input file
    check_frame(frame)
    return frame


@FUZZ
@given(mutated_file(), st.booleans())
def test_mutated_files_load_or_raise_data_error(case, repair):
    raw, suffix = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"SPY{suffix}"
        path.write_bytes(raw)
        load_outcome(path, repair=repair)


@FUZZ
@given(
    mutated_file(),
    st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%Y%m%d", "%d.%m.%y", "%Q", "", "x"]),
)
def test_mutated_files_with_a_date_format(case, date_format):
    raw, _ = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SPY.csv"
        path.write_bytes(raw)
        load_outcome(path, date_format=date_format)


@st.composite
def mutated_parquet(draw: st.DrawFn) -> pd.DataFrame:
    """A real-rows frame with injected values, dtypes and timezones, as parquet keeps them."""
    frame = pd.DataFrame(ROWS, columns=HEADERS["lower"])
    for col in frame.columns[1:]:
        frame[col] = frame[col].astype(float)
    date_kind = draw(st.sampled_from(["text", "naive", "utc", "seoul", "int", "ms"]))
    days = pd.DatetimeIndex(frame["date"])
    frame["date"] = {
        "text": frame["date"],
        "naive": days,
        "utc": days.tz_localize("UTC"),
        "seoul": days.tz_localize("Asia/Seoul"),
        "int": days.strftime("%Y%m%d").astype(int),
        "ms": days.as_unit("ms").asi8,
    }[date_kind]
    for _ in range(draw(st.integers(0, 3))):
        r = draw(st.integers(0, len(frame) - 1))
        col = draw(st.sampled_from(list(frame.columns[1:])))
        frame.loc[r, col] = draw(
            st.sampled_from([np.inf, -np.inf, np.nan, 1e308, 1e-300, -1.0, 0.0])
            | st.floats(allow_nan=True, allow_infinity=True)
        )
    if draw(st.booleans()):
        frame = frame.iloc[draw(st.permutations(list(range(len(frame)))))]
    if draw(st.booleans()):
        frame = frame.set_index("date")
    return frame


@FUZZ
@given(mutated_parquet())
def test_mutated_parquet_files_load_or_raise_data_error(frame):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SPY.parquet"
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        path.write_bytes(buffer.getvalue())
        load_outcome(path)


def test_the_unmutated_files_load():
    """The bases of the mutations are valid files (else the fuzzing proves little)."""
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("yahoo", "lower", "offsets", "binance"):
            path = Path(tmp) / f"{kind}.csv"
            path.write_text("\n".join(",".join(r) for r in _base(kind)) + "\n")
            frame = load_outcome(path)
            assert isinstance(frame, pd.DataFrame), frame
            assert frame["close"].tolist() == [float(r[4]) for r in ROWS]
            assert list(frame.index.strftime("%Y-%m-%d")) == [r[0] for r in ROWS]


DATE_TEXT = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2020-03-18",
            "2020-02-30",
            "1500-01-01",
            "2262-05-01",
            "2020-03-21",
            "20200319",
            "2020-03-19T12:00+09:00",
            "03/19/2020",
            "yesterday",
            "",
            "NaT",
            "2020-13-01",
        ]
    ),  # fmt: skip
    st.text(max_size=12),
)


@FUZZ
@given(DATE_TEXT, DATE_TEXT)
def test_any_start_and_end_give_a_window_or_a_data_error(start, end):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SPY.csv"
        path.write_text("\n".join(",".join(r) for r in _base("yahoo")) + "\n")
        try:
            md = data.load([str(path)], source="csv", start=start, end=end)
        except DataError as err:
            assert "\n" not in str(err) and err.hint
            return
        frame = md.price("SPY")
        assert len(frame) > 0  # never an empty frame
        check_frame(frame)
        if start:
            lo = pd.Timestamp(start)
            lo = lo.tz_localize("UTC") if lo.tzinfo is None else lo.tz_convert("UTC")
            assert frame.index[0] >= lo
