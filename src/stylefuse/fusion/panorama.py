"""Panoramas: OpenCV's stitching pipeline (features, matching, bundle adjustment, seam finding and multiband
blending; Brown & Lowe 2007, "Automatic Panoramic Image Stitching using Invariant Features"), with every
failure, and every image it leaves out, turned into a one-line error."""

from __future__ import annotations

from typing import Sequence

import torch

from stylefuse.errors import FusionError
from stylefuse.fusion._cv import from_bgr, require_cv2, to_bgr8

STITCH_MODES = ("panorama", "scans")
"""panorama: a camera turning about its centre (spherical warp); scans: flat scenes or scans (affine)."""
FAILURES = {
    1: "too few matching features between the images: they do not overlap, or overlap too little (aim for "
       "20-40%), or are too small or too plain",
    2: "the geometry between the images could not be estimated from their matches (too few reliable ones)",
    3: "the camera parameters did not converge; for flat scenes or scans try --stitch-mode scans",
}


def stitch(images: Sequence[torch.Tensor], names: Sequence[str] | None = None, stitch_mode: str = "panorama",
           confidence: float = 1.0) -> torch.Tensor:
    """One panorama (3, H', W') from overlapping photos, each (3, H, W) in [0, 1], in any order.

    Args:
        names: how to name the images in errors (default: their positions, from 1).
        stitch_mode: one of :data:`STITCH_MODES`.
        confidence: how sure a match between two images must be to keep both (OpenCV's
            ``panoConfidenceThresh``); lower it when an image is left out. Not a cure at 20-30% overlap:
            there 1.0 leaves views out, and 0.3 places them all in panoramas that are wrong (measured in
            ``benchmarks/fusion.py --stitch``), and joins unrelated pictures with repeated texture.

    Raises:
        FusionError: fewer than two images, a failure status, or an image the stitcher left out.
    """
    cv2 = require_cv2()
    names = list(names or [str(index + 1) for index in range(len(images))])
    if len(images) < 2:
        raise FusionError(f"a panorama needs at least two overlapping images, got {len(images)}")
    if stitch_mode not in STITCH_MODES:
        raise FusionError(f"unknown --stitch-mode {stitch_mode!r}; choose from {', '.join(STITCH_MODES)}")
    stitcher = cv2.Stitcher_create(cv2.Stitcher_PANORAMA if stitch_mode == "panorama" else cv2.Stitcher_SCANS)
    stitcher.setPanoConfidenceThresh(confidence)
    try:
        status, result = stitcher.stitch([to_bgr8(image) for image in images])
    except cv2.error as exc:  # an internal assertion on degenerate geometry
        detail = str(exc).strip().splitlines()[-1]
        raise FusionError(f"could not stitch the panorama: OpenCV failed ({detail}); try --stitch-mode "
                          f"{'scans' if stitch_mode == 'panorama' else 'panorama'} or more overlap") from None
    if status != cv2.Stitcher_OK:
        raise FusionError(f"could not stitch the panorama: {FAILURES.get(status, f'OpenCV status {status}')}")
    kept = {int(index) for index in stitcher.component().ravel()}
    dropped = [name for index, name in enumerate(names) if index not in kept]
    if dropped:
        raise FusionError(f"the stitcher left out {', '.join(dropped)} ({len(kept)} of {len(names)} images placed): "
                          f"they do not overlap the others reliably at match confidence {confidence:g}; add overlap, "
                          "remove them, or lower --confidence")
    return from_bgr(result)
