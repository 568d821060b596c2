"""Image-to-image generators. Input and output are (B, C, H, W) in [-1, 1] (tanh output)."""

from __future__ import annotations

import torch
from torch import nn

from stylefuse.nn.layers import ResidualBlock, conv, init_weights, norm_layer, upsample_conv
from stylefuse.registry import NETWORKS


@NETWORKS.register("resnet_generator")
class ResnetGenerator(nn.Module):
    """Encoder - residual blocks - decoder generator (Johnson et al. 2016, as used by CycleGAN,
    Zhu et al. 2017): a 7x7 conv, two stride-2 convs, ``blocks`` residual blocks, two 2x upsamplings,
    a 7x7 conv and tanh. 6 blocks for 128 px, 9 for 256 px in the papers.

    Shape: (B, in_channels, H, W) -> (B, out_channels, H, W); H, W multiples of 4.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, base: int = 64, blocks: int = 9,
                 norm: str = "instance", padding: str = "reflect", upsample: str = "nearest",
                 init: str = "normal") -> None:
        super().__init__()
        layers = [conv(in_channels, base, 7, padding=padding), norm_layer(norm, base), nn.ReLU(True)]
        channels = base
        for _ in range(2):
            layers += [conv(channels, channels * 2, 3, stride=2, padding=padding), norm_layer(norm, channels * 2),
                       nn.ReLU(True)]
            channels *= 2
        layers += [ResidualBlock(channels, norm, padding) for _ in range(blocks)]
        for _ in range(2):
            layers += [upsample_conv(channels, channels // 2, padding, upsample), norm_layer(norm, channels // 2),
                       nn.ReLU(True)]
            channels //= 2
        layers += [conv(channels, out_channels, 7, padding=padding), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def layer_groups(self) -> dict[str, tuple[str, ...]]:
        """State-dict prefixes of the coarse layers (input convolution, downsampling, residual blocks) and of
        the fine ones (the two upsampling stages and the output convolution: the last 8 modules of ``net``),
        for resolution-dependent model fusion (Pinkney & Adler 2020)."""
        first_fine = len(self.net) - 8
        return {"coarse": tuple(f"net.{index}." for index in range(first_fine)),
                "fine": tuple(f"net.{index}." for index in range(first_fine, len(self.net)))}


class _UnetLevel(nn.Module):
    """One level of a U-Net: down, the inner levels, up, and the skip concatenation."""

    def __init__(self, outer: int, inner: int, submodule: nn.Module | None, norm: str, dropout: bool,
                 outermost: bool = False, in_channels: int | None = None, out_channels: int | None = None) -> None:
        super().__init__()
        down_in = in_channels or outer
        self.outermost = outermost
        down = [nn.Conv2d(down_in, inner, 4, 2, 1, bias=norm != "batch")]
        if not outermost:
            down = [nn.LeakyReLU(0.2, True)] + down + ([norm_layer(norm, inner)] if submodule is not None else [])
        up_in = inner if submodule is None else inner * 2
        up = [nn.ReLU(True), nn.ConvTranspose2d(up_in, out_channels or outer, 4, 2, 1)]
        up += [nn.Tanh()] if outermost else [norm_layer(norm, outer)] + ([nn.Dropout(0.5)] if dropout else [])
        self.down = nn.Sequential(*down)
        self.inner = submodule if submodule is not None else nn.Identity()
        self.up = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.inner(self.down(x)))
        return y if self.outermost else torch.cat([x, y], dim=1)


def unet_depth(size: int, deepest: int = 8) -> int:
    """The deepest U-Net (at most ``deepest`` levels) that a ``size`` x ``size`` crop fits: each level halves
    the image, so ``size`` must be a multiple of ``2**depth`` (7 for 128 px, 8 for 256 px, 2 for 100 px)."""
    depth = 0
    while depth < deepest and size % 2 ** (depth + 1) == 0:
        depth += 1
    return depth


@NETWORKS.register("unet_generator")
class UnetGenerator(nn.Module):
    """U-Net generator with skip connections (Ronneberger et al. 2015; pix2pix, Isola et al. 2017).

    ``depth`` stride-2 levels (8 for 256 px, 7 for 128 px; :func:`unet_depth` picks one for a crop size);
    level ``i`` from the outside has ``base * min(2**i, 8)`` channels, and the 8x levels between the
    innermost one and the 4x level use dropout as in pix2pix (three at depth 8).

    Shape: (B, in_channels, H, W) -> (B, out_channels, H, W); H, W multiples of 2**depth.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, base: int = 64, depth: int = 8,
                 norm: str = "batch", dropout: bool = True, init: str = "normal") -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"a U-Net needs depth >= 1, got {depth}")
        self.depth = depth
        width = [base * min(2**level, 8) for level in range(depth)]
        block = None
        for level in range(depth - 1, 0, -1):  # innermost first; level 0 is the outermost
            block = _UnetLevel(width[level - 1], width[level], block, norm,
                               dropout and block is not None and level >= 4)
        self.net = _UnetLevel(out_channels, base, block, norm, False, outermost=True, in_channels=in_channels,
                              out_channels=out_channels)
        init_weights(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        multiple = 2**self.depth
        if x.shape[-1] % multiple or x.shape[-2] % multiple:
            raise ValueError(f"U-Net of depth {self.depth} needs H and W multiples of {multiple}, got {tuple(x.shape)}")
        return self.net(x)


@NETWORKS.register("dcgan_generator")
class DCGANGenerator(nn.Module):
    """DCGAN generator (Radford et al. 2016): a latent vector through transposed convolutions with
    batch norm and ReLU to a ``size`` x ``size`` image, tanh output.

    Shape: (B, latent) -> (B, out_channels, size, size); size a power of two >= 16.
    """

    def __init__(self, latent: int = 100, size: int = 64, base: int = 64, out_channels: int = 3,
                 init: str = "normal") -> None:
        super().__init__()
        if size < 16 or size & (size - 1):
            raise ValueError(f"DCGAN size must be a power of two >= 16, got {size}")
        self.latent = latent
        ups = size.bit_length() - 4  # 4x4 -> size: log2(size) - 2 doublings, the last one to the image
        channels = base * 2**ups
        layers = [nn.ConvTranspose2d(latent, channels, 4, 1, 0, bias=False), nn.BatchNorm2d(channels), nn.ReLU(True)]
        for _ in range(ups):
            layers += [nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(channels // 2),
                       nn.ReLU(True)]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, out_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self, init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], self.latent, 1, 1))
