"""Content fidelity: how much of the photo survives stylization.

- ``lpips_vgg16_caffe``: an LPIPS-like distance (Zhang et al. 2018): the linear heads of the ``lpips``
  package (v0.1, VGG) applied to stylefuse's offline VGG16 (Caffe weights, not the torchvision ones the
  heads were calibrated on), so it is uncalibrated: compare methods with it, not with published LPIPS.
- ``ssim``: structural similarity on luminance (Wang et al. 2004), Gaussian window 11, σ 1.5.
- ``edge_f1``: F-score of Canny edges (Canny 1986) of the result against the photo's, 1 px tolerance.

:func:`psnr` (not registered: stylization is not meant to keep pixels) serves reconstruction tasks, with its
restoration variants :func:`psnr_y` (super-resolution) and :func:`masked_psnr` (inpainting).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F

from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.errors import StylefuseError
from stylefuse.image import ops
from stylefuse.metrics._base import PairMetric
from stylefuse.registry import METRICS

LPIPS_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")


def psnr(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of images in [0, 1], per item: (B, C, H, W) -> (B,).

    ``image`` is clamped to [0, 1] first (what would be saved); the mean squared error is floored at
    1e-10, so identical images give 100 dB rather than infinity.
    """
    mse = (image.clamp(0, 1) - reference).pow(2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def psnr_y(image: torch.Tensor, reference: torch.Tensor, border: int = 0) -> torch.Tensor:
    """PSNR in dB of the luma channel, per item: (B, 3, H, W) -> (B,), the super-resolution convention
    (Dong et al. 2014, SRCNN; MATLAB's ``rgb2ycbcr``): studio-swing ITU-R BT.601 Y = (16 + 219·Y') / 255
    with Y' the full-range luma, and ``border`` pixels cropped from every side (usually the scale factor)
    because the borders of upscaled images have no neighbours to interpolate from.
    """
    luma = [16 / 255 + 219 / 255 * ops.crop_border(ops.luminance(x), border) for x in (image.clamp(0, 1), reference)]
    return psnr(*luma)


def masked_psnr(image: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB over the pixels where ``mask`` is 1 only (the holes of an inpainting task), per item.

    Args:
        image, reference: (B, C, H, W) in [0, 1]; ``image`` is clamped first.
        mask: (B, 1, H, W) in {0, 1}; an item with an empty mask scores 100 dB (nothing to get wrong).
    """
    mask = mask.to(image.dtype)
    squared = (image.clamp(0, 1) - reference).pow(2) * mask
    mse = squared.sum(dim=(1, 2, 3)) / (mask.sum(dim=(1, 2, 3)) * image.shape[1]).clamp_min(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def _match(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    return content if content.shape == result.shape else ops.resize(content, tuple(result.shape[-2:])).clamp(0, 1)


@functools.lru_cache(maxsize=1)
def _lpips_heads() -> list[torch.Tensor]:
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        raise StylefuseError("lpips_vgg16_caffe needs the lpips==0.1.4 package: pip install 'stylefuse[eval]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / "v0.1" / "vgg.pth"
    state = torch.load(path, weights_only=True, map_location="cpu")
    return [state[f"lin{index}.model.1.weight"].float() for index in range(len(LPIPS_LAYERS))]


@METRICS.register("lpips_vgg16_caffe")
class LpipsVGG16Caffe(PairMetric):
    """LPIPS-like perceptual distance to the photo over the offline VGG16 (uncalibrated); 0 = same."""

    kind = "content"

    def __init__(self) -> None:
        self.encoder = MultiLayerEncoder(LPIPS_LAYERS)
        self.heads = _lpips_heads()

    @torch.inference_mode()
    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Per-image distance of (B, 3, H, W) batches in [0, 1] -> (B,)."""
        fa, fb = self.encoder(a), self.encoder(b)
        total = torch.zeros(a.shape[0])
        for name, head in zip(LPIPS_LAYERS, self.heads):
            na = fa[name] / (fa[name].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = fb[name] / (fb[name].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total += F.conv2d((na - nb).pow(2), head).mean(dim=(1, 2, 3))
        return total

    def __call__(self, result, content, style) -> float:
        return float(self.distance(result[None], _match(result, content)[None])[0])


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-coords.pow(2) / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).view(1, 1, size, size)


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean SSIM of single-channel images (B, 1, H, W) in [0, 1] -> (B,) (Wang et al. 2004); with a (B, 1, H, W)
    ``mask`` in {0, 1}, the mean over the windows centred where it is 1 (a stitched picture's covered area)."""
    window = _gaussian_window().to(a)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = F.conv2d(a, window), F.conv2d(b, window)
    var_a = F.conv2d(a * a, window) - mu_a ** 2
    var_b = F.conv2d(b * b, window) - mu_b ** 2
    cov = F.conv2d(a * b, window) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    if mask is None:
        return index.mean(dim=(1, 2, 3))
    half = window.shape[-1] // 2
    centres = mask[..., half:-half, half:-half].to(index)
    return (index * centres).sum(dim=(1, 2, 3)) / centres.sum(dim=(1, 2, 3)).clamp_min(1)


@METRICS.register("ssim")
class LuminanceSSIM(PairMetric):
    """SSIM between the luminances of the result and the photo; 1 = identical structure."""

    kind = "content"
    higher_is_better = True

    def __call__(self, result, content, style) -> float:
        if min(result.shape[-2:]) < 11:
            raise ValueError("ssim needs images of at least 11x11 pixels")
        return float(ssim(ops.luminance(result)[None], ops.luminance(_match(result, content))[None])[0])


def canny(gray: torch.Tensor, low: float = 0.1, high: float = 0.2, sigma: float = 1.4) -> torch.Tensor:
    """Canny edges of (1, H, W) in [0, 1] -> boolean (H, W): Gaussian smoothing, Sobel gradients,
    non-maximum suppression along 4 directions, and hysteresis between ``low`` and ``high`` times the
    largest gradient magnitude (thresholds relative to the image, so contrast changes matter less)."""
    x = gray[None].float()
    radius = max(1, int(round(2 * sigma)))
    coords = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-coords.pow(2) / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    x = F.pad(x, [radius] * 4, mode="replicate")
    x = F.conv2d(F.conv2d(x, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    padded = F.pad(x, [1] * 4, mode="replicate")
    gx = F.conv2d(padded, sobel.view(1, 1, 3, 3))[0, 0]
    gy = F.conv2d(padded, sobel.t().reshape(1, 1, 3, 3))[0, 0]
    magnitude = torch.hypot(gx, gy)
    angle = torch.rad2deg(torch.atan2(gy, gx)) % 180
    direction = ((angle + 22.5) // 45).long() % 4  # 0: horizontal gradient, 1: 45°, 2: vertical, 3: 135°
    m = F.pad(magnitude[None, None], [1] * 4)[0, 0]
    h, w = magnitude.shape
    offsets = {0: ((0, 1), (0, -1)), 1: ((1, 1), (-1, -1)), 2: ((1, 0), (-1, 0)), 3: ((1, -1), (-1, 1))}
    keep = torch.zeros_like(magnitude, dtype=torch.bool)
    for code, ((dy1, dx1), (dy2, dx2)) in offsets.items():
        n1 = m[1 + dy1:1 + dy1 + h, 1 + dx1:1 + dx1 + w]
        n2 = m[1 + dy2:1 + dy2 + h, 1 + dx2:1 + dx2 + w]
        keep |= (direction == code) & (magnitude >= n1) & (magnitude >= n2)
    peak = float(magnitude.max())
    if peak <= 1e-6:
        return torch.zeros_like(keep)
    thin = magnitude * keep
    strong, weak = thin >= high * peak, thin >= low * peak
    edges = strong
    for _ in range(max(h, w)):
        grown = (F.max_pool2d(edges[None, None].float(), 3, 1, 1)[0, 0] > 0) & weak
        if torch.equal(grown, edges):
            break
        edges = grown
    return edges


def edge_f1(result: torch.Tensor, content: torch.Tensor, tolerance: int = 1) -> float:
    """F-score of the result's Canny edges against the photo's, a match within ``tolerance`` pixels."""
    a, b = canny(ops.luminance(result)), canny(ops.luminance(content))
    if not a.any() and not b.any():
        return 1.0
    size = 2 * tolerance + 1
    near_a = F.max_pool2d(a[None, None].float(), size, 1, tolerance)[0, 0] > 0
    near_b = F.max_pool2d(b[None, None].float(), size, 1, tolerance)[0, 0] > 0
    precision = float((a & near_b).sum()) / max(1, int(a.sum()))
    recall = float((b & near_a).sum()) / max(1, int(b.sum()))
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@METRICS.register("edge_f1")
class EdgeF1(PairMetric):
    """F-score of Canny edges of the result against the photo's (1 px tolerance); 1 = same edges."""

    kind = "content"
    higher_is_better = True

    def __call__(self, result, content, style) -> float:
        return edge_f1(result, _match(result, content))
