"""User files in the formats people have: Yahoo's CSV export and Binance klines."""

from __future__ import annotations

import pandas as pd
import pytest

import data


def test_yahoo_csv_export_from_real_rows(tmp_path, bundle):
    spy = bundle.price("SPY").loc["2020-03-16":"2020-03-27"]
    export = spy.rename(columns=str.title).rename(columns={"Adj_Close": "Adj Close"})
    export.index = export.index.strftime("%Y-%m-%d")
    path = tmp_path / "SPY.csv"
    export.rename_axis("Date").to_csv(path)
    frame = data.read_price_file(path)
    pd.testing.assert_frame_equal(frame, spy, check_freq=False)


@pytest.mark.parametrize("unit", [1_000, 1_000_000])  # Binance moved from ms to us in 2025
def test_binance_kline_csv_without_header(tmp_path, bundle, unit):
    btc = bundle.price("BTC-USD").loc["2021-11-06":"2021-11-10"]
    lines = []
    for ts, row in btc.iterrows():
        open_time = int(ts.timestamp()) * unit
        close_time = open_time + 86_400 * unit - 1
        lines.append(
            f"{open_time},{row.open:.2f},{row.high:.2f},{row.low:.2f},{row.close:.2f},"
            f"{row.volume:.0f},{close_time},0,0,0,0,0"
        )
    path = tmp_path / "BTCUSDT-1d-2021-11.csv"
    path.write_text("\n".join(lines) + "\n")
    frame = data.read_price_file(path, symbol="BTCUSDT")
    assert frame.loc["2021-11-08", "close"] == 67566.83
    assert list(frame.index) == list(btc.index)


def test_binance_kline_csv_with_header(tmp_path):
    text = (
        "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
        "taker_buy_volume,taker_buy_quote_volume,ignore\n"
        "1636329600000,63273.59,67789.00,63273.58,67525.83,41125.61,1636415999999,0,0,0,0,0\n"
    )
    path = tmp_path / "k.csv"
    path.write_text(text)
    frame = data.read_price_file(path)
    assert frame.index[0] == pd.Timestamp("2021-11-08", tz="UTC")


def test_explicit_column_mapping(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when,o,h,l,px\n2024-01-02,10,11,9,10.5\n2024-01-03,10.5,12,10,11\n")
    mapping = {"when": "date", "o": "open", "h": "high", "l": "low", "px": "close"}
    frame = data.read_price_file(path, mapping=mapping)
    assert frame["close"].tolist() == [10.5, 11.0]
    with pytest.raises(data.DataError, match="missing column"):
        data.read_price_file(path)


def test_parquet_round_trip(tmp_path, bundle):
    spy = bundle.price("SPY").loc["2024"]
    path = tmp_path / "SPY.parquet"
    spy.to_parquet(path)
    md = data.load([str(path)], source="parquet")
    pd.testing.assert_frame_equal(md.price("SPY"), spy, check_freq=False)
    # adj_close present: Yahoo's convention, raw OHLC + total-return close
    assert md.calendar("SPY") == "XNYS" and md.basis("SPY") == "raw+tr"
