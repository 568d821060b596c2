"""Building blocks shared by the networks: normalisation chosen by name, padded convolutions,
residual blocks, weight initialisation."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

CONSTANT_SPREAD = 1e-4
"""A feature map whose standard deviation is below this fraction of its root mean square is constant
for :func:`instance_norm`: float32 rounding in a convolution leaves a spread of about 1e-6 of the
values on a constant input, and a real signal that small is below what 8-bit images can hold."""


def instance_norm(x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None,
                  eps: float = 1e-5) -> torch.Tensor:
    """Instance normalisation (Ulyanov et al. 2016) that maps a constant feature map to exactly 0.

    A constant input (a plain white crop) makes convolutions output maps that are constant up to float32
    rounding. Plain instance norm divides that rounding noise by ``sqrt(eps)``, and the backward pass
    multiplies the gradient by ``1 / sqrt(eps)`` (about 316) at every norm layer: through the 17 norms of
    a 6-block ResNet generator the gradient overflows float32 and Adam turns it into NaN weights. Here
    a map whose spread is below :data:`CONSTANT_SPREAD` of its magnitude is normalised to exactly 0 (the
    exact result on a constant map) with a zero gradient, so the following ReLU blocks the noise.

    Args:
        x: (B, C, H, W).
        weight, bias: (C,) affine parameters, or None.
    Returns:
        (B, C, H, W).
    """
    with torch.no_grad():  # float32 statistics: in float16 mean² overflows for means past about 256
        var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, unbiased=False)
        varying = (var > CONSTANT_SPREAD**2 * (mean.square() + var)).to(x.dtype)
    y = F.instance_norm(x, eps=eps) * varying  # zero output, so zero gradient, on constant maps
    if weight is not None:
        y = y * weight[:, None, None] + bias[:, None, None]
    return y


class InstanceNorm2d(nn.InstanceNorm2d):
    """:class:`torch.nn.InstanceNorm2d` (same parameters and state dict) computed by :func:`instance_norm`.

    Shape: (B, C, H, W) -> (B, C, H, W).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"InstanceNorm2d expects (B, C, H, W), got {tuple(x.shape)}")
        return instance_norm(x, self.weight, self.bias, self.eps)


NORMS: dict[str, Callable[[int], nn.Module]] = {
    "instance": lambda channels: InstanceNorm2d(channels, affine=False),
    "instance_affine": lambda channels: InstanceNorm2d(channels, affine=True),
    "batch": lambda channels: nn.BatchNorm2d(channels),
    "none": lambda channels: nn.Identity(),
}


def norm_layer(name: str, channels: int) -> nn.Module:
    """A normalisation layer from :data:`NORMS` for ``channels`` feature maps."""
    try:
        return NORMS[name](channels)
    except KeyError:
        raise ValueError(f"unknown norm {name!r}; choose from {', '.join(NORMS)}") from None


def conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1, padding: str = "reflect",
         bias: bool = True) -> nn.Module:
    """A same-size (stride 1) or downsampling convolution with explicit padding ("reflect" avoids
    border artefacts in image-to-image networks; "zeros" is the classic choice)."""
    pad = kernel // 2
    if padding == "zeros":
        return nn.Conv2d(in_channels, out_channels, kernel, stride, pad, bias=bias)
    pads = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d}
    if padding not in pads:
        raise ValueError(f"unknown padding {padding!r}; choose reflect, replicate or zeros")
    return nn.Sequential(pads[padding](pad), nn.Conv2d(in_channels, out_channels, kernel, stride, 0, bias=bias))


class ResidualBlock(nn.Module):
    """conv-norm-ReLU-conv-norm with an identity shortcut (He et al. 2016; Johnson et al. 2016).

    Shape: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, norm: str = "instance", padding: str = "reflect", dropout: float = 0.0) -> None:
        super().__init__()
        layers = [conv(channels, channels, 3, padding=padding), norm_layer(norm, channels), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [conv(channels, channels, 3, padding=padding), norm_layer(norm, channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)


def upsample_conv(in_channels: int, out_channels: int, padding: str = "reflect", mode: str = "nearest") -> nn.Module:
    """2x upsampling followed by a 3x3 convolution; "nearest" + conv avoids the checkerboard artefacts
    of transposed convolutions (Odena et al. 2016), "transpose" is the classic alternative."""
    if mode == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)
    if mode != "nearest":
        raise ValueError(f"unknown upsampling {mode!r}; choose nearest or transpose")
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         conv(in_channels, out_channels, 3, padding=padding))


INIT_SCHEMES = ("normal", "xavier", "kaiming", "default")


def init_weights(module: nn.Module, scheme: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise conv / linear weights: N(0, gain) as in DCGAN / pix2pix / CycleGAN, Xavier-normal
    with ``gain``, Kaiming-normal, or PyTorch's "default"; norm scales start at N(1, gain), biases 0."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init {scheme!r}; choose from {', '.join(INIT_SCHEMES)}")
    if scheme == "default":
        return module
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if scheme == "normal":
                nn.init.normal_(layer.weight, 0.0, gain)
            elif scheme == "xavier":
                nn.init.xavier_normal_(layer.weight, gain=gain)
            else:
                nn.init.kaiming_normal_(layer.weight, a=0, mode="fan_in")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.InstanceNorm2d)) and layer.weight is not None:
            nn.init.normal_(layer.weight, 1.0, gain)
            nn.init.zeros_(layer.bias)
    return module
