"""The stylizer interface's options: read from constructor signatures, typed ``--set`` values, one-line
refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from stylefuse.errors import OptionError
from stylefuse.methods._base import check_options, convert_value, option_defaults, parse_assignment


class Example:
    def __init__(self, size: int | None = 512, weight: float = 1.0, name: str = "a", flag: bool = False,
                 layers: Sequence[str] = ("x",), folder: Path | None = None, progress: bool = False) -> None:
        pass


def test_options_come_from_the_signature_without_wiring() -> None:
    options = option_defaults(Example)
    assert list(options) == ["size", "weight", "name", "flag", "layers", "folder"]
    assert options["size"][0] == 512


@pytest.mark.parametrize("text, expected", [
    ("size=256", ("size", 256)), ("size=none", ("size", None)), ("weight=2", ("weight", 2.0)),
    ("name=b=c", ("name", "b=c")), ("flag=true", ("flag", True)), ("flag=0", ("flag", False)),
    ("layers=relu1_1,relu2_1", ("layers", ["relu1_1", "relu2_1"])), ('layers=["a"]', ("layers", ["a"])),
    ("folder=/tmp/x", ("folder", Path("/tmp/x"))), ("weight-x=1", None),
])
def test_assignments_are_typed(text, expected) -> None:
    if expected is None:
        with pytest.raises(OptionError, match="--set takes KEY=VALUE with KEY one of flag, folder"):
            parse_assignment(text, Example, "example")
    else:
        assert parse_assignment(text, Example, "example") == expected


@pytest.mark.parametrize("raw, annotation, message", [
    ("abc", int, "'abc' is not a valid int"), ("1.5.2", float, "not a valid float"),
    ("maybe", bool, "not a valid bool"), ("[1,", list, "not a valid list"),
])
def test_bad_values_are_one_line_errors(raw, annotation, message) -> None:
    with pytest.raises(OptionError, match=message):
        convert_value("key", raw, None, annotation)


def test_unknown_options_are_named_as_on_the_command_line() -> None:
    check_options(Example, "example", {"size": 1})
    with pytest.raises(OptionError, match=r"method example does not take style-scale \(its options: flag, folder"):
        check_options(Example, "example", {"style_scale": 2.0})
