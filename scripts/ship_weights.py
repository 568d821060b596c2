"""Copy a trained model folder into the package's shipped weights (maintainers' tool).

    python scripts/ship_weights.py styles  /path/to/fast-run    [--raw] [--note "recipe ..."]
    python scripts/ship_weights.py relu4_1 /path/to/inverter-run [--raw]
    python scripts/ship_weights.py style-statistics ../shared/data/bench/style

``style-statistics`` (re)computes the shipped styles' feature statistics (used to pick the nearest
style when personalising) from the folder that holds their source paintings.

``--raw`` ships the last trained weights from the run's checkpoint instead of the exported (EMA)
ones. The shipped folder keeps the run's config.json (network, constructor arguments, encoder id,
training record) and stores the weights in fp16.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from stylefuse.hub import load_model, read_config, save_model
from stylefuse.image.io import read_image
from stylefuse.methods.fast import FastRecipe, FastStyle
from stylefuse.methods.style_statistics import STATISTICS_FILE, save_statistics
from stylefuse.train.checkpoint import load_checkpoint

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "stylefuse" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="'styles', an inverter level (relu1_1 .. relu4_1) or 'style-statistics'")
    parser.add_argument("run", type=Path, help="the training run's model folder (style-statistics: the paintings)")
    parser.add_argument("--raw", action="store_true", help="use the checkpoint's last weights, not the EMA")
    parser.add_argument("--set", action="append", default=[], help="KEY=JSON to add to the config record")
    args = parser.parse_args()
    if args.target == "style-statistics":
        ship_style_statistics(args.run)
        return
    model, document = load_model(args.run)
    if args.raw:
        state = load_checkpoint(args.run)["generators"]
        model.load_state_dict({k[len("G."):]: v for k, v in state.items() if k.startswith("G.")})
    extra = {k: v for k, v in document.items() if k not in ("format_version", "network", "config")}
    extra["weights"] = "last" if args.raw else "ema"
    for item in args.set:
        key, _, value = item.partition("=")
        extra[key] = json.loads(value)
    folder = WEIGHTS / "styles" if args.target == "styles" else WEIGHTS / "inverters" / args.target
    save_model(model.to(torch.float32), folder, document["network"], document["config"], extra=extra)
    statistics = args.run / STATISTICS_FILE
    if statistics.is_file():  # a multi-style run describes its styles: ship that too, never a stale one
        shutil.copyfile(statistics, folder / STATISTICS_FILE)
    print(f"shipped {folder} ({(folder / 'model.safetensors').stat().st_size / 2**20:.2f} MiB)")
    print(json.dumps(read_config(folder), indent=1)[:600])


def ship_style_statistics(paintings: Path) -> None:
    """Describe the shipped styles from their source paintings (named in the shipped config)."""
    folder = WEIGHTS / "styles"
    document = read_config(folder)
    task = FastStyle(FastRecipe())
    task.set_styles([read_image(paintings / name).rgb for name in document["style_sources"]], document["style_names"])
    path = save_statistics(folder, task.style_statistics)
    print(f"shipped {path} ({path.stat().st_size / 2**10:.0f} KiB)")


if __name__ == "__main__":
    main()
