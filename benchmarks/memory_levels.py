"""Where an arbitrary-style run's memory goes: the resident set size of this process, sampled every
5 ms while one big photo is stylized, reported per level and phase (content statistics, transform +
inversion). Prints JSON (MiB). Needs ../shared/data/bench.

    python benchmarks/memory_levels.py --method wct --side 4096 --threads 1
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from datetime import date
from pathlib import Path

from PIL import Image

import stylefuse
from stylefuse.methods._feature_transfer import FeatureTransferStylizer

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench, save_result  # noqa: E402


class PhasePeaks:
    """Peak RSS per phase label, from a sampling thread."""

    def __init__(self) -> None:
        self.phase, self.peaks = "start", {}
        threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def rss_mib() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20

    def _sample(self) -> None:
        while True:
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), self.rss_mib())
            time.sleep(0.005)


def label_levels(peaks: PhasePeaks) -> None:
    """Make the stylizer announce its levels and phases."""
    transfer, statistics = FeatureTransferStylizer._transfer_level, FeatureTransferStylizer._content_stats

    def labelled_transfer(self, image, level, *args):
        peaks.phase = f"{level}: statistics"
        result = transfer(self, image, level, *args)
        peaks.phase = f"{level}: done"
        return result

    def labelled_statistics(self, image, level, *args):
        result = statistics(self, image, level, *args)
        peaks.phase = f"{level}: transform and invert"
        return result

    FeatureTransferStylizer._transfer_level = labelled_transfer
    FeatureTransferStylizer._content_stats = labelled_statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="wct", choices=("adain", "wct"))
    parser.add_argument("--side", type=int, default=4096)
    parser.add_argument("--tile", type=int, default=None, help="tile size (default: the method's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    require_bench(args.threads)
    peaks = PhasePeaks()
    label_levels(peaks)
    photo = Image.open(BENCH / "content" / f"{HELD_OUT[1]}.jpg").convert("RGB").resize((args.side, args.side))
    painting = Image.open(BENCH / "style" / "hokusai_great_wave.jpg").convert("RGB")
    peaks.phase = "inputs loaded"
    options = {"tile": args.tile} if args.tile else {}
    stylefuse.stylize(photo, painting, method=args.method, **options)
    peaks.phase = "end"
    time.sleep(0.05)
    result = {"benchmark": "memory_levels", "method": args.method, "side": args.side, "tile": args.tile or "default",
              "threads": args.threads, "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "phases_mib": {phase: round(value) for phase, value in peaks.peaks.items()}}
    save_result(result, args.out or Path(f"benchmarks/results/memory_levels-{args.method}-{date.today()}.json"))


if __name__ == "__main__":
    main()
