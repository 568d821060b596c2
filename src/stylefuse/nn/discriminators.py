"""Discriminators. Input (B, C, H, W) in [-1, 1]; output raw logits (no sigmoid)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from stylefuse.nn.layers import init_weights, norm_layer
from stylefuse.registry import NETWORKS


def _maybe_sn(layer: nn.Module, spectral: bool) -> nn.Module:
    return _spectral_norm(layer) if spectral else layer


@NETWORKS.register("patch_discriminator")
class PatchDiscriminator(nn.Module):
    """PatchGAN (Isola et al. 2017): classifies overlapping patches as real or fake. With ``layers=3``
    each output sees a 70x70 input patch.

    Shape: (B, in_channels, H, W) -> (B, 1, ~H/8, ~W/8) logits for layers=3.
    Args:
        spectral: spectral normalisation on every conv (Miyato et al. 2018) instead of the norm layers.
    """

    def __init__(self, in_channels: int = 3, base: int = 64, layers: int = 3, norm: str = "instance",
                 spectral: bool = False, init: str = "normal") -> None:
        super().__init__()
        norm = "none" if spectral else norm
        blocks = [_maybe_sn(nn.Conv2d(in_channels, base, 4, 2, 1), spectral), nn.LeakyReLU(0.2, True)]
        channels = base
        for index in range(1, layers + 1):
            out = base * min(2**index, 8)
            stride = 2 if index < layers else 1
            blocks += [_maybe_sn(nn.Conv2d(channels, out, 4, stride, 1, bias=norm == "none"), spectral),
                       norm_layer(norm, out), nn.LeakyReLU(0.2, True)]
            channels = out
        blocks.append(_maybe_sn(nn.Conv2d(channels, 1, 4, 1, 1), spectral))
        self.net = nn.Sequential(*blocks)
        init_weights(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def patch_min_size(layers: int = 3, scales: int = 1) -> int:
    """The smallest square input a :class:`PatchDiscriminator` with ``layers`` (or a
    :class:`MultiScaleDiscriminator` with ``scales``) gives at least one logit for: ``layers`` halvings then
    two 4x4 convolutions that each take one pixel off (24 px for ``layers=3``); each further scale halves."""
    return 3 * 2**layers * 2 ** (scales - 1)


@NETWORKS.register("multiscale_discriminator")
class MultiScaleDiscriminator(nn.Module):
    """Several PatchGANs on the image at 1, 1/2, 1/4, ... resolution (Wang et al. 2018, pix2pixHD).

    Shape: (B, C, H, W) -> list of logit maps, finest first.
    """

    def __init__(self, scales: int = 3, in_channels: int = 3, base: int = 64, layers: int = 3,
                 norm: str = "instance", spectral: bool = False, init: str = "normal") -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(
            PatchDiscriminator(in_channels, base, layers, norm, spectral, init) for _ in range(scales))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for index, discriminator in enumerate(self.discriminators):
            if index:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(discriminator(x))
        return outputs


@NETWORKS.register("dcgan_discriminator")
class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator (Radford et al. 2016): strided convs with batch norm and LeakyReLU down
    to one logit per image.

    Shape: (B, in_channels, size, size) -> (B,) logits; size a power of two >= 16.
    """

    def __init__(self, size: int = 64, base: int = 64, in_channels: int = 3, spectral: bool = False,
                 init: str = "normal") -> None:
        super().__init__()
        if size < 16 or size & (size - 1):
            raise ValueError(f"DCGAN size must be a power of two >= 16, got {size}")
        downs = size.bit_length() - 4
        layers = [_maybe_sn(nn.Conv2d(in_channels, base, 4, 2, 1), spectral), nn.LeakyReLU(0.2, True)]
        channels = base
        for _ in range(downs):
            layers += [_maybe_sn(nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=spectral), spectral),
                       norm_layer("none" if spectral else "batch", channels * 2), nn.LeakyReLU(0.2, True)]
            channels *= 2
        layers.append(_maybe_sn(nn.Conv2d(channels, 1, 4, 1, 0), spectral))
        self.net = nn.Sequential(*layers)
        init_weights(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()
