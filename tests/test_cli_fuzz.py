"""Fuzzed files and option values through ``stylefuse stylize``: exit 0 with the result written, or exit 2 with
one ``error:`` line; the input file is never changed (the full run is ``benchmarks/fuzz.py``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import check_cli, cli_options, encode, fuzzed_files, picture, short_run

OUTPUT_IS_INPUT = st.sampled_from([False] * 9 + [True])
"""Now and then, ``-o`` names the input file itself."""


@short_run(60)
@given(fuzzed_files(), cli_options(), OUTPUT_IS_INPUT)
def test_stylize_processes_or_refuses_on_one_line(item, options, output_is_input) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_cli(Path(folder), *item, options, output_is_input)


@pytest.mark.parametrize("options,expected", [
    (["--size", "2000000"], "over the limit of 64 MP"),  # regression: tried to allocate 34 TB (traceback)
    (["--set", "strength=0.5"], "give the strength with --strength"),  # regression: TypeError in api.prepare
    (["--strength", "0.5", "--set", "model=."], "give the model with --model"),
    (["--strength", "nan"], "Invalid value for '--strength'"),
    (["--max-pixels", "34"], "over the limit"),
])
def test_options_past_their_limits(options, expected, tmp_path) -> None:
    outcome, message = check_cli(tmp_path, ".png", encode(picture("RGB"), "PNG"), options)
    assert outcome == "refused" and expected in message


def test_options_at_their_limits(tmp_path) -> None:
    data = encode(picture("RGBA"), "PNG")
    for options in (["--size", "16"], ["--strength", "0"], ["--strength", "1"], ["--max-pixels", "35"]):
        assert check_cli(tmp_path, ".png", data, options)[0] == "processed", options
