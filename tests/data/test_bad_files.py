"""User price files that used to load wrongly or crash (issue 13): each gets a DataError
naming what, where (file, column, row or argument) and a fix, or now loads correctly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import data
from data import DataError
from data.validate import PRICE_MAX, PRICE_MIN

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
# real SPY rows (Yahoo CSV export, March 2020)
GOOD = [
    "2020-03-19,239.25,247.38,232.22,240.51,220.52,288124000",
    "2020-03-20,242.53,244.47,228.50,228.80,209.78,347158800",
    "2020-03-23,228.19,229.68,218.26,222.95,204.42,326025200",
    "2020-03-24,234.42,244.10,233.80,243.15,222.94,235494500",
]
COLUMNS = ["date", "open", "high", "low", "close", "adj_close", "volume"]


def write(tmp_path: Path, rows: list[str], name: str = "SPY.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n".join(rows) + ("\n" if rows else ""))
    return path


def fails(path: Path, **kwargs) -> DataError:
    """The load raises a DataError with what, where (file) and fix, on one line."""
    with pytest.raises(DataError) as info:
        data.read_price_file(path, **kwargs)
    err = info.value
    assert err.file == str(path) and err.hint
    line = str(err)
    assert "\n" not in line and f"(file {path}" in line and "; fix: " in line
    return err


def with_cell(row: int, column: str, value: str) -> list[str]:
    """GOOD with one cell replaced (row: index into GOOD)."""
    rows = [r.split(",") for r in GOOD]
    rows[row][COLUMNS.index(column)] = value
    return [",".join(r) for r in rows]


# --- 1. non-finite and absurd prices -------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("high", "inf"),
        ("close", "inf"),
        ("low", "-inf"),
        ("open", "1e400"),  # overflows to inf when read
        ("adj_close", "inf"),
        ("volume", "inf"),
    ],
)
def test_non_finite_values_name_column_and_row(tmp_path, column, value):
    err = fails(write(tmp_path, with_cell(1, column, value)))
    assert err.row == 3 and f"non-finite {column}" in err.what and "2020-03-20" in err.what


@pytest.mark.parametrize(
    ("column", "value"),
    [("close", "1e308"), ("high", "1e12"), ("low", "1e-300"), ("adj_close", "1e-11")],
)
def test_implausible_prices_name_column_and_row(tmp_path, column, value):
    rows = with_cell(2, column, value)
    if column == "low":  # keep low <= open/close so only the size is wrong
        rows = with_cell(2, "open", value)
        rows[2] = rows[2].replace("228.19", value)
    err = fails(write(tmp_path, rows))
    assert err.row == 4 and "implausible" in err.what
    assert f"{PRICE_MIN:g} < price < {PRICE_MAX:g}" in err.what


def test_prices_just_inside_the_plausible_range_load(tmp_path):
    rows = [
        "2024-01-02,2e-10,3e-10,1.5e-10,2.5e-10,2.5e-10,1",  # a micro-priced token
        "2024-01-03,9e11,9.9e11,8e11,9.5e11,9.5e11,1",
    ]
    frame = data.read_price_file(write(tmp_path, rows))
    assert frame["close"].tolist() == [2.5e-10, 9.5e11]


def test_inf_in_a_repaired_file_is_still_an_error(tmp_path):
    err = fails(write(tmp_path, with_cell(1, "high", "inf")), repair=True)
    assert err.row == 3 and "non-finite high" in err.what


# --- 2. dates pandas misreads ----------------------------------------------------------


def _iso_frame(tmp_path: Path) -> pd.DataFrame:
    return data.read_price_file(write(tmp_path, GOOD, name="iso/SPY.csv"))


def test_yyyymmdd_integers_are_dates(tmp_path):
    rows = [r.replace("2020-03-", "202003", 1) for r in GOOD]
    frame = data.read_price_file(write(tmp_path, rows))
    pd.testing.assert_frame_equal(frame, _iso_frame(tmp_path))
    assert frame.index[0] == pd.Timestamp("2020-03-19", tz="UTC")


def test_an_impossible_yyyymmdd_names_its_row(tmp_path):
    rows = [r.replace("2020-03-", "202003", 1) for r in GOOD]
    rows[2] = "20200232" + rows[2][8:]
    err = fails(write(tmp_path, rows))
    assert err.row == 4 and "20200232 is not a real YYYYMMDD date" in err.what


@pytest.mark.parametrize(
    ("dates", "what"),
    [
        (["43909", "43910", "43913", "43914"], "spreadsheet serial"),  # Excel 2020-03-19...
        (["1", "2", "3", "4"], "row number"),
    ],
)
def test_serial_days_and_row_numbers_are_refused(tmp_path, dates, what):
    rows = [d + r[10:] for d, r in zip(dates, GOOD, strict=True)]
    err = fails(write(tmp_path, rows))
    assert what in err.what and "1970" in err.what and err.row == 2
    assert "2024-01-31" in err.hint


def test_epoch_numbers_each_in_their_own_unit(tmp_path):
    seconds = int(pd.Timestamp("2020-03-19", tz="UTC").timestamp())
    stamps = [seconds * 1000, (seconds + 86_400) * 1_000_000, seconds + 4 * 86_400]
    rows = [f"{s}{r[10:]}" for s, r in zip(stamps, GOOD, strict=False)]
    frame = data.read_price_file(write(tmp_path, rows))  # ms, then us, then s
    want = pd.DatetimeIndex(["2020-03-19", "2020-03-20", "2020-03-23"], tz="UTC", name="date")
    want = want.as_unit("ns")
    pd.testing.assert_index_equal(frame.index, want)


def test_nanosecond_epochs_are_exact(tmp_path):
    stamps = [1584576000123456789, 1584662400123456791]  # not representable as floats
    rows = [f"{s}{r[10:]}" for s, r in zip(stamps, GOOD, strict=False)]
    frame = data.read_price_file(write(tmp_path, rows))
    assert frame.index.asi8.tolist() == stamps


def _dmy(rows: list[str], fmt: str) -> list[str]:
    return [pd.Timestamp(r[:10]).strftime(fmt) + r[10:] for r in rows]


def test_day_first_dates_with_every_day_up_to_12_ask_for_a_date_format(tmp_path):
    rows = [
        "03/02/2020" + GOOD[0][10:],  # 3 February or 2 March?
        "04/02/2020" + GOOD[1][10:],
        "05/02/2020" + GOOD[2][10:],
    ]
    path = write(tmp_path, rows)
    err = fails(path)
    assert "ambiguous" in err.what and "'03/02/2020'" in err.what and err.row == 2
    assert "--date-format %d/%m/%Y" in err.hint and "--date-format %m/%d/%Y" in err.hint
    day_first = data.read_price_file(path, date_format="%d/%m/%Y")
    assert list(day_first.index.strftime("%Y-%m-%d")) == ["2020-02-03", "2020-02-04", "2020-02-05"]
    month_first = data.read_price_file(path, date_format="%m/%d/%Y")
    assert list(month_first.index.strftime("%Y-%m-%d")) == [
        "2020-03-02",
        "2020-04-02",
        "2020-05-02",
    ]


def test_a_day_above_12_fixes_the_order_for_every_row(tmp_path):
    rows = ["12/03/2020" + GOOD[0][10:], "13/03/2020" + GOOD[1][10:]]  # day first
    frame = data.read_price_file(write(tmp_path, rows))
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2020-03-12", "2020-03-13"]
    rows = ["03/12/2020" + GOOD[0][10:], "03/13/2020" + GOOD[1][10:]]  # month first
    frame = data.read_price_file(write(tmp_path, rows, name="US.csv"))
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2020-03-12", "2020-03-13"]


def test_dates_mixing_both_orders_are_refused(tmp_path):
    rows = ["13/03/2020" + GOOD[0][10:], "03/14/2020" + GOOD[1][10:]]
    err = fails(write(tmp_path, rows))
    assert "day-first" in err.what and "month-first" in err.what and err.row == 3


def test_date_format_rows_that_do_not_match_name_the_row(tmp_path):
    rows = _dmy(GOOD[:2], "%d.%m.%Y") + [GOOD[2]]
    err = fails(write(tmp_path, rows), date_format="%d.%m.%Y")
    assert err.row == 4 and "does not match date_format" in err.what
    err = fails(write(tmp_path, GOOD, name="x/SPY.csv"), date_format="%Q")
    assert "invalid date_format" in err.what and "--date-format" in err.hint


def test_daily_bars_with_an_offset_keep_their_local_session_date(tmp_path):
    # Seoul sessions written at local midnight: 2020-03-23 was a Monday
    rows = [f"2020-03-{d}T00:00:00+09:00" + GOOD[0][10:] for d in ("20", "23", "24")]
    path = write(tmp_path, rows, name="SAMSUNG.csv")
    frame = data.read_price_file(path)
    assert list(frame.index.strftime("%Y-%m-%d %H:%M")) == [
        "2020-03-20 00:00",
        "2020-03-23 00:00",
        "2020-03-24 00:00",
    ]
    md = data.load([str(path)], source="csv")
    assert md.calendar("SAMSUNG") == "XNYS"  # no Sunday bar, so not 24/7


def test_offsets_across_a_dst_change_and_intraday_offsets(tmp_path):
    rows = ["2020-03-06T00:00:00-05:00" + GOOD[0][10:], "2020-03-09T00:00:00-04:00" + GOOD[1][10:]]
    frame = data.read_price_file(write(tmp_path, rows))
    assert list(frame.index.strftime("%Y-%m-%d %H:%M")) == ["2020-03-06 00:00", "2020-03-09 00:00"]
    rows = ["2020-03-19T09:30:00-04:00" + GOOD[0][10:], "2020-03-19T10:30:00-04:00" + GOOD[1][10:]]
    frame = data.read_price_file(write(tmp_path, rows, name="intraday/SPY.csv"))
    assert list(frame.index.strftime("%Y-%m-%d %H:%M")) == ["2020-03-19 13:30", "2020-03-19 14:30"]


def test_tz_aware_parquet_at_local_midnight_keeps_its_dates(tmp_path):
    idx = pd.DatetimeIndex(["2020-03-20", "2020-03-23"]).tz_localize("Asia/Seoul")
    frame = pd.DataFrame(
        {"open": [1.0, 2.0], "high": [2.0, 3.0], "low": [0.5, 1.5], "close": [1.5, 2.5]},
        index=idx.rename("date"),
    )
    path = tmp_path / "KS.parquet"
    frame.to_parquet(path)
    got = data.read_price_file(path)
    assert list(got.index.strftime("%Y-%m-%d %H:%M")) == ["2020-03-20 00:00", "2020-03-23 00:00"]


@pytest.mark.parametrize(
    ("date", "why"),
    [("2020-02-30", "day is out of range for month"), ("1500-01-01", "outside 1678..2261")],
)
def test_impossible_dates_in_a_file(tmp_path, date, why):
    err = fails(write(tmp_path, [GOOD[0], date + GOOD[1][10:]]))
    assert why in err.what and date in err.what and err.row in (2, 3)


# --- 3. two columns for one field ----------------------------------------------------------


def test_two_columns_mapping_to_one_field_are_refused(tmp_path):
    header = "Date,Open,High,Low,Close,close\n"
    rows = [r.rsplit(",", 2)[0] + ",240.00" for r in GOOD]  # 'close' differs from 'Close'
    path = write(tmp_path, rows, header=header)
    err = fails(path)
    assert "'Close' and 'close' both map to close" in err.what and err.row == 1
    assert "--map Close=close" in err.hint
    frame = data.read_price_file(path, mapping={"Close": "close"})  # the fix the hint gives
    assert frame["close"].tolist() == [240.51, 228.80, 222.95, 243.15]


def test_a_repeated_header_is_refused(tmp_path):
    rows = [r.rsplit(",", 2)[0] + ",240.00" for r in GOOD]
    err = fails(write(tmp_path, rows, header="Date,Open,High,Low,Close,Close\n"))
    assert "'Close' appears twice" in err.what


def test_mapping_to_unknown_fields_or_columns(tmp_path):
    path = write(tmp_path, GOOD)
    err = fails(path, mapping={"Close": "closing"})
    assert "not a field" in err.what and "--map" in err.hint
    err = fails(path, mapping={"Px": "close"})
    assert "'Px'" in err.what and "does not have" in err.what


# --- 4. one symbol per file ------------------------------------------------------------------


def test_two_files_with_one_stem_are_refused(tmp_path):
    a = write(tmp_path, GOOD, name="a/SPY.csv")
    b = write(tmp_path, GOOD[:2], name="b/SPY.csv")
    with pytest.raises(DataError) as info:
        data.load([str(a), str(b)], source="csv")
    err = info.value
    assert err.symbol == "SPY" and str(a) in err.what and str(b) in err.what
    assert err.file == str(b) and "rename" in err.hint
    with pytest.raises(DataError, match="file given twice"):
        data.load([str(a), str(a)], source="csv")


@pytest.mark.parametrize(
    ("name", "symbol"),
    [(".hidden.csv", "hidden"), ("BRK.B.csv", "BRK.B"), ("SPY.csv.gz", "SPY"), ("x.parquet", "x")],
)
def test_symbol_is_the_name_without_its_file_type(tmp_path, name, symbol):
    path = tmp_path / name
    frame = pd.read_csv(write(tmp_path, GOOD, name="src.csv"))
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    md = data.load([str(path)], source="csv")
    assert md.symbols == [symbol]


def test_a_file_name_without_a_symbol_is_refused(tmp_path):
    path = write(tmp_path, GOOD, name=".csv")
    with pytest.raises(DataError, match="gives no symbol") as info:
        data.load([str(path)], source="csv")
    assert "SPY.csv" in info.value.hint


# --- 5. windows and date arguments of data.load ----------------------------------------------


def test_end_before_the_data_is_an_error_not_an_empty_frame(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(DataError) as info:
        data.load([str(path)], source="csv", end="2019-12-31")
    err = info.value
    assert err.symbol == "SPY" and "2020-03-19..2020-03-24" in err.what and err.hint
    assert err.file == str(path.resolve())  # the user's file, not the word "file"
    with pytest.raises(DataError, match="no bars between 2020-03-21 and 2020-03-22"):
        data.load([str(path)], source="csv", start="2020-03-21", end="2020-03-22")  # weekend
    with pytest.raises(DataError, match="no bars between"):
        data.load(["SNDK"], end="2000-01-01", macro=[], events=[])
    # a window that overlaps keeps exactly the bars inside it
    md = data.load([str(path)], source="csv", start="2020-03-20", end="2020-03-23")
    assert list(md.price("SPY")["close"]) == [228.80, 222.95]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"start": "2020-02-30"}, "day is out of range for month"),
        ({"end": "1500-01-01"}, "outside 1678..2261"),
        ({"start": "soon"}, "invalid start date 'soon'"),
    ],
)
def test_impossible_start_or_end_is_a_data_error(tmp_path, kwargs, needle):
    for symbols, source in (([str(write(tmp_path, GOOD))], "csv"), (["SPY"], "bundled")):
        with pytest.raises(DataError) as info:
            data.load(symbols, source=source, **kwargs)
        err = info.value
        name = next(iter(kwargs))
        assert needle in err.what and err.where == f"argument {name}"
        assert f"(argument {name})" in str(err) and "YYYY-MM-DD" in err.hint


def test_file_options_are_refused_for_other_sources():
    with pytest.raises(DataError, match="date_format applies to user files"):
        data.load(["SPY"], date_format="%d/%m/%Y")
    with pytest.raises(DataError, match="looks like a file") as info:
        data.load(["my.csv"])
    assert "source='csv'" in info.value.hint


# --- 6. Adj Close: total return by default ---------------------------------------------------


def test_a_file_with_adj_close_is_raw_plus_total_return(tmp_path):
    md = data.load([str(write(tmp_path, GOOD))], source="csv")
    assert md.basis("SPY") == "raw+tr"
    plain = write(tmp_path, [r.rsplit(",", 2)[0] + ",1" for r in GOOD], name="p/QQQ.csv",
                  header="Date,Open,High,Low,Close,Volume\n")  # fmt: skip
    assert data.load([str(plain)], source="csv").basis("QQQ") == "unknown"


def test_backtests_of_a_file_use_its_total_return(tmp_path):
    from engine.market import market_bars

    md = data.load([str(write(tmp_path, GOOD))], source="csv")
    bars, _, _ = market_bars(md, ["SPY"], currency=None)
    raw = pd.read_csv(tmp_path / "SPY.csv")
    factor = raw["Adj Close"] / raw["Close"]
    np.testing.assert_allclose(bars.close[:, 0], raw["Adj Close"], rtol=1e-12)
    np.testing.assert_allclose(bars.open[:, 0], raw["Open"] * factor, rtol=1e-12)
    bars, _, _ = market_bars(md, ["SPY"], adjust=False, currency=None)
    np.testing.assert_allclose(bars.close[:, 0], raw["Close"], rtol=0)


# --- 7. messages that say what is wrong ------------------------------------------------------


def test_a_semicolon_file_gets_a_word_about_the_delimiter_and_a_working_fix(tmp_path):
    path = tmp_path / "SPY.csv"
    path.write_text(HEADER.replace(",", ";") + "\n".join(r.replace(",", ";") for r in GOOD))
    err = fails(path)
    assert "separated by semicolons" in err.what and "missing" not in err.what
    command = err.hint.split("python -c ", 1)[1].strip('"')
    subprocess.run([sys.executable, "-c", command], check=True, cwd=tmp_path)  # the typed fix
    fixed = data.read_price_file(tmp_path / "SPY_comma.csv", symbol="SPY")
    assert fixed["close"].tolist() == [240.51, 228.80, 222.95, 243.15]


def test_decimal_commas_are_in_the_fix(tmp_path):
    path = tmp_path / "SPY.csv"
    lines = [r.replace(",", ";").replace(".", ",") for r in GOOD]
    path.write_text(HEADER.replace(",", ";") + "\n".join(lines))
    err = fails(path)
    command = err.hint.split("python -c ", 1)[1].strip('"')
    assert "decimal=','" in command
    subprocess.run([sys.executable, "-c", command], check=True, cwd=tmp_path)
    fixed = data.read_price_file(tmp_path / "SPY_comma.csv", symbol="SPY")
    assert fixed["close"].tolist() == [240.51, 228.80, 222.95, 243.15]


def test_tabs_and_other_encodings(tmp_path):
    path = tmp_path / "SPY.csv"
    path.write_text(HEADER.replace(",", "\t") + "\n".join(r.replace(",", "\t") for r in GOOD))
    assert "separated by tabs" in fails(path).what
    latin = tmp_path / "latin/SPY.csv"
    latin.parent.mkdir()
    latin.write_bytes((HEADER.replace("Volume", "Volumé") + "\n".join(GOOD)).encode("latin-1"))
    err = fails(latin)
    assert "not UTF-8" in err.what and "UTF-8" in err.hint
    utf16 = tmp_path / "u16/SPY.csv"
    utf16.parent.mkdir()
    utf16.write_bytes((HEADER + "\n".join(GOOD)).encode("utf-16"))  # with its byte-order mark
    pd.testing.assert_frame_equal(data.read_price_file(utf16), _iso_frame(tmp_path))


def test_rows_longer_than_the_header_are_refused_not_shifted(tmp_path):
    rows = [GOOD[0], GOOD[1] + ",7", GOOD[2]]
    err = fails(write(tmp_path, rows))
    assert "more cells than the header" in err.what or "Expected 7 fields" in err.what
    rows = [GOOD[0] + ",7,7", GOOD[1] + ",7,7"]  # every row: pandas took column 1 as index
    err = fails(write(tmp_path, rows, name="all/SPY.csv"))
    assert "more cells than the header" in err.what


BAD_FILES = {
    "missing column": ("Date,Open,Close\n", ["2020-03-19,239.25,240.51"]),
    "unparseable date": (HEADER, ["2020-13-45" + GOOD[0][10:]]),
    "empty date": (HEADER, ["" + GOOD[0][10:]]),
    "mixed timezones": (HEADER, ["2020-03-19T00:00Z" + GOOD[0][10:], GOOD[1]]),
    "not a number": (HEADER, [GOOD[0].replace("240.51", "abc")]),
    "negative volume": (HEADER, [GOOD[0].replace("288124000", "-5")]),
    "unsorted": (HEADER, [GOOD[1], GOOD[0]]),
    "header only": (HEADER, []),
    "empty bars": (HEADER, ["2020-03-19,,,,,,"]),
    "inverted": (HEADER, ["2020-03-19,239.25,232.22,247.38,240.51,220.52,1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_error_line_has_what_where_and_fix(tmp_path, case):
    header, rows = BAD_FILES[case]
    err = fails(write(tmp_path, rows, header=header))
    assert err.what and err.symbol == "SPY"
    if case not in ("header only", "missing column"):
        assert err.row is not None
