"""The band along the image border (issue 20 §4), with and without the mirrored border of adain / wct:
the mean luminance of the outermost 16 px of the sky minus that of the next 16 px (photo's own value
for reference), on the tests' synthetic sky (128 px) and a bench photo with a sky (256 px), for 4
paintings (fast: its 11 built-in styles); then, at 512 px, the time the border costs and how far it
moves the result away from the border (mean absolute difference beyond 64 px from the edges). Prints
JSON. Needs ../shared/data/bench.

    python benchmarks/border_band.py
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import torch

from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.methods.fast import FastStylizer
from stylefuse.registry import METHODS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds the sky and the measure
from tests.helpers import border_band, sky_photo  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, median_seconds, require_bench, save_result  # noqa: E402
from arbitrary import STYLES  # noqa: E402

PHOTO = "landscape_storm_road"
BORDERS = (0, 32)


def bands(photo: torch.Tensor, rows: int, paintings: list[torch.Tensor], cache: StyleStatsCache) -> dict:
    """Border band of the photo, of each method's result for each painting, and of fast's worst style."""
    result: dict = {"photo": round(border_band(photo, rows), 4)}
    for method in ("adain", "wct"):
        for border in BORDERS:
            stylizer = METHODS.create(method, cache=cache, border=border)
            result[f"{method} border {border}"] = [round(border_band(stylizer.stylize(photo, [painting]), rows), 4)
                                                   for painting in paintings]
    fast = FastStylizer(backend="torch")
    values = [border_band(fast.stylize(photo, [name]), rows) for name in fast.names]
    result["fast (worst of its styles)"] = round(max(values, key=abs), 4)
    return result


def cost(photo: torch.Tensor, painting: torch.Tensor, cache: StyleStatsCache, runs: int) -> dict:
    """Seconds without and with the border, and the mean absolute change beyond 64 px from the edges."""
    result = {}
    for method in ("adain", "wct"):
        stylizers = {border: METHODS.create(method, cache=cache, border=border) for border in BORDERS}
        seconds = {border: median_seconds(lambda s=s: s.stylize(photo, [painting]), runs=runs)
                   for border, s in stylizers.items()}
        before, after = (ops.crop_border(stylizers[border].stylize(photo, [painting]), 64) for border in BORDERS)
        result[method] = {"seconds": {f"border {b}": round(t, 3) for b, t in seconds.items()},
                          "inner_mean_abs_change": round(float((after - before).abs().mean()), 4)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="long side of the timing run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    require_bench(args.threads)
    cache = StyleStatsCache()
    paintings = [ops.resize_long_side(read_image(BENCH / "style" / f"{name}.jpg").rgb, 256) for name in STYLES]
    photo = read_image(BENCH / "content" / f"{PHOTO}.jpg").rgb
    small = ops.resize_long_side(photo, 256).clamp(0, 1)
    save_result({"benchmark": "border_band", "styles": list(STYLES), "band_width": 16,
                 "synthetic sky 128": bands(sky_photo(128), 48, paintings, cache),
                 f"{PHOTO} 256": bands(small, small.shape[-2] * 2 // 5, paintings, cache),
                 f"cost at {args.size}": cost(ops.resize_long_side(photo, args.size).clamp(0, 1), paintings[0], cache,
                                             args.runs)},
                args.out or Path(f"benchmarks/results/border_band-{date.today()}.json"))


if __name__ == "__main__":
    main()
