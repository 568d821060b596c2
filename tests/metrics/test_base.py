"""The pair-metric contract: every metric is registered and scores identical images perfectly."""

from __future__ import annotations

import pytest

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
