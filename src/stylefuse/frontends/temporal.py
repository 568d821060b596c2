"""Temporal consistency for stylizing video frame by frame with any method.

:class:`FlowBlend` warps the previous output onto the current frame with dense optical flow and blends it
in where a forward-backward check says the flow is reliable (the short-term consistency of Ruder et al.
2016, "Artistic style transfer for videos", applied as a post-process to any stylizer).
:class:`ExponentialSmoothing` blends the previous output without motion (what simple video tools do);
:class:`FrameByFrame` does nothing. Each takes the content frame and its stylization and returns the frame
to write; frames are (H, W, 3) float32 numpy arrays in [0, 1].
"""

from __future__ import annotations

import numpy as np

from stylefuse.errors import OptionError
from stylefuse.image.flow import FlowEstimator, consistency_mask, grey, resize_flow, resize_map, restore_detail, warp


def _check_amount(amount: float) -> float:
    if not 0.0 <= amount <= 1.0:
        raise OptionError(f"temporal must be between 0 and 1, got {amount}")
    return amount


class FrameByFrame:
    """No temporal filtering: each stylized frame as it is."""

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return stylized


class ExponentialSmoothing:
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


class FlowBlend:
    """Flow-guided blending: ``out_t = stylized_t + a · m · (warp(out_{t-1}) - stylized_t)``, with the flow
    from the content frames (DIS) and m the forward-backward consistency mask, so occluded and newly
    visible pixels take the fresh stylization; the blend's fine detail then gets the contrast of the fresh
    stylization back (:func:`~stylefuse.image.flow.restore_detail`).

    Args:
        amount: a, the weight of the warped previous output where the flow is reliable, 0..1.
        preset: DIS preset (see :class:`stylefuse.image.flow.FlowEstimator`).
        flow_side: the flow is estimated on frames scaled down to about this long side, then scaled up
            (motion is smooth; this keeps the cost low at large sizes).
        keep_detail: restore the detail contrast after blending.
    """

    def __init__(self, amount: float = 0.6, preset: str = "ultrafast", flow_side: int = 256,
                 keep_detail: bool = True) -> None:
        self.amount = _check_amount(amount)
        self.flow = FlowEstimator(preset)
        self.flow_side, self.keep_detail = flow_side, keep_detail
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # (grey content, output) of the last frame

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if content.shape != stylized.shape:
            raise ValueError(f"content {content.shape} and stylized {stylized.shape} frames differ in size")
        height, width = content.shape[:2]
        luma = grey(content, max(1, max(height, width) // self.flow_side))
        out = stylized
        if self.previous is not None and self.amount > 0:
            previous_luma, previous_out = self.previous
            backward = self.flow(luma, previous_luma)
            mask = consistency_mask(backward, self.flow(previous_luma, luma))
            if mask.shape != (height, width):
                backward = resize_flow(backward, height, width)
                mask = resize_map(mask, height, width)
            change = warp(previous_out, backward)
            change -= stylized
            change *= (self.amount * mask)[..., None]
            out = change + stylized
            if self.keep_detail:
                out = restore_detail(out, stylized)
        self.previous = (luma, out)
        return out


FILTERS = {"flow": FlowBlend, "smooth": ExponentialSmoothing, "none": FrameByFrame}
"""The temporal filters by name (``--temporal-mode``)."""


def make_filter(mode: str, amount: float):
    """A fresh filter: ``mode`` from :data:`FILTERS`, ``amount`` its weight of the past (0 = frame by frame)."""
    if mode not in FILTERS:
        raise OptionError(f"unknown temporal mode {mode!r}; choose from {', '.join(FILTERS)}")
    if mode == "none" or amount == 0:
        return FrameByFrame()
    return FILTERS[mode](amount)
