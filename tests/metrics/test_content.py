"""Content metrics: PSNR reference values, Canny edges, orderings that must hold under noise."""

from __future__ import annotations

import pytest
import torch

from stylefuse.metrics.content import canny, masked_psnr, psnr, psnr_y, ssim
from stylefuse.registry import METRICS
from tests.helpers import disc_photo, noisy_copy

CONTENT_METRICS = ("lpips_vgg16_caffe", "ssim", "edge_f1")


def test_psnr_reference_values() -> None:
    reference = torch.zeros(2, 3, 4, 4)
    image = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 2.0)])  # the second is clamped to 1
    torch.testing.assert_close(psnr(image, reference), torch.tensor([20.0, 0.0]))
    assert psnr(reference, reference).tolist() == pytest.approx([100.0, 100.0])  # floored, never infinite


def test_masked_ssim_scores_only_the_windows_centred_in_the_mask() -> None:
    torch.manual_seed(0)
    reference = torch.rand(1, 1, 48, 64)
    image = reference.clone()
    image[..., 32:] = torch.rand(1, 1, 48, 32)  # the right half is wrong
    mask = torch.zeros(1, 1, 48, 64)
    mask[..., :24] = 1  # windows (11 px) centred here stay inside the left half
    assert float(ssim(image, reference, mask)) == pytest.approx(1.0)
    assert float(ssim(image, reference, 1 - mask)) < 0.5
    assert float(ssim(image, reference)) < float(ssim(image, reference, mask))


def test_psnr_y_measures_studio_luma_inside_the_border() -> None:
    reference = torch.zeros(1, 3, 12, 12)
    image = reference.clone()
    image[..., 2:10, 2:10] = 0.1  # grey error of 0.1 inside a 2-px border
    image[..., :2, :] = 1.0  # a wrong border, cropped away
    # studio swing scales luma differences by 219/255: 20·log10(255 / (219·0.1)) dB
    expected = 20 * torch.log10(torch.tensor(255 / (219 * 0.1)))
    torch.testing.assert_close(psnr_y(image, reference, border=2), expected[None])
    assert psnr_y(image, reference, border=0) < expected - 5  # the border counts without the crop
    grey = torch.full((1, 3, 12, 12), 0.5)
    chroma_only = grey + torch.tensor([0.1, -0.1 * 0.299 / 0.587, 0.0]).view(1, 3, 1, 1)  # luma unchanged
    assert psnr_y(chroma_only, grey).item() > 60 and psnr(chroma_only, grey).item() < 25


def test_masked_psnr_counts_only_the_holes() -> None:
    reference = torch.zeros(2, 3, 8, 8)
    image = torch.full((2, 3, 8, 8), 0.5)
    image[:, :, :4] = 0.1  # error 0.1 in the top half, 0.5 in the bottom half
    mask = torch.zeros(2, 1, 8, 8)
    mask[0, :, :4] = 1
    mask[1, :, 4:] = 1
    torch.testing.assert_close(masked_psnr(image, reference, mask), torch.tensor([20.0, 20 * 0.30103]), rtol=0,
                               atol=1e-4)
    assert masked_psnr(image, reference, torch.zeros(2, 1, 8, 8)).tolist() == pytest.approx([100.0, 100.0])


@pytest.mark.parametrize("name", CONTENT_METRICS)
def test_more_noise_is_further_from_the_content(name) -> None:
    metric, image = METRICS.create(name), disc_photo()
    scores = [metric(noisy_copy(image, amount), image, image) for amount in (0.05, 0.2, 0.5)]
    ordered = sorted(scores, reverse=metric.higher_is_better)
    assert scores == ordered and scores[0] != scores[-1]


def test_canny_finds_the_outline_of_a_square() -> None:
    image = torch.zeros(1, 40, 40)
    image[:, 10:30, 10:30] = 1.0
    edges = canny(image)
    assert edges[10:30, 8:12].any() and edges[10:30, 28:32].any()
    assert not edges[15:25, 15:25].any() and not edges[:5, :5].any()
