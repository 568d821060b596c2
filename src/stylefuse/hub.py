"""Model folders: ``config.json`` (the constructor arguments, a format version, the encoder a model
was trained with) beside ``model.safetensors`` (the weights). A saved model describes itself: loading
needs no code but the registered class named in the config, and never unpickles anything
(the pattern of diffusers' ``configuration_utils.py``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stylefuse.errors import StylefuseError
from stylefuse.fileutil import atomic_write_files
from stylefuse.registry import NETWORKS

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


class ModelFolderError(StylefuseError):
    """A model folder is missing, incomplete, of an unknown version or does not fit its class."""


def save_model(model: nn.Module, folder: str | os.PathLike, name: str, config: dict[str, Any],
               extra: dict[str, Any] | None = None, half: bool = True) -> Path:
    """Write ``model``'s weights and config to ``folder``, atomically as a whole.

    A new folder appears at once, complete; in an existing one (a training output folder) the weights and then
    the config replace the old ones by renames, and its other files (checkpoint, samples, logs) stay (see
    :func:`~stylefuse.fileutil.atomic_write_files`).

    Args:
        model: the network; its state dict is saved (fp16 when ``half``, to keep shipped models small).
        name: the registered network name (:data:`NETWORKS`) that rebuilds it.
        config: the constructor arguments: ``NETWORKS.create(name, **config)`` must rebuild ``model``.
        extra: anything else worth recording (training recipe, encoder id, style names).
        half: store floating-point tensors as float16.

    Raises:
        ModelFolderError: a weight is NaN or infinite (as stored: float16 overflows above 65504); nothing is
            written.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _check_finite(weights, folder, "")
    if half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
        _check_finite(weights, folder, " in float16 (values beyond +-65504); save with half=False")
    document = {"format_version": FORMAT_VERSION, "network": name, "config": config, **(extra or {})}
    return atomic_write_files(folder, {WEIGHTS_FILE: lambda path: save_file(weights, str(path)),
                                       CONFIG_FILE: lambda path: path.write_text(json.dumps(document, indent=2))})


def _check_finite(weights: dict[str, torch.Tensor], folder: Path, how: str) -> None:
    bad = [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ModelFolderError(f"not writing {folder}: {len(bad)} weight tensor(s), first {bad[0]}, are not "
                               f"finite{how or ' (the training diverged)'}")


def read_config(folder: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``config.json`` of a model folder, checked for completeness and version."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} is not a model folder (expected a folder with {CONFIG_FILE} and "
                               f"{WEIGHTS_FILE})")
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    for path in (config_path, weights_path):
        if not path.is_file():
            raise ModelFolderError(f"{folder} is not a model folder: {path.name} is missing")
    try:
        document = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFolderError(f"{config_path} is not valid JSON ({exc})") from None
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFolderError(f"{config_path} has format version {version!r}; this stylefuse reads version "
                               f"{FORMAT_VERSION}: upgrade stylefuse or re-save the model")
    if "network" not in document or "config" not in document:
        raise ModelFolderError(f"{config_path} lacks 'network' or 'config'")
    return document


def load_model(folder: str | os.PathLike, dtype: torch.dtype = torch.float32) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network of a model folder and load its weights.

    Returns:
        (model in eval mode, the config document).
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    document = read_config(folder)
    model = NETWORKS.create(document["network"], **document["config"])
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
        model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()})
    except (RuntimeError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise ModelFolderError(f"{folder / WEIGHTS_FILE} does not fit {document['network']} ({first_line})") from None
    return model.eval(), document


def load(folder: str | os.PathLike, method: str | None = None, **options: Any) -> Any:
    """The ready stylizer of a model folder, whatever made it (fast, personalised, inverter, cyclegan,
    pix2pix, adversarial_style, dcgan): the registered method recorded in its config builds itself with
    its ``from_folder``.

    Args:
        folder: a model folder (config.json + model.safetensors).
        method: use this registered method instead of the recorded one (an inverter folder serves adain
            and wct); it must be able to load the folder.
        **options: the method's options (checked: an unknown one is a one-line error).

    Returns:
        A :class:`stylefuse.methods._base.Stylizer`.
    """
    from stylefuse.methods._base import check_options
    from stylefuse.registry import METHODS

    folder = Path(folder)
    document = read_config(folder)
    name = method_of(folder, method)
    cls = METHODS.get(name)
    check_options(cls, name, {key: value for key, value in options.items() if key != "device"})
    return cls.from_folder(folder, document, **options)


def method_of(folder: str | os.PathLike, method: str | None = None) -> str:
    """The method that loads a model folder: ``method`` when given, else the one its config records."""
    name = method or read_config(folder).get("method")
    if not name:
        raise ModelFolderError(f"{Path(folder) / CONFIG_FILE} records no method; re-save the model with this "
                               "stylefuse")
    return name
