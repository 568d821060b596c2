"""The interface of a per-image metric."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


class PairMetric(ABC):
    """A score of one stylized result against its content and style images.

    Attributes:
        kind: "content" (fidelity to the photo) or "style" (fidelity to the painting).
        higher_is_better: the direction of the score.
    """

    kind: str = "content"
    higher_is_better: bool = False

    @abstractmethod
    def __call__(self, result: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> float:
        """Score ``result`` (3, H, W) against ``content`` (3, H, W, resized to match if needed) and
        ``style`` (3, h, w); all in [0, 1]."""
