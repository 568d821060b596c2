"""Quick PSNR check of a restoration model on validation photos, during or after training (prints JSON).

    python scripts/eval_restore.py RUN_DIR [--photos 4] [--crop 192] [--ship src/stylefuse/weights/restore]

RUN_DIR is a training folder of `stylefuse train conditional`: the EMA weights of its latest checkpoint are
measured (or its model folder with --folder). With --ship, the weights are written there as a model folder
(fp16) when their mean denoising PSNR beats the one recorded in that folder's config. The full comparison with
the classical baselines is benchmarks/restore.py.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from stylefuse.data.degrade import DEGRADATIONS, denoise
from stylefuse.data.splits import split
from stylefuse.hub import load_model, save_model
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.nn.conditional import ConditionalNet
from stylefuse.train.checkpoint import load_checkpoint

NETWORK_FIELDS = ("tasks", "channels", "wide_channels", "blocks", "rank")


def psnr(a: torch.Tensor, b: torch.Tensor, border: int = 0) -> float:
    if border:
        a, b = ops.crop_border(a, border), ops.crop_border(b, border)
    return -10 * math.log10(max(float((a - b).pow(2).mean()), 1e-12))


def from_checkpoint(run: Path, best: bool = False) -> tuple[ConditionalNet, dict, int]:
    """The EMA weights of RUN's checkpoint, or (``best``) its best validated weights."""
    state = load_checkpoint(run)
    config = {key: state["recipe"][key] for key in NETWORK_FIELDS}
    network = ConditionalNet(**config)
    if best:
        network.load_state_dict(torch.load(run / "best_generator.pt", weights_only=True))
        steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        scores = [(entry["validation"], entry["step"]) for entry in steps if "validation" in entry]
        return network.eval(), config, min(scores)[1]
    network.load_state_dict(state["ema"] or state["generators"]["G"])
    return network.eval(), config, state["step"]


@torch.no_grad()
def evaluate(network: ConditionalNet, photos: int, crop: int) -> dict[str, float]:
    files = split("photos").validation[:photos]
    generator = torch.Generator().manual_seed(0)
    scores: dict[str, list[float]] = {}
    for path in files:
        clean = read_image(path).rgb
        clean = ops.resize_long_side(clean, 512) if max(clean.shape[-2:]) > 512 else clean
        top, left = (clean.shape[1] - crop) // 2, (clean.shape[2] - crop) // 2
        clean = clean[:, max(0, top):max(0, top) + crop, max(0, left):max(0, left) + crop][None]
        for sigma in (15, 25, 50):
            noisy = denoise(clean, generator, sigma=sigma).input
            out = network(noisy, "denoise", None, float(sigma)).clamp(0, 1)
            scores.setdefault(f"denoise{sigma}", []).append(psnr(out, clean))
            scores.setdefault(f"noisy{sigma}", []).append(psnr(noisy, clean))
        for task in ("sr2", "sr4", "inpaint", "enhance"):
            if task not in network.tasks:
                continue
            pair = DEGRADATIONS[task](clean, generator)
            out = network(pair.input, task, pair.mask if task == "inpaint" else None).clamp(0, 1)
            y = ops.luminance
            scores.setdefault(task, []).append(psnr(y(out), y(clean), 4))
            scores.setdefault(f"{task}_input", []).append(psnr(y(pair.input), y(clean), 4))
    return {key: round(sum(values) / len(values), 3) for key, values in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--crop", type=int, default=192)
    parser.add_argument("--folder", action="store_true", help="measure RUN's model folder, not its checkpoint")
    parser.add_argument("--best", action="store_true", help="measure RUN's best validated weights")
    parser.add_argument("--ship", type=Path, help="write the weights here when they beat the folder's")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.folder:
        network, document = load_model(args.run)
        config, step = document["config"], document.get("steps")
    else:
        network, config, step = from_checkpoint(args.run, args.best)
    scores = evaluate(network, args.photos, args.crop)
    score = (scores["denoise15"] + scores["denoise25"] + scores["denoise50"]) / 3
    report = {"step": step, "denoise_mean": round(score, 3), **scores}
    if args.ship:
        previous = -math.inf
        if (args.ship / "config.json").is_file():
            previous = json.loads((args.ship / "config.json").read_text()).get("validation", {}).get(
                "denoise_mean", -math.inf)
        report["shipped"] = score > previous
        if score > previous:
            save_model(network, args.ship, "conditional_net", config,
                       extra={"method": "conditional", "value_range": "[0, 1]", "tasks": config["tasks"],
                              "steps": step, "recipe": "scripts/train_restore.sh (see weights/README.md)",
                              "validation": report})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
