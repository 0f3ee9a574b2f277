"""Bad input gets a DataError naming file, symbol and row: one test per case."""

from __future__ import annotations

from pathlib import Path

import pytest

import data
from data import DataError

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
GOOD = [
    "2020-03-19,239.25,247.38,232.22,240.51,220.52,288124000",
    "2020-03-20,242.53,244.47,228.50,228.80,209.78,347158800",
    "2020-03-23,228.19,229.68,218.26,222.95,204.42,326025200",
    "2020-03-24,234.42,244.10,233.80,243.15,222.94,235494500",
]


def write(tmp_path: Path, rows: list[str], name: str = "SPY.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + ("\n" if rows else ""))
    return path


def fails(path: Path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        data.read_price_file(path, **kwargs)
    err = info.value
    assert err.file == str(path)
    assert err.symbol == "SPY"
    assert "\n" not in str(err)
    return err


def test_good_file_loads(tmp_path):
    frame = data.read_price_file(write(tmp_path, GOOD))
    assert frame.loc["2020-03-23", "close"] == 222.95
    assert list(frame.columns) == ["open", "high", "low", "close", "adj_close", "volume"]


def test_missing_columns(tmp_path):
    err = fails(write(tmp_path, ["2020-03-19,239.25,240.51"], header="Date,Open,Close\n"))
    assert "high" in err.what and "low" in err.what and err.hint


def test_unparseable_date(tmp_path):
    rows = GOOD[:2] + ["2020-13-45,228.19,229.68,218.26,222.95,204.42,1"] + GOOD[3:]
    err = fails(write(tmp_path, rows))
    assert err.row == 4 and "2020-13-45" in err.what


def test_unsorted_timestamps(tmp_path):
    err = fails(write(tmp_path, [GOOD[0], GOOD[2], GOOD[1], GOOD[3]]))
    assert err.row == 4 and "not sorted" in err.what


def test_duplicated_timestamps(tmp_path):
    err = fails(write(tmp_path, [GOOD[0], GOOD[1], GOOD[1], GOOD[2]]))
    assert err.row == 4 and "duplicated" in err.what


@pytest.mark.parametrize("bad", ["-228.80", "0"])
def test_negative_or_zero_price(tmp_path, bad):
    rows = [GOOD[0], f"2020-03-20,242.53,244.47,228.50,{bad},209.78,1", GOOD[2]]
    err = fails(write(tmp_path, rows))
    assert err.row == 3 and "non-positive" in err.what


def test_high_below_low(tmp_path):
    rows = [GOOD[0], GOOD[1], "2020-03-23,228.19,218.26,229.68,222.95,204.42,1"]
    err = fails(write(tmp_path, rows))
    assert err.row == 4 and "high" in err.what and "< low" in err.what


def test_close_outside_range_is_an_error_unless_repaired(tmp_path):
    rows = [GOOD[0], "2020-03-20,242.53,244.47,228.50,250.00,209.78,1", GOOD[2]]
    path = write(tmp_path, rows)
    err = fails(path)
    assert err.row == 3 and "outside" in err.what and "repair" in err.hint
    md = data.load([str(path)], source="csv", repair=True)
    assert md.price("SPY").loc["2020-03-20", "high"] == 250.0
    assert [(q.rule, q.rows) for q in md.quirks] == [("widened high/low to contain open/close", 1)]


def test_nan_run(tmp_path):
    rows = [GOOD[0], "2020-03-20,,,,,,", "2020-03-21,null,null,null,null,null,null", GOOD[2]]
    path = write(tmp_path, rows)
    err = fails(path)
    assert err.row == 3 and "NaN run of 2" in err.what
    frame = data.read_price_file(path, repair=True)
    assert len(frame) == 2


def test_partial_bar(tmp_path):
    err = fails(write(tmp_path, [GOOD[0], "2020-03-20,242.53,244.47,228.50,,209.78,1"]))
    assert err.row == 3 and "empty" in err.what


def test_mixed_timezones(tmp_path):
    rows = [
        "2020-03-19T14:30:00+00:00,239.25,247.38,232.22,240.51,220.52,1",
        "2020-03-20T14:30:00,242.53,244.47,228.50,228.80,209.78,1",
    ]
    err = fails(write(tmp_path, rows))
    assert err.row == 3 and "mixed timezones" in err.what


def test_offsets_on_every_row_are_converted_to_utc(tmp_path):
    rows = [
        "2020-03-06T09:30:00-05:00,1,2,0.5,1.5,1.5,1",
        "2020-03-09T09:30:00-04:00,1,2,0.5,1.5,1.5,1",  # DST began: same wall time
    ]
    frame = data.read_price_file(write(tmp_path, rows))
    assert [t.hour for t in frame.index] == [14, 13]


@pytest.mark.parametrize("content", ["", HEADER])
def test_empty_file(tmp_path, content):
    path = tmp_path / "SPY.csv"
    path.write_text(content)
    err = fails(path)
    assert "empty" in err.what


def test_not_a_number(tmp_path):
    err = fails(write(tmp_path, [GOOD[0], "2020-03-20,242.53,244.47,228.50,abc,209.78,1"]))
    assert err.row == 3 and "abc" in err.what


def test_series_ends_before_requested_start(tmp_path):
    with pytest.raises(DataError) as info:
        data.load([str(write(tmp_path, GOOD))], source="csv", start="2021-01-01")
    assert info.value.symbol == "SPY" and "before the requested start" in info.value.what
    with pytest.raises(DataError, match="before the requested start"):
        data.load(["SNDK"], start="2027-01-01", macro=[], events=[])


def test_unknown_symbol_and_source():
    with pytest.raises(DataError) as info:
        data.load(["NOPE"])
    assert info.value.symbol == "NOPE" and "flowbt data list" in info.value.hint
    with pytest.raises(DataError, match="unknown source 'bloomberg'"):
        data.load(["SPY"], source="bloomberg")
    with pytest.raises(DataError, match="unknown series"):
        data.load(["SPY"], macro=[], events=[]).series("WALCL")


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        data.read_price_file(tmp_path / "SPY.csv")
    path = tmp_path / "SPY.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        data.read_price_file(path)


def test_garbage_bytes(tmp_path):
    path = tmp_path / "SPY.parquet"
    path.write_bytes(b"not a parquet file at all")
    err = fails(path)
    assert "cannot read parquet" in err.what


def test_a_failed_load_leaves_the_user_file_untouched(tmp_path):
    rows = [GOOD[0], "2020-03-20,242.53,244.47,228.50,250.00,209.78,1"]
    path = write(tmp_path, rows)
    before = path.read_bytes()
    with pytest.raises(DataError):
        data.read_price_file(path)
    data.read_price_file(path, repair=True)
    assert path.read_bytes() == before
