"""A per-pixel gate over K frozen stylizers: a small convolutional network at a quarter of the resolution
predicts a softmax over the members at every pixel, upsampled bilinearly, and the result is the members'
outputs mixed by those weights (a mixture of experts with a spatial gating network, Jacobs et al. 1991,
"Adaptive Mixtures of Local Experts"; Shazeer et al. 2017 for gates over frozen or sparse experts).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from stylefuse.nn.layers import conv
from stylefuse.registry import NETWORKS


@NETWORKS.register("member_gate")
class MemberGate(nn.Module):
    """Per-pixel weights over K members from the photo and the members' outputs.

    The input (photo and the K outputs, 3 + 3K channels) is averaged down to 1/``scale`` of its size,
    where ``layers`` 3x3 convolutions (ReLU between them, reflection padding) give K logits; their softmax
    is upsampled bilinearly to full size, so the weights are smooth, non-negative and sum to 1 at every
    pixel (a bilinear upsampling is a convex combination of the coarse weights). The last convolution
    starts at zero: an untrained gate is the uniform blend.

    Args:
        members: K.
        channels: width of the hidden convolutions.
        layers: number of 3x3 convolutions (>= 2).
        scale: the gate works at 1/scale of the image size.

    Shape: photo (B, 3, H, W), outputs (B, K, 3, H, W) in [0, 1] -> :meth:`forward` (B, 3, H, W),
    :meth:`weights` (B, K, H, W).
    """

    def __init__(self, members: int = 2, channels: int = 32, layers: int = 4, scale: int = 4) -> None:
        super().__init__()
        if members < 2 or layers < 2 or scale < 1 or channels < 1:
            raise ValueError(f"a gate needs members >= 2, layers >= 2, scale >= 1 and channels >= 1; got members "
                             f"{members}, layers {layers}, scale {scale}, channels {channels}")
        self.members, self.scale = members, scale
        widths = [3 + 3 * members] + [channels] * (layers - 1)
        body: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            body += [conv(width_in, width_out, 3), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*body)
        self.head = nn.Conv2d(channels, members, 3, padding=1, padding_mode="reflect")
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def weights(self, photo: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """The members' weights at every pixel, (B, K, H, W), summing to 1 over K."""
        if outputs.dim() != 5 or outputs.shape[1] != self.members or outputs.shape[-2:] != photo.shape[-2:]:
            raise ValueError(f"expected outputs (B, {self.members}, 3, H, W) matching the photo "
                             f"{tuple(photo.shape)}, got {tuple(outputs.shape)}")
        height, width = photo.shape[-2:]
        coarse = (max(1, math.ceil(height / self.scale)), max(1, math.ceil(width / self.scale)))
        x = torch.cat([photo, outputs.flatten(1, 2)], 1) * 2 - 1
        x = F.adaptive_avg_pool2d(x, coarse)
        # reflection padding needs more than one pixel per side; tiny inputs are padded up first
        pad_h, pad_w = max(0, 2 - coarse[0]), max(0, 2 - coarse[1])
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        probabilities = self.head(self.body(x)).softmax(1)[:, :, :coarse[0], :coarse[1]]
        return F.interpolate(probabilities, size=(height, width), mode="bilinear", align_corners=False)

    def forward(self, photo: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """The members' outputs mixed by :meth:`weights`, (B, 3, H, W)."""
        return (self.weights(photo, outputs)[:, :, None] * outputs).sum(1)
