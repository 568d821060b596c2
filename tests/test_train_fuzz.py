"""Fuzzed ``stylefuse train`` runs (every trainable method, tiny data or bad data folders, ``--steps 1``, options
at and past their limits): exit 0 with a model folder, or exit 2 with one ``error:`` line; no data file changes
(the full run is ``benchmarks/fuzz.py --train-examples``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzzing import short_run
from tests.fuzzing_train import check_train, train_cases


@short_run(4)
@given(train_cases())
def test_train_processes_or_refuses_on_one_line(case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_train(Path(folder), *case)


@pytest.mark.parametrize("method, options, expected", [
    ("cyclegan", ["--size", "100000"], "over the limit of 64 MP"),  # regression: tried to allocate 133 GB
    ("dcgan", ["--batch-size", "100000"], "over the limit of 64 MP"),
    ("fast", ["--set", "style_size=100000"], "style_size=100000 is 10000 MP"),
    ("cyclegan", ["--set", "base=1000000"], "past the limit of 1024"),  # regression: a 72 TB allocation
    ("cyclegan", ["--set", "base=1000"], "M weights, over the limit"),
    ("fast", ["--set", "blocks=100000"], "past the limit of 1024"),  # regression: built until memory ran out
    ("dcgan", ["--seed", "18446744073709551616"], "Invalid value for '--seed'"),  # regression: ValueError
])
def test_train_options_past_their_limits(method, options, expected, tmp_path) -> None:
    outcome, message = check_train(tmp_path, method, "good", options)
    assert outcome == "refused" and expected in message


def test_bad_data_folders(tmp_path) -> None:
    for kind, expected in (("empty", "no readable images"), ("pixel bomb", "no readable images"),
                           ("missing", "not a folder"), ("a file", "not a folder")):
        outcome, message = check_train(tmp_path, "dcgan", kind, [])
        assert outcome == "refused" and expected in message, (kind, message)
