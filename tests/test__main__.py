"""``python -m stylefuse`` is the ``stylefuse`` command."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def _module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stylefuse", *args], capture_output=True, text=True, timeout=120)


def test_version() -> None:
    result = _module("--version")
    assert result.returncode == 0 and version("stylefuse") in result.stdout


def test_a_user_error_is_one_line_and_exit_2() -> None:
    result = _module("stylize", "no-such-photo.png", "-s", "no-such-style.png", "-o", "out.png")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
