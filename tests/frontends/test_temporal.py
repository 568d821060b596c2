"""Temporal filters on a synthetic pan: FlowBlend keeps the scene at one phase of the stylizer's pixel grid."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")

from stylefuse.frontends.temporal import GRID, FlowBlend, FrameByFrame  # noqa: E402
from stylefuse.image.flow import warping_error  # noqa: E402

STEP = 3  # pixels a frame: not a multiple of the grid


@pytest.fixture
def pan() -> list[np.ndarray]:
    """Eight 64x96 views of a smooth random scene, each 3 px further right."""
    import cv2

    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.random((64, 96 + 8 * STEP, 3)).astype(np.float32), (0, 0), 3)
    scene = (scene - scene.min()) / (scene.max() - scene.min())
    return [np.ascontiguousarray(scene[:, STEP * t:STEP * t + 96]) for t in range(8)]


def grid_textured(frame: np.ndarray) -> np.ndarray:
    """A stand-in stylizer that, like a network working at 1/8 scale, draws a texture tied to its own pixel grid
    (not to the scene)."""
    height, width = frame.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    texture = 0.15 * np.sin(2 * np.pi * xs / GRID) * np.cos(2 * np.pi * ys / GRID)
    return np.clip(frame + texture[..., None].astype(np.float32), 0, 1)


def true_error(frames: list[np.ndarray]) -> float:
    flow = np.zeros(frames[0].shape[:2] + (2,), np.float32)
    flow[..., 0] = STEP
    mask = np.ones(frames[0].shape[:2], np.float32)
    mask[:, -STEP:] = 0  # those pixels come from outside the previous frame
    return float(np.mean([warping_error(b, a, flow, mask) for a, b in zip(frames, frames[1:])]))


def test_flow_blend_follows_the_camera_on_the_grid(pan) -> None:
    blend = FlowBlend(0.0001, preset="medium")  # almost no blending: what the phase alone does
    phases = []
    for frame in pan:
        blend.run(frame, grid_textured)
        phases.append(blend.phase())
    assert phases == [((STEP * t) % GRID, 0) for t in range(len(pan))]


def test_phase_alignment_stops_the_texture_from_boiling(pan) -> None:
    by_frame = [FrameByFrame().run(frame, grid_textured) for frame in pan]
    aligned = FlowBlend(0.0001, preset="medium")
    assert true_error([aligned.run(frame, grid_textured) for frame in pan]) < 0.1 * true_error(by_frame)


def redrawn(seed: int):
    """A stand-in stylizer that draws new strokes on every frame (what a zoom does to a network's texture)."""
    import cv2

    rng = np.random.default_rng(seed)

    def stylize(frame: np.ndarray) -> np.ndarray:
        strokes = cv2.GaussianBlur(rng.normal(0, 0.5, frame.shape).astype(np.float32), (0, 0), 1.0)
        return np.clip(frame + strokes, 0, 1)

    return stylize


def test_new_strokes_are_not_averaged_away(pan) -> None:
    still = [pan[0]] * 4
    outputs = {}
    for share in (0.0, 1.0):
        blend, stylize = FlowBlend(0.6, preset="medium", disagreement_share=share), redrawn(1)
        outputs[share] = [blend.run(frame, stylize) for frame in still]
    stylize = redrawn(1)
    fresh = [stylize(frame) for frame in still]
    def strokes(image: np.ndarray) -> np.ndarray:
        import cv2

        return image - cv2.GaussianBlur(image, (0, 0), 3.0)

    def stroke_error(share: float) -> float:
        return float(np.abs(strokes(outputs[share][-1]) - strokes(fresh[-1])).mean())

    # blending regardless mixes each frame's strokes with the last ones; weighting by agreement keeps them
    assert stroke_error(0.0) < 0.5 * stroke_error(1.0)


def test_strokes_that_agree_are_still_blended(pan) -> None:
    import cv2

    rng = np.random.default_rng(2)
    strokes = cv2.GaussianBlur(rng.normal(0, 0.5, pan[0].shape).astype(np.float32), (0, 0), 1.0)

    def steady(frame: np.ndarray) -> np.ndarray:  # the same strokes each frame, plus fresh sensor-like noise
        return np.clip(frame + strokes + rng.normal(0, 0.03, frame.shape).astype(np.float32), 0, 1)

    def flicker(frames: list[np.ndarray]) -> float:
        return float(np.mean([np.abs(b - a).mean() for a, b in zip(frames[1:], frames[2:])]))

    still = [pan[0]] * 6
    by_frame = flicker([steady(frame) for frame in still])
    blend = FlowBlend(0.6, preset="medium", disagreement_share=0.0)
    assert flicker([blend.run(frame, steady) for frame in still]) < 0.75 * by_frame


def test_disagreement_share_is_checked() -> None:
    from stylefuse.errors import OptionError

    with pytest.raises(OptionError, match="disagreement_share"):
        FlowBlend(0.5, disagreement_share=1.5)


def test_run_and_call_agree_without_motion(pan) -> None:
    still = [pan[0]] * 3
    first, second = FlowBlend(0.6), FlowBlend(0.6)
    for frame in still:
        assert np.allclose(first.run(frame, grid_textured), second(frame, grid_textured(frame)), atol=1e-6)
