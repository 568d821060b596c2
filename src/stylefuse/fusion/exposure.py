"""Exposure fusion of bracketed shots: median threshold bitmap alignment (Ward 2003, "Fast, Robust Image
Registration for Compositing High Dynamic Range Photographs from Hand-Held Exposures"), then Mertens, Kautz &
Van Reeth 2007, "Exposure Fusion": each pixel weighted by contrast, saturation and well-exposedness, blended
in a Laplacian pyramid. No camera response or tone mapping is needed."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from stylefuse.fusion._cv import from_bgr, require_cv2, to_bgr8


def fuse_exposures(images: Sequence[torch.Tensor], align: bool = True) -> torch.Tensor:
    """Fuse bracketed exposures, each (3, H, W) in [0, 1] of one size, into one (3, H, W) in [0, 1].

    Args:
        align: shift every shot onto the first (MTB, translation only) before fusing.
    """
    cv2 = require_cv2()
    shots = [to_bgr8(image) for image in images]
    if align:  # shifts found explicitly: the bindings do not write AlignMTB.process's output list back
        mtb = cv2.createAlignMTB()
        reference = cv2.cvtColor(shots[0], cv2.COLOR_BGR2GRAY)
        shots = [shots[0]] + [mtb.shiftMat(shot, mtb.calculateShift(reference, cv2.cvtColor(shot, cv2.COLOR_BGR2GRAY)))
                              for shot in shots[1:]]
    return from_bgr(np.clip(cv2.createMergeMertens().process(shots), 0, 1))
