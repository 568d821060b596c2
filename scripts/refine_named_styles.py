"""Refine named styles of the shipped multi-style network on their own paintings (maintainers' tool).

    python scripts/refine_named_styles.py ../shared/data/bench/style --runs runs/refine --out runs/styles-refined \
        --style-weight 15 [--names udnie,grande-jatte] [--max-minutes 2]
    cp runs/styles-refined/model.safetensors runs/styles-refined/config.json src/stylefuse/weights/styles/

Each named style (default: all) is personalised from its source painting (``stylefuse personalize``: its own
table as the warm start, only the style's tables trained, 50 L-BFGS steps on fixed crops of the training split's
photos, ``--style-weight``), then its refined table replaces the style's row in a copy of the shipped folder;
the trunk, the predictor and the other styles stay as they are. A style whose run folder holds a model is not
trained again, so an interrupted refinement goes on where it stopped. The written folder keeps the shipped
config's records (plus ``refined_styles``) and is shipped by copying it (``ship_weights.py`` would relabel the
weights as a run's EMA).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from stylefuse.builtin import STYLES_FOLDER
from stylefuse.data.folders import link_folder
from stylefuse.data.splits import split
from stylefuse.hub import load_model, save_model
from stylefuse.methods.personalize import personalize_model
from stylefuse.methods.style_statistics import STATISTICS_FILE


def refined_row(run: Path, base_styles: int) -> dict[str, torch.Tensor]:
    """The personalised style's table (the last row of every per-style parameter) of the model in ``run``, a
    base of ``base_styles`` styles plus the personalised one."""
    network, document = load_model(run)
    if document["config"]["num_styles"] != base_styles + 1:
        raise SystemExit(f"{run} holds {document['config']['num_styles']} styles, not the shipped ones and one more")
    return {key: value[-1] for key, value in network.state_dict().items() if value.shape[:1] == (base_styles + 1,)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paintings", type=Path, help="the folder holding the styles' source paintings")
    parser.add_argument("--runs", type=Path, required=True, help="one personalisation run folder per style")
    parser.add_argument("--out", type=Path, required=True, help="the refined model folder to write")
    parser.add_argument("--names", default="", help="comma-separated styles to refine (default: all)")
    parser.add_argument("--style-weight", type=float, default=15.0)
    parser.add_argument("--max-minutes", type=float, default=None, help="time budget of each style's run")
    args = parser.parse_args()
    network, document = load_model(STYLES_FOLDER)
    names, sources = document["style_names"], document["style_sources"]
    chosen = args.names.split(",") if args.names else names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown style {unknown[0]!r}; the shipped styles are {', '.join(names)}")
    photos = link_folder(args.runs / "train-photos", split("photos").train)
    state = network.state_dict()
    for name in chosen:
        run = args.runs / name
        if not (run / "model.safetensors").is_file():
            personalize_model([args.paintings / sources[names.index(name)]], run, name=f"{name}-refined",
                              data=photos, style_weight=args.style_weight, max_minutes=args.max_minutes,
                              overwrite=True, progress=False)
        for key, row in refined_row(run, len(names)).items():
            state[key][names.index(name)] = row  # the state dict shares the network's storage
        print(f"refined {name}", flush=True)
    extra = {key: value for key, value in document.items() if key not in ("format_version", "network", "config")}
    extra["refined_styles"] = {"styles": chosen, "style_weight": args.style_weight, "max_minutes": args.max_minutes,
                               "how": "scripts/refine_named_styles.py: norm-only personalisation from each "
                                      "style's own painting and table, training photos"}
    save_model(network, args.out, document["network"], document["config"], extra=extra)
    shutil.copyfile(STYLES_FOLDER / STATISTICS_FILE, args.out / STATISTICS_FILE)
    print(json.dumps({"out": str(args.out), "refined": chosen}))


if __name__ == "__main__":
    main()
