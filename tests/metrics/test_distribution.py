"""Distribution metrics: KID is unbiased, FID matches a known case."""

from __future__ import annotations

import numpy as np
import pytest

from stylefuse.metrics.distribution import frechet_distance, kernel_inception_distance


def test_kid_is_unbiased_and_fid_matches_a_known_case() -> None:
    rng = np.random.default_rng(0)
    draws = [kernel_inception_distance(rng.normal(size=(20, 8)), rng.normal(size=(20, 8))) for _ in range(300)]
    standard_error = np.std(draws) / np.sqrt(len(draws))
    assert abs(np.mean(draws)) < 3 * standard_error  # the biased estimator is clearly positive here
    shifted = kernel_inception_distance(rng.normal(size=(50, 8)), rng.normal(size=(50, 8)) + 1.0)
    assert shifted > 10 * np.std(draws)
    a = rng.normal(size=(4000, 3))
    assert frechet_distance(a, a + np.array([2.0, 0.0, 0.0])) == pytest.approx(4.0, rel=1e-3)
