"""Style arguments as the command line and the API take them (``starry-night:0.6,the-scream:0.4``,
``painting.jpg:0.5``) and the weight vectors of named-style mixes, without PyTorch (the instant command line
parses them before deciding whether PyTorch is needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from stylefuse.errors import OptionError
from stylefuse.image.arrays import READ_SUFFIXES


@dataclass
class StyleSpec:
    """One style: an image (path, PIL image, array or tensor) and its blending weight."""

    image: Any
    weight: float = 1.0


def is_style_name(item: Any) -> bool:
    """True for a named style such as ``"starry-night"``: a string that is not an existing file and
    does not look like a path (no folder separator, no image extension)."""
    if not isinstance(item, str) or os.path.exists(item):
        return False
    return "/" not in item and os.sep not in item and not item.lower().endswith(READ_SUFFIXES)


def split_style_list(text: str) -> list[str]:
    """Split ``"a:0.6,b:0.4"`` into its items; a text naming an existing file is kept whole."""
    if os.path.exists(text):
        return [text]
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_style_argument(text: str) -> StyleSpec:
    """Parse ``PATH[:WEIGHT]`` or ``NAME[:WEIGHT]`` as given on the command line. A colon belongs to the
    path unless the text before it is an image path (an existing file or an image file name), in which
    case what follows must be a number."""
    head, sep, tail = text.rpartition(":")
    if sep and head and not os.path.exists(text):
        try:
            return StyleSpec(head, float(tail))
        except ValueError:
            if os.path.isfile(head) or head.lower().endswith(READ_SUFFIXES):
                raise OptionError(f"bad style weight in {text!r}: {tail!r} is not a number (write PATH:WEIGHT)") \
                    from None
    return StyleSpec(text, 1.0)


def style_weights(names: Sequence[str], mix: Sequence[tuple[str, float]]) -> np.ndarray:
    """The float32 (S,) weight vector over a model's style ``names`` of a mix of named styles, normalised to
    sum to 1 (the mixing of Dumoulin et al. 2017, section 4).

    Args:
        mix: (name, weight) pairs; names must be among ``names``, weights >= 0, not all zero.
    """
    vector = np.zeros(len(names), dtype=np.float32)
    for name, weight in mix:
        if name not in names:
            raise OptionError(f"unknown style {name!r}; known styles: {', '.join(names)}")
        if weight < 0:
            raise OptionError(f"style weight for {name!r} must be >= 0, got {weight}")
        vector[list(names).index(name)] += weight
    if float(vector.sum()) <= 0:
        raise OptionError("style weights are all zero; give at least one style a positive weight")
    return vector / vector.sum()
