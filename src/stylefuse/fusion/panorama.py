"""Panoramas: overlapping views registered by SIFT matches and chained RANSAC maps (:mod:`.registration`),
composited with gain compensation, graph-cut seams and multiband blending (:mod:`.composite`); or, for wide
sweeps, OpenCV's own stitcher (Brown & Lowe 2007, "Automatic Panoramic Image Stitching using Invariant
Features": ORB features, bundle adjustment, a spherical warp). Every failure, and every image left out, is a
one-line error."""

from __future__ import annotations

from typing import Sequence

import torch

from stylefuse.errors import FusionError
from stylefuse.fusion._cv import from_bgr, require_cv2, to_bgr8

STITCH_MODES = ("panorama", "scans", "spherical")
"""panorama: SIFT + homographies onto a flat canvas (a camera turning by up to about 120 degrees, or a flat
scene); scans: the same with affine maps (scans, flat documents); spherical: OpenCV's stitcher (ORB features,
bundle adjustment, spherical warp), for wider sweeps with 30-40% overlap."""
FAILURES = {
    1: "too few matching features between the images: they do not overlap, or overlap too little (aim for "
       "20-40%), or are too small or too plain",
    2: "the geometry between the images could not be estimated from their matches (too few reliable ones)",
    3: "the camera parameters did not converge; for flat scenes or narrower sweeps try --stitch-mode panorama",
}


def stitch(images: Sequence[torch.Tensor], names: Sequence[str] | None = None, stitch_mode: str = "panorama",
           confidence: float = 1.0) -> torch.Tensor:
    """One panorama (3, H', W') from overlapping photos, each (3, H, W) in [0, 1], in any order; black where
    no view reaches.

    Args:
        names: how to name the images in errors (default: their positions, from 1).
        stitch_mode: one of :data:`STITCH_MODES`.
        confidence: how sure a link between two images must be to keep both: ``panorama`` and ``scans`` link
            a pair with at least ``registration.LINK_INLIERS * confidence`` RANSAC inliers; ``spherical`` passes
            it to OpenCV as ``panoConfidenceThresh``. Lower it when an image is left out (and check the result:
            too low joins unrelated pictures with repeated texture).

    Raises:
        FusionError: fewer than two images, a failure, or an image left out.
    """
    names = list(names or [str(index + 1) for index in range(len(images))])
    if len(images) < 2:
        raise FusionError(f"a panorama needs at least two overlapping images, got {len(images)}")
    if stitch_mode not in STITCH_MODES:
        raise FusionError(f"unknown --stitch-mode {stitch_mode!r}; choose from {', '.join(STITCH_MODES)}")
    views = [to_bgr8(image) for image in images]
    if stitch_mode == "spherical":
        return from_bgr(_opencv_stitcher(views, names, confidence))
    from stylefuse.fusion.composite import composite
    from stylefuse.fusion.registration import register

    registration = register(views, "homography" if stitch_mode == "panorama" else "affine", confidence)
    if not registration.placed:
        raise FusionError(f"could not stitch the panorama: {FAILURES[1]}")
    _refuse_left_out(names, registration.placed, confidence)
    return from_bgr(composite(views, registration.transforms))


def _refuse_left_out(names: Sequence[str], kept: Sequence[int], confidence: float) -> None:
    dropped = [name for index, name in enumerate(names) if index not in set(kept)]
    if dropped:
        raise FusionError(f"the stitcher left out {', '.join(dropped)} ({len(kept)} of {len(names)} images placed): "
                          f"they do not overlap the others reliably at match confidence {confidence:g}; add overlap, "
                          "remove them, or lower --confidence")


def _opencv_stitcher(views: list, names: Sequence[str], confidence: float):
    """OpenCV's ``Stitcher`` in PANORAMA mode on uint8 BGR views -> the uint8 BGR panorama."""
    cv2 = require_cv2()
    stitcher = cv2.Stitcher_create(cv2.Stitcher_PANORAMA)
    stitcher.setPanoConfidenceThresh(confidence)
    try:
        status, result = stitcher.stitch(views)
    except cv2.error as exc:  # an internal assertion on degenerate geometry
        detail = str(exc).strip().splitlines()[-1]
        raise FusionError(f"could not stitch the panorama: OpenCV failed ({detail}); try --stitch-mode "
                          "panorama or more overlap") from None
    if status != cv2.Stitcher_OK:
        raise FusionError(f"could not stitch the panorama: {FAILURES.get(status, f'OpenCV status {status}')}")
    _refuse_left_out(names, [int(index) for index in stitcher.component().ravel()], confidence)
    return result
