"""Tensor image operations shared by every method: value ranges, resizing, pyramids, colour handling
and tiling.

Images are (3, H, W) or (B, 3, H, W) float tensors in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stylefuse.image.arrays import size_for_long_side
from stylefuse.losses.functional import mean_std

# ITU-R BT.601 luma coefficients, as in YIQ / YCbCr.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.596, -0.274, -0.322],
                            [0.211, -0.523, 0.312]])


def to_signed_range(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1], the range of tanh generators and of the FID Inception; any shape."""
    return images * 2 - 1


def from_signed_range(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped; any shape (inverse of :func:`to_signed_range`)."""
    return ((images + 1) / 2).clamp(0, 1)


def luminance(images: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma (the Y of YIQ / YCbCr) of (..., 3, H, W) RGB -> (..., 1, H, W)."""
    weights = _RGB_TO_YIQ[0].to(images).view(3, 1, 1)
    return (images * weights).sum(-3, keepdim=True)


def resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize (B, C, H, W) or (C, H, W) to ``size`` = (H', W'): antialiased bicubic when shrinking,
    bicubic when enlarging; the result is clamped to [0, 1] (bicubic overshoots at edges)."""
    batched = images.ndim == 4
    x = images if batched else images[None]
    if tuple(x.shape[-2:]) != tuple(size):
        shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
        x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=shrinking).clamp(0, 1)
    return x if batched else x[0]


def resize_long_side(images: torch.Tensor, long_side: int) -> torch.Tensor:
    """Resize so that the longer side has ``long_side`` pixels (see :func:`resize`)."""
    height, width = images.shape[-2:]
    return resize(images, size_for_long_side(height, width, long_side))


def pyramid_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """Sizes of a coarse-to-fine pyramid that ends at (height, width), halving per level.

    Returns:
        ``levels`` sizes, coarsest first.
    """
    if levels < 1:
        raise ValueError(f"a pyramid needs at least one level, got {levels}")
    return [(max(1, round(height / 2**k)), max(1, round(width / 2**k))) for k in reversed(range(levels))]


def rgb_to_yiq(images: torch.Tensor) -> torch.Tensor:
    """RGB (…, 3, H, W) to YIQ: luminance Y and two chroma channels."""
    return torch.einsum("ij,...jhw->...ihw", _RGB_TO_YIQ.to(images), images)


def yiq_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yiq`."""
    return torch.einsum("ij,...jhw->...ihw", torch.linalg.inv(_RGB_TO_YIQ).to(images), images)


def rotate_hue(images: torch.Tensor, angle: torch.Tensor, saturation: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of (B, 3, H, W) RGB images by ``angle`` radians and scale their saturation by
    ``saturation`` (both (B,)), in YIQ space so that luminance is kept; the result is clamped to [0, 1]."""
    yiq = rgb_to_yiq(images)
    cos, sin = (torch.cos(angle) * saturation)[:, None, None], (torch.sin(angle) * saturation)[:, None, None]
    i, q = yiq[:, 1], yiq[:, 2]
    rotated = torch.stack([yiq[:, 0], cos * i - sin * q, sin * i + cos * q], dim=1)
    return yiq_to_rgb(rotated).clamp(0, 1)


def preserve_color(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Keep the content's colours and take only the luminance of the stylized image
    (luminance-only transfer, Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer").

    The stylized luminance is first matched to the content's luminance mean and standard deviation
    (:func:`stylefuse.losses.functional.mean_std`), so the picture keeps the content's brightness.

    Args:
        stylized, content: (3, H, W) or (B, 3, H, W); content is resized to the stylized size.
    """
    batched = stylized.ndim == 4
    stylized = stylized if batched else stylized[None]
    content = resize(content if content.ndim == 4 else content[None], tuple(stylized.shape[-2:]))
    styl_yiq, cont_yiq = rgb_to_yiq(stylized), rgb_to_yiq(content)
    (mean_s, std_s), (mean_c, std_c) = mean_std(styl_yiq[:, :1]), mean_std(cont_yiq[:, :1])
    y = (styl_yiq[:, :1] - mean_s[..., None, None]) * (std_c / std_s)[..., None, None] + mean_c[..., None, None]
    result = yiq_to_rgb(torch.cat([y, cont_yiq[:, 1:]], dim=1)).clamp(0, 1)
    return result if batched else result[0]


def pad_to_multiple(images: torch.Tensor, multiple: int, minimum: int = 0, reflect: bool = False) -> torch.Tensor:
    """Pad (B, C, H, W) at the bottom and right up to multiples of ``multiple`` of at least ``minimum``.

    Edges are replicated, or mirrored when ``reflect`` and the image is larger than the padding (mirroring
    keeps instance-norm statistics closer to the unpadded image's).
    """
    height, width = images.shape[-2:]
    pad_h = max(minimum - height, 0) + (-max(height, minimum)) % multiple
    pad_w = max(minimum - width, 0) + (-max(width, minimum)) % multiple
    if not (pad_h or pad_w):
        return images
    mode = "reflect" if reflect and pad_h < height and pad_w < width else "replicate"
    return F.pad(images, [0, pad_w, 0, pad_h], mode=mode)


def reflect_border(images: torch.Tensor, border: int) -> torch.Tensor:
    """Mirror ``border`` pixels of (B, C, H, W) onto all four sides -> (B, C, H + 2·border, W + 2·border).

    Networks with zero padding (VGG16) see a dark frame at the image's edges; a mirrored border moves that
    frame outside the region that is kept (see :func:`crop_border`). ``border`` must be smaller than H and W.
    """
    if not 0 <= border < min(images.shape[-2:]):
        raise ValueError(f"border ({border}) must be between 0 and the image's short side ({min(images.shape[-2:])})")
    return F.pad(images, [border] * 4, mode="reflect") if border else images


def crop_border(images: torch.Tensor, border: int) -> torch.Tensor:
    """Remove ``border`` pixels from all four sides of (..., H, W), undoing :func:`reflect_border`."""
    height, width = images.shape[-2:]
    return images[..., border:height - border, border:width - border]


def apply_padded(fn, images: torch.Tensor, multiple: int) -> torch.Tensor:
    """Run ``fn`` on (B, C, H, W) padded (replicating edges) up to multiples of ``multiple``, then crop
    back, for networks that need sizes divisible by their total stride."""
    height, width = images.shape[-2:]
    return fn(pad_to_multiple(images, multiple))[..., :height, :width]


def split_evenly(length: int, piece: int, multiple: int = 1) -> list[tuple[int, int]]:
    """Cut ``[0, length)`` into the fewest near-equal pieces of at most about ``piece`` pixels, the inner
    bounds on multiples of ``multiple`` (so each piece starts on the stride grid of a single pass).

    Unlike fixed strides, no piece is tiny. Returns:
        [(start, end), ...], contiguous, covering ``[0, length)``.
    """
    pieces = -(-length // piece)
    inner = {round(i * length / pieces / multiple) * multiple for i in range(1, pieces)}
    bounds = [0, *sorted(b for b in inner if 0 < b < length), length]
    return list(zip(bounds[:-1], bounds[1:]))


def overlapping_tiles(length: int, tile: int, overlap: int, multiple: int = 1) -> list[tuple[int, int]]:
    """Tiles of at most about ``tile`` pixels covering ``[0, length)``, each sharing exactly ``overlap``
    pixels with the next: :func:`split_evenly` of ``length - overlap``, each piece extended by the overlap.

    Returns:
        [(start, end), ...]; one tile when ``length <= tile``.
    """
    if length <= tile:
        return [(0, length)]
    return [(start, end + overlap) for start, end in split_evenly(length - overlap, tile - overlap, multiple)]


def _ramp(length: int, overlap: int, fade_in: bool, fade_out: bool) -> torch.Tensor:
    weight = torch.ones(length)
    ramp = torch.linspace(0, 1, overlap + 2)[1:-1]
    if fade_in and overlap:
        weight[:overlap] = ramp
    if fade_out and overlap:
        weight[-overlap:] = ramp.flip(0)
    return weight


def apply_tiled(fn, images: torch.Tensor, tile: int = 512, overlap: int = 64, multiple: int = 1,
                margin: int = 0) -> torch.Tensor:
    """Run an image-to-image ``fn`` on overlapping tiles and blend the seams with linear ramps, so
    that memory stays bounded by the tile size whatever the image size.

    Each tile is computed with ``margin`` extra pixels of the image around it (where there are any)
    that are cropped off afterwards (the overlap-tile strategy of Ronneberger et al. 2015), so that
    pixels near a tile's border see real context instead of padding; with a margin as large as the
    network's receptive field, tiles reproduce a single pass up to the blend.

    Args:
        fn: (B, C, h, w) -> (B, C', h, w), fully convolutional.
        images: (B, C, H, W).
        tile: tile side in pixels; images no larger than this run in one piece.
        overlap: pixels shared by neighbouring tiles, blended linearly.
        multiple: tiles are padded to multiples of this (the network's total stride); tile starts
            and margins are multiples of it too (see :func:`overlapping_tiles`).
        margin: context pixels around each tile (rounded up to a multiple of ``multiple``); a tile
            with its margins spans at most ``tile + 2 * margin (+ multiple)`` pixels.
    """
    if overlap >= tile:
        raise ValueError(f"overlap ({overlap}) must be smaller than the tile ({tile})")
    height, width = images.shape[-2:]
    if height <= tile and width <= tile:
        return apply_padded(fn, images, multiple)
    margin = -(-margin // multiple) * multiple
    rows = overlapping_tiles(height, tile, overlap, multiple)
    columns = overlapping_tiles(width, tile, overlap, multiple)
    out, total = None, torch.zeros(1, 1, height, width, device=images.device)
    for top, bottom in rows:
        y0, y1 = max(0, top - margin), min(height, bottom + margin)
        for left, right in columns:
            x0, x1 = max(0, left - margin), min(width, right + margin)
            result = apply_padded(fn, images[..., y0:y1, x0:x1], multiple)
            result = result[..., top - y0:bottom - y0, left - x0:right - x0]
            if out is None:
                out = torch.zeros(images.shape[0], result.shape[1], height, width, device=images.device)
            weight = (_ramp(bottom - top, overlap, top > 0, bottom < height)[:, None]
                      * _ramp(right - left, overlap, left > 0, right < width)[None, :]).to(images.device)
            out[..., top:bottom, left:right] += result * weight
            total[..., top:bottom, left:right] += weight
    return out / total
