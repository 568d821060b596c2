"""Copy a trained model folder into the package's shipped weights (maintainers' tool).

    python scripts/ship_weights.py styles  /path/to/fast-run    [--raw] [--note "recipe ..."]
    python scripts/ship_weights.py relu4_1 /path/to/inverter-run [--raw]

``--raw`` ships the last trained weights from the run's checkpoint instead of the exported (EMA)
ones. The shipped folder keeps the run's config.json (network, constructor arguments, encoder id,
training record) and stores the weights in fp16.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from stylefuse.hub import load_model, read_config, save_model
from stylefuse.train.checkpoint import load_checkpoint

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "stylefuse" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="'styles' or an inverter level (relu1_1 .. relu4_1)")
    parser.add_argument("run", type=Path, help="the training run's model folder")
    parser.add_argument("--raw", action="store_true", help="use the checkpoint's last weights, not the EMA")
    parser.add_argument("--set", action="append", default=[], help="KEY=JSON to add to the config record")
    args = parser.parse_args()
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
    print(f"shipped {folder} ({(folder / 'model.safetensors').stat().st_size / 2**20:.2f} MiB)")
    print(json.dumps(read_config(folder), indent=1)[:600])


if __name__ == "__main__":
    main()
