"""Model folders: ``config.json`` (the constructor arguments, a format version, the encoder a model
was trained with) beside ``model.safetensors`` (the weights). A saved model describes itself: loading
needs no code but the registered class named in the config, and never unpickles anything
(the pattern of diffusers' ``configuration_utils.py``).

A model folder may come from anyone, so loading trusts nothing in it: both files must lie inside the folder (no
symlink out), the config must name a registered network and only its constructor's arguments (an argument with a
default may be left out), the safetensors header must fit the file and the network (names, shapes, kinds of
dtype) before any tensor is read or the network allocated, and every weight must be finite. Any other file is
ignored, never opened: a training output folder is also a model folder, and its ``checkpoint.pt`` and
``best_generator.pt`` are read only by ``--resume`` (with ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stylefuse.errors import ModelFolderError, OptionError
from stylefuse.fileutil import atomic_write_files
from stylefuse.registry import NETWORKS
from stylefuse.safe_files import check_safetensors, file_in_folder, read_safetensors

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


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
    _refuse_to_write_non_finite(weights, folder, "")
    if half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
        _refuse_to_write_non_finite(weights, folder, " in float16 (values beyond +-65504); save with half=False")
    document = {"format_version": FORMAT_VERSION, "network": name, "config": config, **(extra or {})}
    return atomic_write_files(folder, {WEIGHTS_FILE: lambda path: save_file(weights, str(path)),
                                       CONFIG_FILE: lambda path: path.write_text(json.dumps(document, indent=2))},
                              durable=True)


def _non_finite(weights: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors that hold a NaN or an infinity."""
    return [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]


def _refuse_to_write_non_finite(weights: dict[str, torch.Tensor], folder: Path, how: str) -> None:
    bad = _non_finite(weights)
    if bad:
        raise ModelFolderError(f"not writing {folder}: {len(bad)} weight tensor(s), first {bad[0]}, are not "
                               f"finite{how or ' (the training diverged)'}")


def read_config(folder: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``config.json`` of a model folder, checked for completeness and version."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} is not a model folder (expected a folder with {CONFIG_FILE} and "
                               f"{WEIGHTS_FILE})")
    config_path = file_in_folder(folder, CONFIG_FILE)
    file_in_folder(folder, WEIGHTS_FILE)
    try:
        document = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFolderError(f"{folder / CONFIG_FILE} is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ModelFolderError(f"{folder / CONFIG_FILE} is not a JSON object")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFolderError(f"{folder / CONFIG_FILE} has format version {version!r}; this stylefuse reads "
                               f"version {FORMAT_VERSION}: upgrade stylefuse or re-save the model")
    if not isinstance(document.get("network"), str) or not isinstance(document.get("config"), dict):
        raise ModelFolderError(f"{folder / CONFIG_FILE} lacks 'network' (a name) or 'config' (an object)")
    return document


