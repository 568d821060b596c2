"""Reconstruction quality of the shipped VGG16 inverters on the 5 held-out bench photos at 512 px:
photo -> VGG16 features at the level -> inverter -> image, PSNR (dB) and SSIM (luminance) per level
and photo (target: relu4_1 PSNR >= 20 dB). Prints JSON; writes a picture of the reconstructions.
Needs ../shared/data/bench.

    python benchmarks/inverters.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

import torch

from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.hub import load_model
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods._feature_transfer import INVERTER_FOLDER
from stylefuse.metrics.content import psnr, ssim

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench, save_result, save_sheet  # noqa: E402

LEVELS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--inverters", type=Path, default=INVERTER_FOLDER)
    parser.add_argument("--sheet", type=Path, default=Path("out/bench_inverters/reconstructions.jpg"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/inverters-{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    encoder = MultiLayerEncoder(LEVELS)
    inverters = {level: load_model(args.inverters / level)[0] for level in LEVELS}
    result: dict = {"benchmark": "inverters", "size": args.size, "levels": {}}
    cells = []
    for name in HELD_OUT:
        photo = ops.resize_long_side(read_image(BENCH / "content" / f"{name}.jpg").rgb, args.size).clamp(0, 1)
        photo = photo[:, : photo.shape[1] // 8 * 8, : photo.shape[2] // 8 * 8]
        features = encoder(photo[None])
        cells.append((name[:20], photo))
        for level in LEVELS:
            image = inverters[level](features[level]).clamp(0, 1)
            record = result["levels"].setdefault(level, {"psnr": {}, "ssim": {}})
            record["psnr"][name] = round(float(psnr(image, photo[None])[0]), 2)
            record["ssim"][name] = round(float(ssim(ops.luminance(image), ops.luminance(photo[None]))[0]), 4)
            cells.append((level, image[0]))
    for level, record in result["levels"].items():
        record["mean_psnr"] = round(statistics.mean(record["psnr"].values()), 2)
        record["mean_ssim"] = round(statistics.mean(record["ssim"].values()), 4)
        record["parameters"] = sum(p.numel() for p in inverters[level].parameters())
    result["sheet"] = save_sheet(args.sheet, cells, columns=len(LEVELS) + 1)
    save_result(result, args.out)


if __name__ == "__main__":
    main()
