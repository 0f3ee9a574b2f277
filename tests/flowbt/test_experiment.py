"""Experiments from TOML and options: valid ones build what the engine runs; every mistake
is one line naming the key, the bad value and what is allowed (fuzzed with hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from bt_helpers import PROPERTY
from hypothesis import given
from hypothesis import strategies as st

from flowbt.experiment import DEFAULT_FEES, Experiment, experiment, load_config


def write(tmp_path, text: str):
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_config_builds_strategy_and_settings(tmp_path):
    path = write(
        tmp_path,
        """
strategy = "cta_trend"
universe = "crypto"
start = 2019-01-02
end = 2020-12-31
mode = "vector"
fill = "close"
rebalance = "every_bar"
benchmark = "BTC-USD"
params = { target_vol = 0.15 }
[costs]
slippage = 0.0005
""",
    )
    exp = experiment(load_config(path), f"config {path}")
    strategy = exp.build_strategy()
    assert strategy.symbols == ["BTC-USD", "ETH-USD"]  # the crypto universe
    assert strategy.params.target_vol == 0.15
    cfg = exp.backtest_config()
    assert cfg.fill == "close" and cfg.rebalance == "every_bar"
    assert cfg.costs.fees == DEFAULT_FEES == 0.001  # the one fee default
    assert cfg.costs.slippage == 0.0005
    assert exp.start == dt.date(2019, 1, 2) and exp.benchmark_symbol(strategy) == "BTC-USD"


def test_composite_sleeves_from_toml(tmp_path):
    path = write(
        tmp_path,
        """
strategy = "composite"
[[sleeves]]
strategy = "cta_trend"
weight = 0.5
params = { target_vol = 0.2 }
[[sleeves]]
strategy = "buyback_blackout"
weight = 0.25
""",
    )
    book = experiment(load_config(path)).build_strategy()
    shares = [(w, s.name) for w, s in book.sleeves]
    assert shares == [(0.5, "cta_trend"), (0.25, "buyback_blackout")]
    assert book.sleeves[0][1].params.target_vol == 0.2
    assert set(book.symbols) == {"SPY"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('strategy = "cta_trend"\n[costs]\nfees = 0.5', "invalid costs.fees = 0.5"),
        ('strategy = "cta_trend"\n[costs]\nfees = 0.5', "fix: set costs.fees to a value <= 0.1"),
        ('strategy = "cta_trend"\nmode = "turbo"', "invalid mode = 'turbo'"),
        ('strategy = "cta_trend"\nmode = "turbo"', "one of 'event' or 'vector'"),
        ('strategy = "cta_trend"\nspeed = 3', "unknown key speed"),
        ('strategy = "cta_trend"\n[costs]\nfee = 0.1', "unknown key costs.fee"),
        ('strategy = "nope"', "unknown strategy 'nope'"),
        ('strategy = "cta_trend"\nparams = { target_vol = 9 }', "target_vol"),
        ('strategy = "cta_trend"\nuniverse = "bonds"', "invalid universe = 'bonds'"),
        ('strategy = "cta_trend"\nuniverse = "memory"\nsymbols = ["SPY"]', "not both"),
        ('strategy = "buyback_blackout"\nuniverse = "crypto"', "does not trade universe"),
        ('strategy = "cta_trend"\nstart = 2020-01-02\nend = 2019-01-02', "before start"),
        (
            'strategy = "cta_trend"\n[[sleeves]]\nstrategy = "x"\nweight = 1',
            "for strategy = 'composite' only",
        ),
        (
            'strategy = "composite"\n[[sleeves]]\nstrategy = "cta_trend"\nweight = 0.8\n'
            '[[sleeves]]\nstrategy = "buyback_blackout"\nweight = 0.8',
            "sum to 1.6",
        ),
        ("universe = 'memory'", "missing key strategy"),
    ],
)
def test_config_mistakes_are_one_line(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        experiment(load_config(path), f"config {path}")
    message = str(info.value)
    assert needle in message and "\n" not in message
    assert "fix:" in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("strategy = ", "is not valid TOML"),
        ("strategy = 'a'\nstrategy = 'b'", "is not valid TOML"),
    ],
)
def test_unreadable_configs_are_one_line(tmp_path, text, needle):
    with pytest.raises(ValueError, match=needle) as info:
        load_config(write(tmp_path, text))
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "latin.toml").write_bytes(b"strategy = '\xe9'")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_config(tmp_path / "latin.toml")


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(-3, 3), max_size=3),
)
KEYS = st.sampled_from(
    [
        "strategy",
        "params",
        "universe",
        "symbols",
        "start",
        "end",
        "costs",
        "fill",
        "rebalance",
        "mode",
        "benchmark",
        "init_cash",
        "sleeves",
        "junk",
    ]
)


@PROPERTY
@given(settings=st.dictionaries(KEYS, VALUES, max_size=6))
def test_fuzzed_settings_give_an_experiment_or_one_line(settings):
    """Whatever a config holds: a valid experiment, or a one-line ValueError, never a
    traceback of another kind."""
    try:
        exp = experiment(dict(settings), "config fuzz.toml")
    except ValueError as exc:
        text = str(exc)
        assert text and "\n" not in text and "(config fuzz.toml)" in text
        return
    assert isinstance(exp, Experiment)
    exp.build_strategy()
    exp.backtest_config()
