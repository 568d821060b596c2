"""A compact multi-style feed-forward stylizer for the CPU: an image transformation network (Johnson,
Alahi & Fei-Fei 2016) whose instance norms are conditional (Dumoulin, Shlens & Kudlur 2017, "A
Learned Representation for Artistic Style"): one (γ, β) set, three channel mixes and one colour map per
style, everything else shared.

On the CPU full-resolution layers dominate the cost (docs/benchmarks.md), so the network goes down by
8 with three stride-2 convolutions (16/32/64 channels), works at 1/8 resolution in residual blocks, and
comes back with nearest-upsample + 3x3 convolutions (no checkerboard artefacts, Odena et al. 2016), with
reflection padding everywhere. Each style also has
an affine map of the three output colour logits (:class:`ConditionalColourMap`). Mixing styles is a
convex combination of the per-style tables, given as a style-weight vector.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from stylefuse.nn.layers import InstanceNorm2d, conv
from stylefuse.registry import NETWORKS


class ConditionalInstanceNorm2d(nn.Module):
    """Instance normalisation followed by a per-style affine map; a weight vector over the styles mixes
    their (γ, β) linearly (Dumoulin et al. 2017).

    Args:
        channels: C.
        num_styles: S.

    Shape: x (B, C, H, W), style (B, S) -> (B, C, H, W).
    """

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.norm = InstanceNorm2d(channels, affine=False)  # constant maps stay finite (see layers)
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        gamma = (style @ self.gamma)[:, :, None, None]
        beta = (style @ self.beta)[:, :, None, None]
        return self.norm(x) * gamma + beta


class _OffsetTable(nn.Module):
    """A module whose per-style table ``offset`` is zero for the identity: a state dict saved before the
    module existed loads with zeros (the hook is a bound method, so the module pickles and deep-copies)."""

    def _register_zero_fill(self) -> None:
        self._register_load_state_dict_pre_hook(self._zero_when_missing)

    def _zero_when_missing(self, state_dict, prefix, *args) -> None:
        state_dict.setdefault(prefix + "offset", torch.zeros_like(self.offset))


class ConditionalColourMap(_OffsetTable):
    """A per-style affine map of the colour logits before the output sigmoid: a 3x3 matrix and a bias per
    style, mixed linearly over the styles like the (γ, β) of :class:`ConditionalInstanceNorm2d`.

    Conditional instance norm scales and shifts each channel on its own; the output colour comes from
    convolutions every style shares, so a style whose palette the base styles lack (a black-and-white
    woodcut, a sepia print) needs every layer's (γ, β) to conspire. A full affine map of the colour
    channels, the linear colour transfer of Pitié & Kokaram (2007), gives a new style its palette
    directly for 12 values. Each style's map is the identity plus ``SCALE`` times its learned ``offset``
    (3, 4); the small scale keeps L-BFGS from spending its first steps on the map (docs/benchmarks.md).
    A model saved before this map existed loads with zero offsets, so its outputs do not change.

    Args:
        num_styles: S.

    Shape: logits (B, 3, H, W), style (B, S) -> (B, 3, H, W).
    """

    SCALE = 0.1

    def __init__(self, num_styles: int) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.zeros(num_styles, 3, 4))
        self._register_zero_fill()

    def maps(self, style: torch.Tensor) -> torch.Tensor:
        """The maps (B, 3, 4) of style weights (B, S), the weighted sum of the styles' maps like the
        (γ, β): matrix in the first three columns, bias in the last."""
        identity = torch.eye(3, 4, dtype=self.offset.dtype, device=self.offset.device)
        return style.sum(1)[:, None, None] * identity + self.SCALE * torch.einsum("bs,sij->bij", style, self.offset)

    def forward(self, logits: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        maps = self.maps(style)
        return torch.einsum("bij,bjhw->bihw", maps[:, :, :3], logits) + maps[:, :, 3, None, None]


class ConditionalChannelMix(_OffsetTable):
    """A per-style residual 1x1 channel mix, ``x + SCALE · (Σ_s w_s M_s) x``, each style's ``M_s`` (C, C)
    starting at zero (the identity map): a residual adapter (Rebuffi, Bilen & Vedaldi 2017, "Learning
    multiple visual domains with residual adapters") conditioned on the style weights like the (γ, β).

    Conditional instance norm can only scale and shift each channel; a new style whose strokes need
    other combinations of the shared decoder's features than every base style's gets them here, for C²
    values per place: after the residual blocks and after each upsampling block (64² + 32² + 16² = 5,376
    values per style). ``SCALE`` sets how far an L-BFGS step moves the mix against the (γ, β). A model
    saved before this mix existed loads with zero matrices, so its outputs do not change.

    Args:
        channels: C.
        num_styles: S.

    Shape: x (B, C, H, W), style (B, S) -> (B, C, H, W).
    """

    SCALE = 0.3

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.zeros(num_styles, channels, channels))
        self._register_zero_fill()

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        mix = self.SCALE * torch.einsum("bs,sij->bij", style, self.offset)
        return x + torch.einsum("bij,bjhw->bihw", mix, x)


class _ConvNormReLU(nn.Module):
    """(optional 2x nearest upsampling) - conv - conditional instance norm - (ReLU)."""

    def __init__(self, in_channels: int, out_channels: int, num_styles: int, stride: int = 1,
                 upsample: bool = False, relu: bool = True) -> None:
        super().__init__()
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest") if upsample else nn.Identity()
        self.conv = conv(in_channels, out_channels, 3, stride=stride)
        self.norm = ConditionalInstanceNorm2d(out_channels, num_styles)
        self.relu = relu

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(self.upsample(x)), style)
        return torch.relu(x) if self.relu else x


class _ResidualBlock(nn.Module):
    """conv-CIN-ReLU-conv-CIN with an identity shortcut."""

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.first = _ConvNormReLU(channels, channels, num_styles)
        self.second = _ConvNormReLU(channels, channels, num_styles, relu=False)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.first(x, style), style)


@NETWORKS.register("fast_stylizer")
class FastStylizerNet(nn.Module):
    """Multi-style image transformation network with conditional instance norm.

    Args:
        num_styles: S, the number of styles (of (γ, β) sets, channel mixes and colour maps).
        channels: widths after each stride-2 convolution (the network's stride is 2**len(channels)).
        blocks: residual blocks at the lowest resolution.

    Shape: image (B, 3, H, W) in [0, 1] with H, W multiples of 2**len(channels), style (B, S) or (S,)
    non-negative weights (one-hot for a single style) -> (B, 3, H, W) in [0, 1].
    """

    def __init__(self, num_styles: int = 1, channels: Sequence[int] = (16, 32, 64), blocks: int = 5) -> None:
        super().__init__()
        if num_styles < 1:
            raise ValueError(f"num_styles must be >= 1, got {num_styles}")
        channels = list(channels)
        self.num_styles = num_styles
        self.stride = 2 ** len(channels)
        widths = [3] + channels
        self.down = nn.ModuleList(_ConvNormReLU(widths[i], widths[i + 1], num_styles, stride=2)
                                  for i in range(len(channels)))
        self.blocks = nn.ModuleList(_ResidualBlock(channels[-1], num_styles) for _ in range(blocks))
        self.up = nn.ModuleList(_ConvNormReLU(widths[i + 1], widths[i], num_styles, upsample=True)
                                for i in range(len(channels) - 1, 0, -1))
        self.mixes = nn.ModuleList(ConditionalChannelMix(widths[i], num_styles) for i in range(len(channels), 0, -1))
        self.to_rgb = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv(channels[0], 3, 3))
        self.colour = ConditionalColourMap(num_styles)

    def forward(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected images (B, 3, H, W), got {tuple(image.shape)}")
        if image.shape[-1] % self.stride or image.shape[-2] % self.stride:
            raise ValueError(f"height and width must be multiples of {self.stride}, got {tuple(image.shape[-2:])}")
        if style.ndim == 1:
            style = style.expand(image.shape[0], -1)
        if style.shape != (image.shape[0], self.num_styles):
            raise ValueError(f"style weights must be (B, {self.num_styles}), got {tuple(style.shape)}")
        style = style.to(image.dtype)
        x = image - 0.5
        for layer in self.down:
            x = layer(x, style)
        for block in self.blocks:
            x = block(x, style)
        x = self.mixes[0](x, style)
        for layer, mix in zip(self.up, self.mixes[1:]):
            x = mix(layer(x, style), style)
        return torch.sigmoid(self.colour(self.to_rgb(x), style))

    def layer_groups(self) -> dict[str, tuple[str, ...]]:
        """State-dict prefixes of the coarse layers (downsampling, residual blocks and their channel mix) and
        of the fine ones (upsampling, their mixes, output and colour map), for resolution-dependent model
        fusion (Pinkney & Adler 2020, "Resolution Dependent GAN Interpolation for Controllable Image
        Synthesis Between Domains")."""
        fine_mixes = tuple(f"mixes.{index}." for index in range(1, len(self.mixes)))
        return {"coarse": ("down.", "blocks.", "mixes.0."), "fine": ("up.", *fine_mixes, "to_rgb.", "colour.")}

    def style_parameters(self) -> dict[str, nn.Parameter]:
        """The per-style tables by state-dict name, each (S, ...): every (γ, β), channel mix and colour map
        (what personalisation trains for a new style)."""
        return {f"{name}.{key}": table for name, module in self.named_modules()
                if isinstance(module, (ConditionalInstanceNorm2d, ConditionalChannelMix, ConditionalColourMap))
                for key, table in module.named_parameters(recurse=False)}
