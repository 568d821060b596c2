"""Speed and quality cost of exporting the built-in multi-style network: PyTorch eager vs ONNX Runtime fp32 vs
ONNX Runtime with int8 dynamic quantisation (``stylefuse export --int8``), at 512 px on held-out bench photos.
Quality: PSNR of each runtime's result against PyTorch's, and the content / style losses of the benchmarks
(relative VGG16 feature and Gram errors against the photo and the style's painting). Prints JSON.
Needs ../shared/data/bench.

    python benchmarks/export.py [--size 512 --photos 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import torch

from stylefuse import hub
from stylefuse.builtin import STYLES_FOLDER
from stylefuse.frontends.export import export_model
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.metrics.content import psnr
from stylefuse.onnx_runtime import session

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, QualityLosses, median_seconds, require_bench, save_result  # noqa: E402


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/export-{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    stylizer = hub.load(STYLES_FOLDER)
    network, names = stylizer.runner.network.cpu(), stylizer.names
    sources = stylizer.document.get("style_sources") or []
    folder = Path(tempfile.mkdtemp())
    files = {"onnx_fp32": export_model(STYLES_FOLDER, folder / "fp32.onnx"),
             "onnx_int8": export_model(STYLES_FOLDER, folder / "int8.onnx", int8=True)}
    sessions = {key: session(path, torch.get_num_threads()) for key, path in files.items()}
    quality = QualityLosses()
    painting = read_image(BENCH / "style" / sources[0]).rgb
    style = torch.zeros(1, len(names))
    style[0, 0] = 1.0
    rows: dict[str, dict[str, list[float]]] = {key: {"ms": [], "psnr": [], "content": [], "style": []}
                                               for key in ("torch", *files)}
    for name in HELD_OUT[: args.photos]:
        photo = ops.resize_long_side(read_image(BENCH / "content" / f"{name}.jpg").rgb, args.size).clamp(0, 1)
        image = ops.pad_to_multiple(photo[None], network.stride, reflect=True)
        runners = {"torch": lambda image=image: network(image, style)}
        for key, runner in sessions.items():
            runners[key] = lambda runner=runner, image=image: torch.from_numpy(
                runner.run(None, {"image": image.numpy(), "style": style.numpy()})[0])
        reference = runners["torch"]()
        for key, run in runners.items():
            result = run()
            rows[key]["ms"].append(1000 * median_seconds(run, runs=args.runs))
            rows[key]["psnr"].append(float(psnr(result, reference)[0]))
            losses = quality(result[0, :, : photo.shape[1], : photo.shape[2]], photo, painting)
            rows[key]["content"].append(losses["content"])
            rows[key]["style"].append(losses["style"])
    result = {"benchmark": "export", "size": args.size, "photos": args.photos, "style": names[0],
              "threads": torch.get_num_threads(),
              "file_mb": {key: round(path.stat().st_size / 1e6, 2) for key, path in files.items()},
              "runtimes": {key: {metric: round(statistics.median(values), 3) if metric == "ms"
                                 else round(float(np.mean(values)), 4) for metric, values in row.items()}
                           for key, row in rows.items()}}
    save_result(result, args.out)


if __name__ == "__main__":
    main()
