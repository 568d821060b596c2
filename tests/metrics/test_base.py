"""The pair-metric contract: every metric is registered and scores identical images perfectly."""

from __future__ import annotations

import pytest
import torch

from stylefuse.registry import METRICS
from tests.helpers import disc_photo
from tests.metrics.test_content import CONTENT_METRICS
from tests.metrics.test_style import STYLE_METRICS


def test_every_metric_is_registered() -> None:
    assert set(CONTENT_METRICS + STYLE_METRICS) <= set(METRICS.names())


@pytest.mark.parametrize("name", CONTENT_METRICS + STYLE_METRICS)
def test_identical_images_score_perfectly(name) -> None:
    metric, image = METRICS.create(name), disc_photo()
    perfect = 1.0 if metric.higher_is_better else 0.0
    assert metric(image, image, image) == pytest.approx(perfect, abs=1e-4)


def test_a_pair_metric_must_define_its_score_and_defaults_to_a_lower_is_better_content_metric() -> None:
    from stylefuse.metrics._base import PairMetric

    with pytest.raises(TypeError, match="abstract"):
        PairMetric()

    class MeanDifference(PairMetric):
        def __call__(self, result, content, style) -> float:
            return (result - content).abs().mean().item()

    metric = MeanDifference()
    assert metric.kind == "content" and metric.higher_is_better is False
    assert metric(torch.ones(3, 4, 4), torch.zeros(3, 4, 4), torch.zeros(3, 2, 2)) == 1.0


@pytest.mark.parametrize("name", CONTENT_METRICS + STYLE_METRICS)
def test_every_metric_declares_its_kind(name) -> None:
    metric = METRICS.create(name)
    assert metric.kind == ("content" if name in CONTENT_METRICS else "style")
    assert isinstance(metric.higher_is_better, bool)
