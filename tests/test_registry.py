"""The registry: names and summaries read from source without imports, lazy imports on use, aliases."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from stylefuse.errors import OptionError
from stylefuse.registry import METHODS, NETWORKS, TRAINABLE, Registry, _registered_names
from tests.nn import (
    test_conditional,
    test_discriminators,
    test_fast_stylizer,
    test_gate,
    test_generators,
    test_inverter,
    test_mixing,
)


def test_declared_names_match_the_registered_ones() -> None:
    expected = {"gatys", "adain", "wct", "fast", "cyclegan", "pix2pix", "adversarial_style", "dcgan"}
    assert expected <= set(METHODS.names())
    assert "inverter" not in METHODS.names() and "personalize" not in METHODS.names()  # aliases are not listed
    for name in METHODS.names():
        assert METHODS.get(name).__name__  # every declared name is really registered by its module
    assert set(TRAINABLE.names()) >= {"fast", "inverter", "personalize", "cyclegan"}


def test_aliases_resolve_to_the_same_class() -> None:
    assert METHODS.get("inverter") is METHODS.get("adain")
    assert METHODS.get("personalize") is METHODS.get("fast")


def test_summaries_need_no_import() -> None:
    code = textwrap.dedent("""
        import sys
        from stylefuse.registry import METHODS
        print(METHODS.summary("gatys")); print("stylefuse.methods.gatys" in sys.modules, "torch" in sys.modules)
    """)
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.splitlines()
    assert lines[0].startswith("Gatys style transfer") and lines[1] == "False False"


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(OptionError, match="unknown method 'nope'; known: adain, "):
        METHODS.get("nope")


def test_runtime_registration_and_duplicates() -> None:
    registry = Registry("thing")
    registry.register("a", aliases=("old-a",))(int)
    assert registry.names() == ["a"] and registry.get("old-a") is int and registry.summary("a").startswith("int(")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("a")(float)


def test_decorators_are_parsed_with_their_aliases() -> None:
    import ast

    decorator = ast.parse('@METHODS.register("x", aliases=("y", "z"))\nclass C: pass').body[0].decorator_list[0]
    assert _registered_names(decorator, "METHODS") == [("x", False), ("y", True), ("z", True)]
    assert _registered_names(decorator, "TRAINABLE") == []


def test_every_network_has_a_round_trip_case() -> None:
    modules = (test_conditional, test_discriminators, test_fast_stylizer, test_gate, test_generators, test_inverter,
               test_mixing)
    assert set(NETWORKS.names()) == {name for module in modules for name in module.CASES}
