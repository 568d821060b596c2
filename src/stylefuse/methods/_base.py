"""The one interface every stylization method implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import torch


class Stylizer(ABC):
    """A style transfer method: content image + style images -> stylized image.

    Subclasses are registered with ``@METHODS.register("name")``; their constructor arguments are
    their options (``stylefuse stylize --method name`` passes the CLI options through).
    """

    interrupted: bool = False
    """Set when Ctrl-C stopped the work early and the result is the best so far."""

    @abstractmethod
    def stylize(self, content: torch.Tensor, styles: Sequence[torch.Tensor],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Stylize ``content`` (3, H, W) in [0, 1] with ``styles`` (each (3, h, w)) blended by
        ``weights``; return (3, H', W') in [0, 1]."""
