"""Optical flow helpers: warping, the forward-backward mask, detail restoration, the warping error."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")

from stylefuse.image import flow as F  # noqa: E402


@pytest.fixture
def scene() -> np.ndarray:
    rng = np.random.default_rng(0)
    import cv2

    return cv2.GaussianBlur(rng.random((48, 80, 3)).astype(np.float32), (0, 0), 2)


def shift_flow(height: int, width: int, dx: float) -> np.ndarray:
    flow = np.zeros((height, width, 2), np.float32)
    flow[..., 0] = dx
    return flow


def test_warp_follows_a_constant_flow(scene) -> None:
    warped = F.warp(scene, shift_flow(48, 80, 3))
    assert np.allclose(warped[:, :-3], scene[:, 3:], atol=1e-6)


def test_cubic_warp_keeps_detail_that_repeated_bilinear_warps_blur() -> None:
    import cv2

    rng = np.random.default_rng(4)
    texture = cv2.GaussianBlur(rng.random((48, 80, 3)).astype(np.float32), (0, 0), 1.0)
    there_and_back = {}
    for cubic in (False, True):
        image = texture
        for dx in (0.5, -0.5) * 4:  # half a pixel right, then back, four times
            image = F.warp(image, shift_flow(48, 80, dx), cubic=cubic)
        there_and_back[cubic] = np.abs(image - texture)[8:-8, 8:-8].mean()
    assert F.warp(texture, shift_flow(48, 80, 2), cubic=True)[:, :-2] == pytest.approx(texture[:, 2:], abs=1e-5)
    assert there_and_back[True] < 0.5 * there_and_back[False]


def test_mask_keeps_consistent_flow_and_drops_pixels_from_outside(scene) -> None:
    backward, forward = shift_flow(48, 60, 3), shift_flow(48, 60, -3)
    mask = F.consistency_mask(backward, forward)
    assert mask[:, :56].min() == 1 and mask[:, 57:].max() == 0  # x + 3 beyond the last column
    assert F.consistency_mask(backward, shift_flow(48, 60, 3))[:, :50].max() == 0  # forward disagrees


def test_estimated_flow_finds_a_pan(scene) -> None:
    first, second = scene[:, 4:68], scene[:, 6:70]  # the view moves right: content moves 2 px left
    estimate = F.FlowEstimator("medium")(F.grey(second), F.grey(first))
    assert abs(float(np.median(estimate[8:-8, 8:-8, 0])) - 2) < 0.5


def test_restore_detail_brings_back_the_reference_contrast(scene) -> None:
    import cv2

    rng = np.random.default_rng(1)
    texture = np.clip(scene + rng.normal(0, 0.1, scene.shape).astype(np.float32), 0, 1)
    averaged = 0.5 * texture + 0.5 * np.clip(scene + rng.normal(0, 0.1, scene.shape).astype(np.float32), 0, 1)
    restored = F.restore_detail(averaged, texture)

    def detail(image):
        return (image - cv2.GaussianBlur(image, (7, 7), 1.5)).std()

    assert detail(averaged) < 0.8 * detail(texture) and abs(detail(restored) - detail(texture)) < 0.1 * detail(texture)


def test_restore_detail_brings_back_coarser_strokes_too(scene) -> None:
    import cv2

    rng = np.random.default_rng(2)

    def strokes() -> np.ndarray:  # texture at a few pixels' scale, as a network's brush strokes
        return cv2.GaussianBlur(rng.normal(0, 0.3, scene.shape).astype(np.float32), (0, 0), 1.5)

    texture = np.clip(scene + strokes(), 0, 1)
    averaged = 0.5 * texture + 0.5 * np.clip(scene + strokes(), 0, 1)

    def band(image):  # the second band of restore_detail
        low = cv2.GaussianBlur(image, (7, 7), 1.5)
        return (low - cv2.GaussianBlur(low, (13, 13), 3.0)).std()

    restored = F.restore_detail(averaged, texture)
    assert band(averaged) < 0.85 * band(texture) and abs(band(restored) - band(texture)) < 0.05 * band(texture)
    assert abs(band(F.restore_detail(averaged, texture, sigmas=(1.5,))) - band(texture)) > 0.1 * band(texture)


def test_texture_agreement_tells_the_same_strokes_from_new_ones(scene) -> None:
    import cv2

    rng = np.random.default_rng(3)

    def strokes() -> np.ndarray:
        return cv2.GaussianBlur(rng.normal(0, 0.3, scene.shape).astype(np.float32), (0, 0), 1.0)

    texture = np.clip(scene + strokes(), 0, 1)
    redrawn = np.clip(scene + strokes(), 0, 1)  # the same scene, other strokes
    same = F.texture_agreement(texture, np.clip(texture + rng.normal(0, 0.01, scene.shape).astype(np.float32), 0, 1))
    other = F.texture_agreement(texture, redrawn)
    assert same.shape == other.shape == scene.shape[:2]
    assert same.mean() > 0.9 and other.mean() < 0.25 and 0 <= other.min() and same.max() <= 1
    assert F.texture_agreement(texture, texture, shrink=1).shape == scene.shape[:2]


def test_weigh_detail_keeps_the_smooth_part_whole(scene) -> None:
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 0.1, scene.shape).astype(np.float32)
    shift = np.full(scene.shape, 0.2, np.float32)  # a colour change: all smooth
    weight = np.zeros(scene.shape[:2], np.float32)
    assert np.allclose(F.weigh_detail(shift, weight), shift, atol=1e-6)
    assert np.abs(F.weigh_detail(noise, weight)).mean() < 0.2 * np.abs(noise).mean()
    assert np.allclose(F.weigh_detail(noise, weight + 1), noise, atol=1e-6)


def test_warping_error_is_zero_for_a_perfect_warp(scene) -> None:
    flow, mask = shift_flow(48, 77, 3), np.ones((48, 77), np.float32)
    previous, current = scene[:, :77], scene[:, 3:80]
    mask[:, -4:] = 0
    assert F.warping_error(current, previous, flow, mask) < 1e-10
    assert F.warping_error(current, previous[::-1], flow, mask) > 1e-3
