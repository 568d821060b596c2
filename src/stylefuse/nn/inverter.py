"""VGG16 inverters: decoders that map the encoder's features at relu{k}_1 back to an image, as used by
AdaIN (Huang & Belongie 2017) and WCT (Li et al. 2017).

An inverter mirrors the encoder up to its level: the convolutions of each VGG16 block in reverse order,
with nearest-neighbour 2x upsampling + 3x3 convolution in place of pooling (no checkerboard
artefacts, Odena et al. 2016) and reflection padding (no border artefacts).
"""

from __future__ import annotations

import torch
from torch import nn

from stylefuse.nn.layers import conv
from stylefuse.registry import NETWORKS

LEVELS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
"""The feature levels an inverter can start from."""

FEATURE_RMS = {"relu1_1": 50.0, "relu2_1": 300.0, "relu3_1": 600.0, "relu4_1": 400.0, "relu5_1": 60.0}
"""Typical root-mean-square of the encoder's features on photos (Caffe scaling); inverters divide their
input by it so that every level starts training at unit scale."""

_BLOCK_CONVS = (2, 2, 3, 3, 3)
_BLOCK_WIDTHS = (64, 128, 256, 512, 512)


@NETWORKS.register("vgg16_inverter")
class VGGInverter(nn.Module):
    """Decoder from VGG16 features at ``level`` back to RGB.

    Args:
        level: one of :data:`LEVELS`.
        width: multiplier of the decoder's channel counts (1.0 mirrors VGG16; smaller is faster).

    Shape: (B, C_level, H / 2^(k-1), W / 2^(k-1)) -> (B, 3, H, W) in [0, 1] (unclamped), with k the
    block of ``level`` (relu4_1: 512 channels at 1/8 resolution).
    """

    def __init__(self, level: str = "relu4_1", width: float = 1.0) -> None:
        super().__init__()
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
        self.level = level
        block = LEVELS.index(level)  # 0-based VGG block whose first ReLU is the input
        self.in_channels = _BLOCK_WIDTHS[block]
        self.scale = 2 ** block

        def channels(index: int) -> int:
            return max(8, int(round(_BLOCK_WIDTHS[index] * width)))

        layers: list[nn.Module] = []
        current = self.in_channels
        for index in range(block, -1, -1):
            # the later convolutions of block `index` in reverse (none for the level's own block, whose
            # first convolution produced the features) ...
            for _ in range(_BLOCK_CONVS[index] - 1 if index < block else 0):
                layers += [conv(current, channels(index), 3), nn.ReLU(inplace=True)]
                current = channels(index)
            # ... then its first convolution and the pooling before it
            if index == 0:
                layers.append(conv(current, 3, 3))
            else:
                layers += [conv(current, channels(index - 1), 3), nn.ReLU(inplace=True),
                           nn.Upsample(scale_factor=2, mode="nearest")]
                current = channels(index - 1)
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 4 or features.shape[1] != self.in_channels:
            raise ValueError(f"{self.level} features must be (B, {self.in_channels}, h, w), "
                             f"got {tuple(features.shape)}")
        return self.net(features / FEATURE_RMS[self.level]) + 0.5  # centred output: starts near mid-grey, trains faster
