"""Temporal consistency for stylizing video frame by frame with any method.

:class:`FlowBlend` warps the previous output onto the current frame with dense optical flow and blends it
in where a forward-backward check says the flow is reliable (the short-term consistency of Ruder et al.
2016, "Artistic style transfer for videos", applied as a post-process to any stylizer).
:class:`ExponentialSmoothing` blends the previous output without motion (what simple video tools do);
:class:`FrameByFrame` does nothing. Each takes the content frame and its stylization and returns the frame
to write; frames are (H, W, 3) float32 numpy arrays in [0, 1]. :meth:`FlowBlend.run` also stylizes: it
shifts each frame so that the scene stays at one phase of the stylizer's pixel grid while the camera moves.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from stylefuse.errors import OptionError
from stylefuse.image.flow import (
    FlowEstimator,
    consistency_mask,
    grey,
    resize_flow,
    resize_map,
    restore_detail,
    texture_agreement,
    warp,
    weigh_detail,
)


def _check_amount(amount: float) -> float:
    if not 0.0 <= amount <= 1.0:
        raise OptionError(f"temporal must be between 0 and 1, got {amount}")
    return amount


DEFAULT_AMOUNT = 0.5
"""``--temporal``'s default: the weight of the warped previous output (chosen with benchmarks/video.py; the
README has its figures)."""

GRID = 8
"""The pixel grid of the feed-forward stylizers: the fast network and the VGG16 inverters work at 1/8 scale
(the GAN generators at 1/4, which divides it)."""

Stylize = Callable[[np.ndarray], np.ndarray]
"""A frame (H, W, 3) -> its stylization (H, W, 3), float32 in [0, 1]."""


class FrameByFrame:
    """No temporal filtering: each stylized frame as it is."""

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return stylized

    def run(self, content: np.ndarray, stylize: Stylize) -> np.ndarray:
        """Stylize a frame and filter it: the frame to write."""
        return self(content, stylize(content))


class ExponentialSmoothing(FrameByFrame):
    """``out_t = (1 - a) · stylized_t + a · out_{t-1}``, ignoring motion (moving edges ghost).

    Args:
        amount: a, the weight of the previous output, 0..1.
    """

    def __init__(self, amount: float = 0.5) -> None:
        self.amount = _check_amount(amount)
        self.previous: np.ndarray | None = None

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if self.previous is not None and self.previous.shape == stylized.shape:
            stylized = (1 - self.amount) * stylized + self.amount * self.previous
        self.previous = stylized
        return stylized


DISAGREEMENT_SHARE = 0.2
"""The share of the blend weight kept where the warped previous output and the fresh stylization draw different
strokes (see :class:`FlowBlend`)."""


class FlowBlend(FrameByFrame):
    """Flow-guided blending: ``out_t = stylized_t + a · m · (L(d) + (s + (1 - s) · g) · (d - L(d)))`` with
    ``d = warp(out_{t-1}) - stylized_t``, the flow from the content frames (DIS), m the forward-backward consistency
    mask, so occluded and newly visible pixels take the fresh stylization, L a low-pass at 1/8 scale
    (:func:`~stylefuse.image.flow.weigh_detail`) and g the local agreement of the two textures
    (:func:`~stylefuse.image.flow.texture_agreement`): colour and light take the full weight, but where the
    stylizer re-drew its strokes (a zoom), averaging them would wash the style out, so only the share s of the
    weight stays on the detail there (s = 1: blend regardless). The previous output is warped
    bicubically (a bilinear warp by fractions of a pixel, repeated frame after frame, blurs the strokes), and
    the blend's fine detail then gets the contrast of the fresh stylization back
    (:func:`~stylefuse.image.flow.restore_detail`).

    :meth:`run` also keeps the scene at one phase of the stylizer's :data:`GRID`: a network that works at 1/8
    scale draws its texture differently for a picture moved by a number of pixels that is not a multiple of 8,
    so under a panning camera the texture boils, and blending such textures washes them out. The camera's
    translation (the median of the flow) is summed over the frames, and each frame is padded on the left and
    top by that sum modulo 8 before it is stylized (then cropped back).

    Args:
        amount: a, the weight of the warped previous output where the flow is reliable, 0..1.
        preset: DIS preset (see :class:`stylefuse.image.flow.FlowEstimator`).
        flow_side: the flow is estimated on frames scaled down to about this long side, then scaled up
            (motion is smooth; this keeps the cost low at large sizes).
        keep_detail: restore the detail contrast after blending.
        disagreement_share: s, 0..1 (1: blend regardless of the textures).
    """

    def __init__(self, amount: float = DEFAULT_AMOUNT, preset: str = "ultrafast", flow_side: int = 256,
                 keep_detail: bool = True, disagreement_share: float = DISAGREEMENT_SHARE) -> None:
        self.amount = _check_amount(amount)
        if not 0.0 <= disagreement_share <= 1.0:
            raise OptionError(f"disagreement_share must be between 0 and 1, got {disagreement_share}")
        self.disagreement_share = disagreement_share
        self.flow = FlowEstimator(preset)
        self.flow_side, self.keep_detail = flow_side, keep_detail
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # (grey content, output) of the last frame
        self.offset = np.zeros(2, np.float32)  # the camera's summed translation (x, y), in pixels

    def run(self, content: np.ndarray, stylize: Stylize) -> np.ndarray:
        """Stylize a frame at the scene's phase of the grid, then blend: the frame to write."""
        luma, backward = self._flow_to_previous(content)
        if backward is not None:
            shrink = content.shape[1] / luma.shape[1], content.shape[0] / luma.shape[0]
            self.offset += np.median(backward.reshape(-1, 2), axis=0) * shrink
        return self._blend(content, _stylize_at_phase(content, stylize, self.phase()), luma, backward)

    def phase(self) -> tuple[int, int]:
        """(x, y) padding, in pixels, that puts the scene at its first frame's phase of the grid."""
        return int(round(float(self.offset[0]))) % GRID, int(round(float(self.offset[1]))) % GRID

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if content.shape != stylized.shape:
            raise ValueError(f"content {content.shape} and stylized {stylized.shape} frames differ in size")
        return self._blend(content, stylized, *self._flow_to_previous(content))

    def _flow_to_previous(self, content: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The frame's luma for the flow, and the flow (h, w, 2) from it to the previous frame's (None first)."""
        luma = grey(content, max(1, max(content.shape[:2]) // self.flow_side))
        if self.previous is None or self.amount == 0 or self.previous[0].shape != luma.shape:
            return luma, None
        return luma, self.flow(luma, self.previous[0])

    def _blend(self, content: np.ndarray, stylized: np.ndarray, luma: np.ndarray,
               backward: np.ndarray | None) -> np.ndarray:
        height, width = content.shape[:2]
        out = stylized
        if backward is not None:
            previous_luma, previous_out = self.previous
            mask = consistency_mask(backward, self.flow(previous_luma, luma))
            if mask.shape != (height, width):
                backward = resize_flow(backward, height, width)
                mask = resize_map(mask, height, width)
            warped = warp(previous_out, backward, cubic=True)
            change = warped - stylized
            if self.disagreement_share < 1:
                share = self.disagreement_share
                change = weigh_detail(change, share + (1 - share) * texture_agreement(warped, stylized))
            change *= (self.amount * mask)[..., None]
            out = change + stylized
            out = restore_detail(out, stylized) if self.keep_detail else np.clip(out, 0, 1)
        self.previous = (luma, out)
        return out


def _stylize_at_phase(content: np.ndarray, stylize: Stylize, phase: tuple[int, int]) -> np.ndarray:
    """Stylize ``content`` (H, W, 3) padded by ``phase`` (x, y) pixels on the left and top (mirrored), cropped
    back to (H, W, 3)."""
    x, y = phase
    if x == 0 and y == 0:
        return stylize(content)
    padded = np.pad(content, ((y, 0), (x, 0), (0, 0)), mode="reflect")
    return np.ascontiguousarray(stylize(padded)[y:, x:])


FILTERS = {"flow": FlowBlend, "smooth": ExponentialSmoothing, "none": FrameByFrame}
"""The temporal filters by name (``--temporal-mode``)."""


def make_filter(mode: str, amount: float | None = None, **options):
    """A fresh filter: ``mode`` from :data:`FILTERS`, ``amount`` its weight of the past (0 = frame by frame; None:
    :data:`DEFAULT_AMOUNT`), ``options`` the other arguments of its class (e.g. :class:`FlowBlend`'s
    ``disagreement_share``)."""
    amount = DEFAULT_AMOUNT if amount is None else amount
    if mode not in FILTERS:
        raise OptionError(f"unknown temporal mode {mode!r}; choose from {', '.join(FILTERS)}")
    if mode == "none" or amount == 0:
        return FrameByFrame()
    return FILTERS[mode](amount, **options)
