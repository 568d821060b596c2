"""``benchmarks/kill_resume.py``, short: three SIGKILLs of a tiny dcgan run (the full run covers every method)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "kill_resume.py"


def test_killed_runs_resume_exactly() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--kills", "3", "--methods", "dcgan", "--steps", "12"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)["methods"]["dcgan"]
    assert result["kills"] + result["finished_before_kill"] == 3
    assert result["kills"] >= 2 and result["exact_resume"] and result["max_steps_lost"] <= 1
