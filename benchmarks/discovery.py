"""How long `stylefuse list` and `stylefuse --help` take as processes (target: under 0.3 s), beside the
cost of starting Python and of importing PyTorch, measured in the same run.

    python benchmarks/discovery.py --runs 9
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

COMMANDS = {
    "python_startup": [sys.executable, "-c", "pass"],
    "import_torch": [sys.executable, "-c", "import torch"],
    "stylefuse_help": [sys.executable, "-m", "stylefuse", "--help"],
    "stylefuse_stylize_help": [sys.executable, "-m", "stylefuse", "stylize", "--help"],
    "stylefuse_list": [sys.executable, "-m", "stylefuse", "list"],
}


def median_wall(command: list[str], runs: int) -> float:
    """Median wall time in seconds of ``runs`` runs of a process (after one warm-up run)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/discovery-{date.today()}.json"))
    args = parser.parse_args()
    result = {"benchmark": "discovery", "runs": args.runs,
              "seconds": {name: round(median_wall(command, args.runs), 3) for name, command in COMMANDS.items()}}
    result["target_met"] = max(result["seconds"][name] for name in ("stylefuse_help", "stylefuse_list")) < 0.3
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
