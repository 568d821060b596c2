"""Content / style errors of an arbitrary-style method at several strengths, on the 4 x 4 photo /
painting pairs of benchmarks/arbitrary.py at 512 px (relative VGG16 errors, lower is better: content
at relu3_3, Gram style at relu1_2..relu4_3). Prints JSON; writes the first photo at each strength.
Needs ../shared/data/bench.

    python benchmarks/wct_strength.py --strengths 1,0.7,0.5,0.25
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

from stylefuse.image import ops
from stylefuse.image.io import read_image, write_image
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.registry import METHODS

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, QualityLosses, require_bench, save_result  # noqa: E402
from arbitrary import STYLES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="wct", choices=("adain", "wct"))
    parser.add_argument("--strengths", default="1,0.7,0.5,0.25")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("out/bench_strength"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    require_bench(args.threads)
    losses, cache = QualityLosses(), StyleStatsCache()
    strengths = [float(value) for value in args.strengths.split(",")]
    rows: dict[float, list[dict]] = {strength: [] for strength in strengths}
    for photo_name in HELD_OUT[:4]:
        photo = ops.resize_long_side(read_image(BENCH / "content" / f"{photo_name}.jpg").rgb, args.size).clamp(0, 1)
        for style_name in STYLES:
            painting = read_image(BENCH / "style" / f"{style_name}.jpg").rgb
            for strength in strengths:
                result = METHODS.create(args.method, cache=cache, strength=strength).stylize(photo, [painting])
                rows[strength].append(losses(result, photo, painting))
                if photo_name == HELD_OUT[0]:
                    write_image(args.work / f"{args.method}-{strength}-{style_name}.jpg", result)
    summary = {str(strength): {key: round(statistics.mean(r[key] for r in records), 3) for key in ("content", "style")}
               for strength, records in rows.items()}
    save_result({"benchmark": "strength", "method": args.method, "size": args.size, "pairs": len(rows[strengths[0]]),
                 "errors": summary},
                args.out or Path(f"benchmarks/results/strength-{args.method}-{date.today()}.json"))


if __name__ == "__main__":
    main()
