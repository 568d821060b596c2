"""Fuzzed ``stylefuse train`` runs for ``tests/test_train_fuzz.py`` and ``benchmarks/fuzz.py --train-examples``.

Each run is one trainable method on tiny data (or a bad data folder) with its tiny recipe, ``--steps 1``, and up
to three options at and past their limits. :func:`check_train` states the property: exit 0 with a model folder
written, or exit 2 with one ``error:`` line, the last (notices such as ``skipped FILE`` may come before it; no
traceback or warning); no data file is changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzzing import encode, huge_png, picture, run_main
from tests.test_cli_train import TINY

TRAIN_OPTION_VALUES = {
    "--steps": ["0", "-1", "abc", "1", "2"],
    "--size": ["0", "-1", "1", "8", "15", "16", "17", "100000", "abc"],
    "--batch-size": ["0", "-1", "1", "3", "100000", "abc"],
    "--accumulate": ["0", "2", "3", "64"],
    "--lr": ["0", "-1", "nan", "inf", "1e-12", "1e30", "abc"],
    "--set": ["base=0", "base=-1", "base=1000000", "blocks=0", "blocks=1025", "nonsense=1", "=", "base=",
              "base=abc", "lambda_cycle=nan", "channels=[4]", "channels=[]", "style_size=100000", "pool=-1"],
    "--checkpoint-every": ["0", "-1"],
    "--sample-every": ["0", "1", "-1"],
    "--max-minutes": ["0", "-1", "nan"],
    "--gan-loss": ["hinge", "wgan"],
    "--diff-augment": ["color", "nonsense", ""],
    "--r1": ["0", "-1", "nan"],
    "--seed": ["-1", "18446744073709551615", "18446744073709551616"],
    "--device": ["cuda:99", "tpu"],
    "--level": ["relu9_9", "relu1_1"],
}
"""Options of ``train`` with values at and past their limits."""

DATA_KINDS = ("good", "good", "good", "empty", "not images", "a file", "missing", "tiny images", "pixel bomb")
"""What the data folders hold (a good folder three times as often)."""


@st.composite
def train_cases(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """(method, kind of data, options) of one fuzzed ``train`` run."""
    method = draw(st.sampled_from(sorted(TINY)))
    args: list[str] = []
    for flag in draw(st.lists(st.sampled_from(sorted(TRAIN_OPTION_VALUES)), max_size=3)):
        args += [flag, draw(st.sampled_from(TRAIN_OPTION_VALUES[flag]))]
    return method, draw(st.sampled_from(DATA_KINDS)), args


def make_folder(folder: Path, kind: str, offset: int) -> Path:
    """A data folder of ``kind`` (see :data:`DATA_KINDS`) at ``folder``."""
    if kind == "missing":
        return folder
    if kind == "a file":
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_bytes(encode(picture("RGB"), "PNG"))
        return folder
    folder.mkdir(parents=True)
    for index in range(0 if kind == "empty" else 3):
        name = folder / f"{index}.png"
        if kind == "not images":
            name.write_bytes(b"not an image %d\n" % index)
        elif kind == "pixel bomb":
            name.write_bytes(huge_png(100_000, 100_000))
        elif kind == "tiny images":
            name.write_bytes(encode(picture("RGB").resize((3, 2)), "PNG"))
        else:
            name.write_bytes(encode(picture("RGB").resize((36 + index, 40)).rotate(90 * (index + offset)), "PNG"))
    return folder


def check_train(folder: Path, method: str, kind: str, options: list[str]) -> tuple[str, str]:
    """Run ``stylefuse train METHOD`` in this process on fresh data in ``folder`` (emptied first).

    Returns:
        ("processed", "") for exit 0 with a model folder written, or ("refused", the error line) for exit 2.

    Raises:
        AssertionError: another exit status, not exactly one ``error:`` line (the last) on exit 2, a traceback
            or warning on stderr, or a data file changed.
        Exception: an exception escaped ``main`` (a crash).
    """
    from stylefuse.registry import TRAINABLE

    shutil.rmtree(folder, ignore_errors=True)
    data = []
    for index, name in enumerate(TRAINABLE.get(method).data_folders):
        path = make_folder(folder / name, kind if index == 0 else "good", index)
        data += [f"--{name}", str(path)]
    before = _contents(folder)
    out = folder / "out"
    argv = ["train", method, *data, "--size", "32", "--steps", "1", "--out", str(out), "-q", "--checkpoint-every",
            "0", "--sample-every", "0", *TINY[method], *options]
    code, lines = run_main(argv)
    errors = [line for line in lines if line.startswith("error: ")]
    assert _contents(folder, skip=out) == before, f"a data file changed: {argv}"
    assert code in (0, 2), f"exit {code} for {argv}: {lines}"
    assert not any("Traceback" in line or "Warning" in line for line in lines), f"{argv}: {lines}"
    if code == 2:
        assert len(errors) == 1 and lines[-1] == errors[0], f"{argv}: {lines}"
        return "refused", errors[0]
    assert not errors, f"{argv} succeeded but printed {lines}"
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file(), argv
    return "processed", ""


def _contents(folder: Path, skip: Path | None = None) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and (skip is None or not path.is_relative_to(skip))}
