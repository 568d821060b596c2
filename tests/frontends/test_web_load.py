"""``benchmarks/web_load.py``, short: `stylefuse serve` on loopback under 10 concurrent requests and each attack
once (about 15-40 s here, most of it the server's start; the test extra installs the web extra, so it runs in
``make test``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stylefuse.builtin import builtin_style_names

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "web_load.py"


def test_load_and_attacks_are_answered_and_nothing_is_written_outside() -> None:
    pytest.importorskip("gradio")
    pytest.importorskip("httpx")
    if not builtin_style_names():
        pytest.skip("this installation ships no built-in styles")
    done = subprocess.run([sys.executable, str(SCRIPT), "--requests", "10", "--waves", "1", "--queue-size", "4"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    wave = result["waves"][0]
    assert wave["handled"] + wave["busy"] == 10 and wave["handled"] >= 2 and wave["busy"] >= 1
    assert result["failed"] == 0 and all(attack["ok"] for attack in result["attacks"].values())
    assert result["written_outside"] == [] and result["folder_removed_at_exit"]
    assert result["peak_rss_mb"] < 3000