def load_model(folder: str | os.PathLike, dtype: torch.dtype = torch.float32) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network of a model folder and load its weights.

    Returns:
        (model in eval mode, the config document).
    """
    folder = Path(folder)
    document = read_config(folder)
    weights_path = file_in_folder(folder, WEIGHTS_FILE)
    header = check_safetensors(weights_path)
    with torch.device("meta"):  # shapes only: a config declaring a huge network allocates nothing
        expected = _build(folder, document).state_dict()
    _check_fits(folder, document["network"], header, expected)
    state = read_safetensors(weights_path, checked=True)
    bad = _non_finite(state)
    if bad:
        raise ModelFolderError(f"{folder / WEIGHTS_FILE}: {len(bad)} weight tensor(s), first {bad[0]}, hold NaN or "
                               "infinite values; the model is broken (a diverged training?)")
    model = _build(folder, document)
    # names are checked after the network's load hooks, which may fill tensors that older folders lack
    result = model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()},
                                   strict=False)
    if result.missing_keys or result.unexpected_keys:
        problem = (f"missing tensor {result.missing_keys[0]!r}" if result.missing_keys
                   else f"unexpected tensor {result.unexpected_keys[0]!r}")
        raise ModelFolderError(f"{folder / WEIGHTS_FILE} does not fit {document['network']}: {problem}")
    return model.eval(), document


def _build(folder: Path, document: dict[str, Any]) -> nn.Module:
    """The network named in ``document``, built from its config: only its constructor's arguments, all required
    ones present, values it accepts."""
    name, config = document["network"], document["config"]
    try:
        cls = NETWORKS.get(name)
    except OptionError as exc:
        raise ModelFolderError(f"{folder / CONFIG_FILE}: {exc}") from None
    parameters = {key: p for key, p in inspect.signature(cls).parameters.items()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    unknown = sorted(set(config) - set(parameters))
    missing = sorted(key for key, p in parameters.items() if p.default is p.empty and key not in config)
    if unknown or missing:
        what = f"unknown key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}"
        raise ModelFolderError(f"{folder / CONFIG_FILE}: {what} in the config of network {name} (it takes "
                               f"{', '.join(parameters)})")
    try:
        return cls(**config)
    except (TypeError, ValueError, RuntimeError, OptionError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFolderError(f"{folder / CONFIG_FILE}: the config does not fit network {name} ({first_line})") \
            from None


_FLOAT_DTYPES = {"F64", "F32", "F16", "BF16"}


def _check_fits(folder: Path, network: str, header: dict[str, Any], expected: dict[str, torch.Tensor]) -> None:
    """Refuse weights whose shapes or kinds of dtype (floating point or not) differ from the network's; names
    missing or extra are left to the strict ``load_state_dict``, which runs the network's load hooks."""
    for key, tensor in expected.items():
        if key not in header:
            continue
        shape, dtype, problem = list(header[key]["shape"]), header[key]["dtype"], None
        if shape != list(tensor.shape):
            problem = f"tensor {key!r} has shape {shape}, the network's is {list(tensor.shape)}"
        elif (dtype in _FLOAT_DTYPES) != tensor.is_floating_point():
            problem = f"tensor {key!r} is {dtype}, the network's is {str(tensor.dtype).removeprefix('torch.')}"
        if problem:
            raise ModelFolderError(f"{folder / WEIGHTS_FILE} does not fit {network}: {problem}")


def load(folder: str | os.PathLike, method: str | None = None, **options: Any) -> Any:
    """The ready stylizer of a model folder, whatever made it (fast, personalised, inverter, cyclegan,
    pix2pix, adversarial_style, dcgan): the registered method recorded in its config builds itself with
    its ``from_folder``.

    Args:
        folder: a model folder (config.json + model.safetensors).
        method: use this registered method instead of the recorded one (an inverter folder serves adain
            and wct); it must be able to load the folder.
        **options: the method's options (checked: an unknown one is a one-line error) and front-end settings
            it takes (``device``, ``backend``, ``progress``).

    Returns:
        A :class:`stylefuse.methods._base.Stylizer`.
    """
    from stylefuse.methods._base import INTERNAL_OPTIONS, check_options
    from stylefuse.registry import METHODS

    folder = Path(folder)
    document = read_config(folder)
    name = _recorded_method(folder, document, method)
    cls = METHODS.get(name)
    check_options(cls, name, {key: value for key, value in options.items() if key not in INTERNAL_OPTIONS})
    try:
        return cls.from_folder(folder, document, **options)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a config entry of the wrong type
        raise ModelFolderError(f"{folder / CONFIG_FILE} does not fit method {name} ({type(exc).__name__}: "
                               f"{exc})") from exc


def method_of(folder: str | os.PathLike, method: str | None = None) -> str:
    """The method that loads a model folder: ``method`` when given, else the one its config records."""
    return _recorded_method(Path(folder), None if method else read_config(folder), method)


def _recorded_method(folder: Path, document: dict[str, Any] | None, method: str | None) -> str:
    name = method or document.get("method")
    if not name:
        raise ModelFolderError(f"{Path(folder) / CONFIG_FILE} records no method; re-save the model with this "
                               "stylefuse")
    return name
