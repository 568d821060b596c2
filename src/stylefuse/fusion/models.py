"""Model fusion: several model folders into one (``stylefuse fuse``).

- ``interpolate``: the weighted average of the parameters of folders with one network and config (network
  interpolation, Wang et al. 2019, "Deep Network Interpolation for Continuous Imagery Effect Transition";
  ESRGAN's ``net_interp``), written as an ordinary model folder of the same method.
- ``layer-swap``: coarse layers mostly from the first model, fine layers mostly from the second, with one
  blend factor per group (Pinkney & Adler 2020, "Resolution Dependent GAN Interpolation for Controllable
  Image Synthesis Between Domains"), for networks that name their groups (``layer_groups()``).
- ``ensemble``: an output-space blend of any stylizers (:mod:`stylefuse.methods.ensemble`).

Parameter-space modes need related folders (shared ancestry, :mod:`.lineage`); ``force`` skips that check,
never the shape check.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from stylefuse.errors import FusionError
from stylefuse.fusion import lineage, sources
from stylefuse.hub import CONFIG_FILE, load_model, save_model

MODES = ("interpolate", "layer-swap", "ensemble")
TRAINING_KEYS = ("format_version", "network", "config", "recipe", "steps", "trained_parameters", "strategy", "base",
                 "parent", "parents", "ancestors", "fusion", "default_style")
"""Config entries of a member that describe how it was made, not what the fused folder is."""


def fuse_models(folders: Sequence[str | os.PathLike], out: str | os.PathLike, mode: str = "interpolate",
                weights: Sequence[float] | None = None, groups: Sequence[float] | None = None, force: bool = False,
                overwrite: bool = False, **ensemble_options: Any) -> Path:
    """Fuse model folders into the model folder ``out``.

    Args:
        folders: two or more model folders.
        mode: ``interpolate``, ``layer-swap`` or ``ensemble`` (see the module).
        weights: one weight per folder (interpolate, ensemble), normalised to sum to 1; default equal.
        groups: layer-swap: the first model's share of the (coarse, fine) layers; None: (1, 0), the coarse
            layers from the first model and the fine ones from the second.
        force: interpolate or swap folders that record no shared ancestry.
        overwrite: replace a model folder already at ``out``.
        **ensemble_options: options of :func:`stylefuse.methods.ensemble.save_ensemble` (``combine``,
            ``fine_bands``).

    Returns:
        ``out``.
    """
    folders = [Path(folder) for folder in folders]
    out = Path(out)
    if mode not in MODES:
        raise FusionError(f"unknown fusion mode {mode!r}; choose from {', '.join(MODES)}")
    if len(folders) < 2:
        raise FusionError(f"fusion needs at least two model folders, got {len(folders)}")
    if (out / CONFIG_FILE).is_file() and not overwrite:
        raise FusionError(f"{out} already holds a model; choose another --out or pass --overwrite")
    if out.exists() and not (out / CONFIG_FILE).is_file():  # never replace (or delete) a folder of other files
        raise FusionError(f"{out} exists and is not a model folder; choose another --out")
    if any(out.resolve() == folder.resolve() for folder in folders):
        raise FusionError(f"--out {out} is one of the models being fused; choose another folder")
    if groups is not None and mode != "layer-swap":
        raise FusionError("--groups applies to --mode layer-swap only")
    if weights and mode == "layer-swap":
        raise FusionError("layer-swap blends by --groups COARSE,FINE, not --weights")
    weights = normalized_weights(weights, len(folders))
    if mode == "ensemble":
        from stylefuse.methods.ensemble import save_ensemble

        return save_ensemble(folders, out, weights, **ensemble_options)
    if ensemble_options:
        raise FusionError(f"{', '.join(ensemble_options)} apply to --mode ensemble only")
    if mode == "layer-swap":
        return _layer_swap(folders, out, (1.0, 0.0) if groups is None else groups, force)
    return _write_mix(folders, out, lambda key: weights, force, {"mode": mode, "weights": weights})


def split_models_and_weights(items: Sequence[str], weights: Sequence[str]) -> tuple[list[Path], list[float]]:
    """Model folders and weights from the command line, where ``--models A B --weights 0.7 0.3`` leaves
    ``B`` and ``0.3`` as loose arguments: a loose item that is a number and no existing path is a weight.
    Weights may also be comma-separated (``--weights 0.7,0.3``)."""
    folders, numbers = [], [text for item in weights for text in item.split(",") if text.strip()]
    for item in items:
        if not Path(item).exists() and _is_number(item):
            numbers.append(item)
        else:
            folders.append(Path(item))
    return folders, [float(text) for text in _checked_numbers(numbers, "--weights")]


def parse_numbers(text: str, option: str) -> list[float]:
    """``"1,0.5"`` -> [1.0, 0.5]; a one-line error naming ``option`` otherwise."""
    return [float(item) for item in _checked_numbers([item for item in text.split(",") if item.strip()], option)]


def _checked_numbers(items: list[str], option: str) -> list[str]:
    bad = [item for item in items if not _is_number(item)]
    if bad:
        raise FusionError(f"{option} takes numbers, got {bad[0]!r}")
    return items


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def normalized_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    """``count`` non-negative weights summing to 1 (equal when None); a one-line error otherwise."""
    if weights is None or len(weights) == 0:
        return [1.0 / count] * count
    if len(weights) != count:
        raise FusionError(f"give one weight per model ({count}), got {len(weights)}")
    if any(weight < 0 for weight in weights) or sum(weights) <= 0:
        raise FusionError(f"weights must be >= 0 and not all zero, got {list(weights)}")
    return [weight / sum(weights) for weight in weights]


def _layer_swap(folders: list[Path], out: Path, groups: Sequence[float], force: bool) -> Path:
    if len(folders) != 2:
        raise FusionError(f"layer-swap takes two models (coarse layers from the first, fine from the second), "
                          f"got {len(folders)}")
    if len(groups) != 2 or not all(0.0 <= share <= 1.0 for share in groups):
        raise FusionError(f"--groups takes the first model's share of the coarse and fine layers, two numbers in "
                          f"[0, 1]; got {list(groups)}")
    network, _ = load_model(folders[0])
    if not hasattr(network, "layer_groups"):
        raise FusionError(f"layer-swap needs a network with coarse and fine layers (fast_stylizer, resnet_generator); "
                          f"{folders[0]} holds a {type(network).__name__}")
    prefixes = network.layer_groups()
    shares = dict(zip(("coarse", "fine"), groups))

    def weights_of(key: str) -> list[float]:
        group = next((name for name, heads in prefixes.items() if key.startswith(heads)), "fine")
        return [shares[group], 1.0 - shares[group]]

    return _write_mix(folders, out, weights_of, force, {"mode": "layer-swap", "groups": dict(shares)})


def _write_mix(folders: list[Path], out: Path, weights_of: Callable[[str], list[float]], force: bool,
               record: dict[str, Any]) -> Path:
    """Load the folders, check them, mix every tensor with ``weights_of(key)`` and write ``out``."""
    loaded = [load_model(folder) for folder in folders]
    documents = [document for _, document in loaded]
    states = [network.state_dict() for network, _ in loaded]
    check_compatible(folders, documents, states)
    if not force:
        check_related(folders)
    mixed = {key: _mix([state[key] for state in states], weights_of(key)) for key in states[0]}
    network, first = loaded[0]
    network.load_state_dict(mixed)
    extra = {key: value for key, value in first.items() if key not in TRAINING_KEYS}
    extra.update(_merged_names(documents))
    extra.update(lineage.derived_from(*folders))
    extra["fusion"] = {**record, "members": [str(folder) for folder in folders]}
    save_model(network, out, first["network"], first["config"], extra=extra)
    if record["mode"] == "interpolate" and first["config"].get("num_styles"):
        _mix_statistics(folders, out, weights_of(""), first["config"]["num_styles"])
    return out


def _mix(tensors: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    """The weighted sum of float tensors; integer buffers (counters) are taken from the first."""
    if not tensors[0].is_floating_point():
        return tensors[0]
    return sum(weight * tensor for weight, tensor in zip(weights, tensors))


def check_compatible(folders: list[Path], documents: list[dict[str, Any]],
                     states: list[dict[str, torch.Tensor]]) -> None:
    """Refuse, on one line naming what differs first, folders of other networks, configs or tensor shapes."""
    head, first = folders[0], documents[0]
    for folder, document, state in zip(folders[1:], documents[1:], states[1:]):
        if document["network"] != first["network"]:
            raise FusionError(f"{folder} holds a {document['network']} network and {head} a {first['network']}: "
                              "only models of one network can be mixed parameter by parameter (try --mode ensemble)")
        keys = sorted(set(document["config"]) | set(first["config"]))
        differing = [key for key in keys if document["config"].get(key) != first["config"].get(key)]
        if differing:
            key = differing[0]
            raise FusionError(f"{folder} and {head} differ in config {key!r} ({document['config'].get(key)!r} vs "
                              f"{first['config'].get(key)!r}); only models of one config can be mixed")
        for key, tensor in states[0].items():
            other = state.get(key)
            if other is None or other.shape != tensor.shape:
                shape = "missing" if other is None else tuple(other.shape)
                raise FusionError(f"tensor {key} differs: {tuple(tensor.shape)} in {head}, {shape} in {folder}; "
                                  "these models cannot be mixed parameter by parameter (try --mode ensemble)")


def check_related(folders: list[Path]) -> None:
    """Refuse folders that record no shared ancestor: their parameters do not correspond."""
    if not lineage.shared_ancestry(folders):
        names = " and ".join(str(folder) for folder in folders)
        raise FusionError(f"{names} share no ancestor (none was fine-tuned from the others' weights), so their "
                          "parameters do not correspond; pass --force to mix them anyway, or use --mode ensemble")


def _merged_names(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Style names of a fused multi-style folder: a name the members share stays, differing ones are joined
    with ``+``, and each style's sources are the union of the members' (:mod:`.sources`); the default style
    stays where every member's default is at one index."""
    lists = [document.get("style_names") for document in documents]
    if not all(lists) or len({len(names) for names in lists}) != 1:
        return {}
    names = ["+".join(dict.fromkeys(column)) for column in zip(*lists)]
    columns = zip(*(sources.aligned(document, len(names)) for document in documents))
    merged: dict[str, Any] = {"style_names": names, "style_sources": [sources.merge(column) for column in columns]}
    defaults = {names_.index(doc["default_style"]) for names_, doc in zip(lists, documents)
                if doc.get("default_style") in names_}
    if len(defaults) == 1 and all(doc.get("default_style") for doc in documents):
        merged["default_style"] = names[defaults.pop()]
    return merged


def _mix_statistics(folders: list[Path], out: Path, weights: list[float], styles: int) -> None:
    """The members' style statistics (:mod:`stylefuse.methods.style_statistics`), averaged with the
    interpolation weights when every member has them (an approximation that keeps warm starts cheap)."""
    from stylefuse.methods import style_statistics

    tables = [style_statistics.load_statistics(folder, styles) for folder in folders]
    if any(table is None for table in tables) or len({tuple(table) for table in tables}) != 1:
        return
    style_statistics.save_statistics(out, {key: _mix([table[key] for table in tables], weights)
                                           for key in tables[0]})
