"""Compositing registered views into one picture: each view warped onto a flat canvas, block gain compensation
(Uyttendaele et al. 2001), graph-cut seams at low resolution (Kwatra et al. 2003) and multiband blending
(Burt & Adelson 1983), OpenCV's ``cv2.detail`` pieces in the order of its stitching pipeline."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from stylefuse.errors import FusionError
from stylefuse.fusion._cv import require_cv2

SEAM_PIXELS = 100_000
"""Seams are found on views scaled to at most this many pixels, as OpenCV's stitcher does (graph cuts cost)."""
MAX_CANVAS_GROWTH = 6.0
"""A canvas more than this many times the views' total area means a flat projection of too wide an angle."""


def _corners(transform: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    cv2 = require_cv2()
    height, width = shape[:2]
    box = np.float32([[0, 0], [width, 0], [width, height], [0, height]])[None]
    return cv2.perspectiveTransform(box, transform)[0]


def _warp(image: np.ndarray, transform: np.ndarray, scale: float) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """``image`` (at full resolution) warped by ``transform`` into canvas pixels scaled by ``scale``: the
    top-left corner of its box on the canvas, the warped (h, w, 3) image and its (h, w) uint8 mask."""
    cv2 = require_cv2()
    scaling = np.diag([scale, scale, 1.0])
    transform = scaling @ transform
    corners = _corners(transform, image.shape)
    left, top = np.floor(corners.min(0)).astype(int)
    right, bottom = np.ceil(corners.max(0)).astype(int)
    shifted = np.array([[1.0, 0.0, -left], [0.0, 1.0, -top], [0.0, 0.0, 1.0]]) @ transform
    size = (int(right - left), int(bottom - top))
    warped = cv2.warpPerspective(image, shifted, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT)
    mask = cv2.warpPerspective(np.full(image.shape[:2], 255, np.uint8), shifted, size, flags=cv2.INTER_NEAREST)
    return (int(left), int(top)), warped, mask


def composite(images: Sequence[np.ndarray], transforms: Sequence[np.ndarray]) -> np.ndarray:
    """One (H', W', 3) uint8 BGR picture of (H, W, 3) uint8 BGR views, each placed by its 3x3 ``transforms``
    entry (view pixels -> canvas pixels); black where no view reaches.

    Raises:
        FusionError: the canvas would be far bigger than the views (a flat projection of too wide an angle).
    """
    cv2 = require_cv2()
    corners = np.concatenate([_corners(transform, image.shape) for image, transform in zip(images, transforms)])
    canvas = np.ptp(corners[:, 0]) * np.ptp(corners[:, 1])
    if canvas > MAX_CANVAS_GROWTH * sum(image.shape[0] * image.shape[1] for image in images):
        raise FusionError("could not stitch the panorama: the views span too wide an angle for a flat picture; "
                          "try --stitch-mode spherical")
    seam_scale = min(1.0, float(np.sqrt(SEAM_PIXELS / max(image.shape[0] * image.shape[1] for image in images))))
    small = [_warp(image, transform, seam_scale) for image, transform in zip(images, transforms)]
    full = [_warp(image, transform, 1.0) for image, transform in zip(images, transforms)]
    gains = cv2.detail.ExposureCompensator_createDefault(cv2.detail.ExposureCompensator_GAIN_BLOCKS)
    gains.feed(corners=[corner for corner, _, _ in small], images=[cv2.UMat(view) for _, view, _ in small],
               masks=[cv2.UMat(mask) for _, _, mask in small])
    seams = cv2.detail_GraphCutSeamFinder("COST_COLOR").find(
        [view.astype(np.float32) for _, view, _ in small], [corner for corner, _, _ in small],
        [cv2.UMat(mask) for _, _, mask in small])
    sizes = [(view.shape[1], view.shape[0]) for _, view, _ in full]
    blender = cv2.detail_MultiBandBlender()
    roi = cv2.detail.resultRoi(corners=[corner for corner, _, _ in full], sizes=sizes)
    blend_width = 0.05 * np.sqrt(roi[2] * roi[3])  # OpenCV's default blend strength, 5%
    blender.setNumBands(max(1, int(np.ceil(np.log2(max(blend_width, 2.0)) - 1))))
    blender.prepare(roi)
    for index, ((corner, view, mask), seam) in enumerate(zip(full, seams)):
        view = gains.apply(index, corner, view, mask)
        seam = seam.get() if isinstance(seam, cv2.UMat) else seam
        seam = cv2.resize(cv2.dilate(seam, None), (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_LINEAR_EXACT)
        blender.feed(cv2.UMat(view.astype(np.int16)), cv2.bitwise_and(seam, mask), corner)
    result, _ = blender.blend(None, None)
    return np.clip(result, 0, 255).astype(np.uint8)
