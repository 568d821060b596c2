"""Content metrics: PSNR reference values, Canny edges, orderings that must hold under noise."""

from __future__ import annotations

import pytest
import torch

from stylefuse.metrics.content import canny, psnr
from stylefuse.registry import METRICS
from tests.helpers import disc_photo, noisy_copy

CONTENT_METRICS = ("lpips_vgg16_caffe", "ssim", "edge_f1")


def test_psnr_reference_values() -> None:
    reference = torch.zeros(2, 3, 4, 4)
    image = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 2.0)])  # the second is clamped to 1
    torch.testing.assert_close(psnr(image, reference), torch.tensor([20.0, 0.0]))
    assert psnr(reference, reference).tolist() == pytest.approx([100.0, 100.0])  # floored, never infinite


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
