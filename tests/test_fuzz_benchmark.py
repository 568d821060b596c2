"""``benchmarks/fuzz.py``, short: a few fuzzed files, ``stylize`` and ``train`` runs in a child process under the
address-space cap, and the declared-size bombs of every format refused without the peak memory growing (slow:
about a minute here; the in-process fuzz tests of ``make test`` check the same properties without the cap)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py"


def test_the_fuzz_benchmark_runs_under_its_memory_cap() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--examples", "60", "--cli-examples", "3",
                           "--train-examples", "1", "--memory-cap-gb", "6"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["memory_cap_gb"] == 6 and result["peak_address_space_mb"] < 6 * 1024
    assert result["bombs"]["bombs"] >= 15 and result["bombs"]["refused"] == result["bombs"]["bombs"]
    assert result["bombs"]["peak_growth_mb"] < 20
    for part in ("read_image", "stylize", "train"):
        assert result[part]["crashed"] == 0 and result[part]["out_of_memory"] == 0, result[part]

