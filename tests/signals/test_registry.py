"""The registry lists signals by name with a one-line description."""

from __future__ import annotations

import pytest

from signals import registry
from signals.registry import get_signal, list_signals, register


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown signal 'nope'; known signals: .*"):
        get_signal("nope")


def test_every_signal_has_a_one_line_description():
    specs = list_signals()
    assert [s.name for s in specs] == sorted(s.name for s in specs)
    for spec in specs:
        assert spec.description and "\n" not in spec.description
        assert get_signal(spec.name) is spec


def test_register_rejects_a_second_function_under_the_same_name(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})

    @register("demo", "a demo signal")
    def demo(md):
        return md

    assert get_signal("demo")(7) == 7
    with pytest.raises(ValueError, match="already registered"):

        @register("demo", "another")
        def other(md):
            return md


def test_register_needs_a_one_line_description():
    with pytest.raises(ValueError, match="one-line description"):
        register("x", "two\nlines")
