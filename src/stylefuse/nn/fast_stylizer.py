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

from typing import Any, Sequence

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

    Shape: x (B, C, H, W), style (B, S) -> (B, C, H, W); its table (see :meth:`table`) is (B, 2, C).
    """

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.norm = InstanceNorm2d(channels, affine=False)  # constant maps stay finite (see layers)
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))

    def table(self, style: torch.Tensor) -> torch.Tensor:
        """The mixed (γ, β) of style weights (B, S): (B, 2, C)."""
        return torch.stack([style @ self.gamma, style @ self.beta], dim=1)

    def set_row(self, row: int, table: torch.Tensor) -> None:
        """Make style ``row``'s (γ, β) those of ``table`` (2, C)."""
        self.gamma.data[row] = table[0]
        self.beta.data[row] = table[1]

    def apply_table(self, x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * table[:, 0, :, None, None] + table[:, 1, :, None, None]

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.apply_table(x, self.table(style))


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

    Shape: logits (B, 3, H, W), style (B, S) -> (B, 3, H, W); its table is the map (B, 3, 4).
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

    table = maps

    def set_row(self, row: int, table: torch.Tensor) -> None:
        """Make style ``row``'s map ``table`` (3, 4) (the inverse of :meth:`maps` for one style)."""
        identity = torch.eye(3, 4, dtype=self.offset.dtype, device=self.offset.device)
        self.offset.data[row] = (table - identity) / self.SCALE

    def apply_table(self, logits: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bij,bjhw->bihw", maps[:, :, :3], logits) + maps[:, :, 3, None, None]

    def forward(self, logits: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.apply_table(logits, self.maps(style))


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

    Shape: x (B, C, H, W), style (B, S) -> (B, C, H, W); its table is (B, C, C).
    """

    SCALE = 0.3

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.zeros(num_styles, channels, channels))
        self._register_zero_fill()

    def table(self, style: torch.Tensor) -> torch.Tensor:
        """The mixed matrices Σ_s w_s M_s of style weights (B, S): (B, C, C)."""
        return torch.einsum("bs,sij->bij", style, self.offset)

    def set_row(self, row: int, table: torch.Tensor) -> None:
        """Make style ``row``'s matrix ``table`` (C, C)."""
        self.offset.data[row] = table

    def apply_table(self, x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        return x + torch.einsum("bij,bjhw->bihw", self.SCALE * table, x)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.apply_table(x, self.table(style))


class _ConvNormReLU(nn.Module):
    """(optional 2x nearest upsampling) - conv - conditional instance norm - (ReLU)."""

    def __init__(self, in_channels: int, out_channels: int, num_styles: int, stride: int = 1,
                 upsample: bool = False, relu: bool = True) -> None:
        super().__init__()
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest") if upsample else nn.Identity()
        self.conv = conv(in_channels, out_channels, 3, stride=stride)
        self.norm = ConditionalInstanceNorm2d(out_channels, num_styles)
        self.relu = relu

    def forward(self, x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        x = self.norm.apply_table(self.conv(self.upsample(x)), table)
        return torch.relu(x) if self.relu else x


class _ResidualBlock(nn.Module):
    """conv-CIN-ReLU-conv-CIN with an identity shortcut."""

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.first = _ConvNormReLU(channels, channels, num_styles)
        self.second = _ConvNormReLU(channels, channels, num_styles, relu=False)

    def forward(self, x: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.first(x, first), second)


_CONDITIONAL = (ConditionalInstanceNorm2d, ConditionalChannelMix, ConditionalColourMap)

Tables = dict[str, torch.Tensor]
"""One table per conditional module, by module name: (B, 2, C) (γ, β), (B, C, C) channel mixes, (B, 3, 4)
colour map. Tables are linear in the style weights, so a blend of styles is the weighted sum of theirs."""


@NETWORKS.register("fast_stylizer")
class FastStylizerNet(nn.Module):
    """Multi-style image transformation network with conditional instance norm.

    Args:
        num_styles: S, the number of styles (of (γ, β) sets, channel mixes and colour maps).
        channels: widths after each stride-2 convolution (the network's stride is 2**len(channels)).
        blocks: residual blocks at the lowest resolution.
        predictor: the arguments of a :class:`~stylefuse.nn.style_predictor.StylePredictor` that maps a
            painting's VGG16 statistics to one style's tables (Ghiasi et al. 2017), held by the network
            as ``predictor`` (None: named styles only).

    Shape: image (B, 3, H, W) in [0, 1] with H, W multiples of 2**len(channels), style (B, S) or (S,)
    non-negative weights (one-hot for a single style) -> (B, 3, H, W) in [0, 1]. ``forward`` is
    :meth:`forward_tables` of :meth:`tables`.
    """

    def __init__(self, num_styles: int = 1, channels: Sequence[int] = (16, 32, 64), blocks: int = 5,
                 predictor: dict[str, Any] | None = None) -> None:
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
        with torch.no_grad():
            self._shapes = {name: value.shape[1:] for name, value in self.tables(torch.zeros(1, num_styles)).items()}
        self.predictor_config = dict(predictor) if predictor is not None else None
        if predictor is not None:
            from stylefuse.nn.style_predictor import StylePredictor

            self.predictor = StylePredictor(outputs=sum(shape.numel() for shape in self._shapes.values()),
                                            **predictor)

    def forward(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if style.ndim == 1:
            style = style.expand(image.shape[0], -1)
        if style.ndim != 2 or style.shape != (image.shape[0], self.num_styles):
            raise ValueError(f"style weights must be (B, {self.num_styles}), got {tuple(style.shape)}")
        return self.forward_tables(image, self.tables(style.to(image.dtype)))

    def forward_tables(self, image: torch.Tensor, tables: Tables) -> torch.Tensor:
        """Stylize with explicit per-item tables (see :data:`Tables`, each (B, ...)) instead of style weights."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected images (B, 3, H, W), got {tuple(image.shape)}")
        if image.shape[-1] % self.stride or image.shape[-2] % self.stride:
            raise ValueError(f"height and width must be multiples of {self.stride}, got {tuple(image.shape[-2:])}")
        x = image - 0.5
        for index, layer in enumerate(self.down):
            x = layer(x, tables[f"down.{index}.norm"])
        for index, block in enumerate(self.blocks):
            x = block(x, tables[f"blocks.{index}.first.norm"], tables[f"blocks.{index}.second.norm"])
        x = self.mixes[0].apply_table(x, tables["mixes.0"])
        for index, (layer, mix) in enumerate(zip(self.up, self.mixes[1:])):
            x = mix.apply_table(layer(x, tables[f"up.{index}.norm"]), tables[f"mixes.{index + 1}"])
        return torch.sigmoid(self.colour.apply_table(self.to_rgb(x), tables["colour"]))

    def conditional_modules(self) -> dict[str, nn.Module]:
        """The modules that hold per-style tables, by name."""
        return {name: module for name, module in self.named_modules() if isinstance(module, _CONDITIONAL)}

    def tables(self, style: torch.Tensor) -> Tables:
        """The tables of style weights (B, S): each module's tables mixed by the weights, (B, ...) each."""
        return {name: module.table(style) for name, module in self.conditional_modules().items()}

    def table_shapes(self) -> dict[str, torch.Size]:
        """Each table's shape for one item, without the batch dimension."""
        return dict(self._shapes)

    def flatten_tables(self, tables: Tables) -> torch.Tensor:
        """Tables as one (B, D) tensor, in :meth:`table_shapes` order (what the predictor outputs)."""
        return torch.cat([tables[name].flatten(1) for name in self.table_shapes()], dim=1)

    def unflatten_tables(self, flat: torch.Tensor) -> Tables:
        """The inverse of :meth:`flatten_tables`: (B, D) -> tables."""
        tables, start = {}, 0
        for name, shape in self.table_shapes().items():
            tables[name] = flat[:, start:start + shape.numel()].reshape(flat.shape[0], *shape)
            start += shape.numel()
        return tables

    def predict_tables(self, descriptors: torch.Tensor) -> Tables:
        """The predicted tables of paintings from their flattened VGG16 statistics (B, F) (see
        :meth:`~stylefuse.nn.style_predictor.StylePredictor.features`)."""
        if self.predictor_config is None:
            raise ValueError("this network has no style predictor")
        return self.unflatten_tables(self.predictor(descriptors))

    def set_style_tables(self, row: int, tables: Tables) -> None:
        """Make style ``row`` the style of ``tables`` (one item, each (1, ...)): each module's table row."""
        for name, module in self.conditional_modules().items():
            module.set_row(row, tables[name][0])

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
                if isinstance(module, _CONDITIONAL)
                for key, table in module.named_parameters(recurse=False)}
