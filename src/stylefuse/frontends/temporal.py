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
from stylefuse.image.flow import FlowEstimator, consistency_mask, grey, warp


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
    visible pixels take the fresh stylization.

    Args:
        amount: a, the weight of the warped previous output where the flow is reliable, 0..1.
        preset: DIS preset (see :class:`stylefuse.image.flow.FlowEstimator`).
    """

    def __init__(self, amount: float = 0.6, preset: str = "fast") -> None:
        self.amount = _check_amount(amount)
        self.flow = FlowEstimator(preset)
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # (grey content, output) of the last frame

    def __call__(self, content: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if content.shape != stylized.shape:
            raise ValueError(f"content {content.shape} and stylized {stylized.shape} frames differ in size")
        luma = grey(content)
        if self.previous is not None and self.amount > 0:
            previous_luma, previous_out = self.previous
            backward = self.flow(luma, previous_luma)
            mask = consistency_mask(backward, self.flow(previous_luma, luma))
            weight = (self.amount * mask)[..., None]
            stylized = stylized + weight * (warp(previous_out, backward) - stylized)
        self.previous = (luma, stylized)
        return stylized


FILTERS = {"flow": FlowBlend, "smooth": ExponentialSmoothing, "none": FrameByFrame}
"""The temporal filters by name (``--temporal-mode``)."""


def make_filter(mode: str, amount: float):
    """A fresh filter: ``mode`` from :data:`FILTERS`, ``amount`` its weight of the past (0 = frame by frame)."""
    if mode not in FILTERS:
        raise OptionError(f"unknown temporal mode {mode!r}; choose from {', '.join(FILTERS)}")
    if mode == "none" or amount == 0:
        return FrameByFrame()
    return FILTERS[mode](amount)
