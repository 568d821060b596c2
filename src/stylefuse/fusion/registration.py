"""Registration of overlapping views: SIFT features (Lowe 2004), ratio-test matches, a RANSAC homography (or
affine map) per pair, and a maximum spanning tree over the pairs' inlier counts that places every view in the
frame of the best-connected one (the image-matching and connected-component steps of Brown & Lowe 2007,
"Automatic Panoramic Image Stitching using Invariant Features", without the bundle adjustment: the chain is
exact for flat scenes and for a camera turning about its centre, whose views are related by homographies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from stylefuse.fusion._cv import require_cv2

MOTIONS = ("homography", "affine")
LINK_INLIERS = 20
"""RANSAC inliers a pair of views needs (times the confidence) to be linked. Measured on the held-out bench
photos: true pairs at 20-30% overlap keep 34-800, unrelated pictures at most 17 (that one with a mirroring map,
which the sanity check below refuses too)."""
RATIO = 0.75
"""Lowe's ratio test: a match is kept when its nearest descriptor is this much closer than the second."""
REGISTRATION_PIXELS = 1_000_000
"""Views are registered at most at this many pixels (features of bigger photos cost time, not accuracy)."""


@dataclass
class Registration:
    """Where each view goes: ``transforms[i]`` maps view i's pixels (x, y, 1) into the reference view's frame
    (3x3); ``None`` for views linked to no other; ``inliers[i][j]`` the RANSAC inliers of pair (i, j)."""

    transforms: list[np.ndarray | None]
    inliers: np.ndarray

    @property
    def placed(self) -> list[int]:
        return [index for index, transform in enumerate(self.transforms) if transform is not None]


def features(images: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(N, 2) keypoint positions in full-resolution pixels and (N, 128) SIFT descriptors of each (H, W, 3)
    uint8 BGR view. The contrast threshold is low (0.005 instead of 0.04) and the edge threshold high (20 instead
    of 10): smooth scenes (the bench's cups) otherwise give a few dozen keypoints per view and too few matches in
    a 20% overlap."""
    cv2 = require_cv2()
    sift = cv2.SIFT_create(contrastThreshold=0.005, edgeThreshold=20)
    found = []
    for image in images:
        scale = min(1.0, float(np.sqrt(REGISTRATION_PIXELS / (image.shape[0] * image.shape[1]))))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        keypoints, descriptors = sift.detectAndCompute(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), None)
        points = np.float32([keypoint.pt for keypoint in keypoints]).reshape(-1, 2) / scale
        found.append((points, descriptors))
    return found


def pair_transform(first: tuple[np.ndarray, np.ndarray | None], second: tuple[np.ndarray, np.ndarray | None],
                   shapes: tuple[tuple[int, ...], tuple[int, ...]], motion: str = "homography"
                   ) -> tuple[np.ndarray | None, int]:
    """The 3x3 map from the first view's pixels to the second's and its RANSAC inlier count ((None, 0) when
    there are too few matches, or when the map is not a plausible view change: it mirrors, or scales the area
    by more than 4x, or its inliers cover under 1% of either view)."""
    cv2 = require_cv2()
    (points_a, desc_a), (points_b, desc_b) = first, second
    if desc_a is None or desc_b is None or len(points_a) < 4 or len(points_b) < 4:
        return None, 0
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(desc_a, desc_b, k=2)
    good = [pair[0] for pair in pairs if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance]
    if len(good) < 4:
        return None, 0
    source = points_a[[match.queryIdx for match in good]]
    target = points_b[[match.trainIdx for match in good]]
    if motion == "homography":
        matrix, inliers = cv2.findHomography(source, target, cv2.RANSAC, 3.0)
    else:
        matrix, inliers = cv2.estimateAffine2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0)
        matrix = None if matrix is None else np.vstack([matrix, [0.0, 0.0, 1.0]])
    if matrix is None or abs(matrix[2, 2]) < 1e-12:
        return None, 0
    matrix = matrix / matrix[2, 2]
    kept = inliers.ravel() > 0
    if kept.sum() < 4:
        return None, 0
    area = float(np.linalg.det(matrix[:2, :2]))
    spread = min(cv2.contourArea(cv2.convexHull(points[kept])) / (shape[0] * shape[1])
                 for points, shape in ((source, shapes[0]), (target, shapes[1])))
    if not 0.25 <= area <= 4.0 or spread < 0.01:
        return None, 0
    return matrix, int(kept.sum())


def register(images: Sequence[np.ndarray], motion: str = "homography", confidence: float = 1.0) -> Registration:
    """Place (H, W, 3) uint8 BGR views, in any order, in one frame.

    Every pair is matched; pairs with at least ``LINK_INLIERS * confidence`` inliers are linked, and the
    maximum spanning tree of the links (Prim's, weights = inliers) from the view with the most inliers in total
    chains the pairwise maps, so each view is placed through its most reliable neighbours. Views the tree does
    not reach keep ``None``.
    """
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}")
    found = features(images)
    count = len(images)
    inliers = np.zeros((count, count), dtype=np.int64)
    maps: dict[tuple[int, int], np.ndarray] = {}
    needed = max(4, round(LINK_INLIERS * confidence))
    for a in range(count):
        for b in range(a + 1, count):
            matrix, kept = pair_transform(found[a], found[b], (images[a].shape, images[b].shape), motion)
            if matrix is not None and kept >= needed:
                inliers[a, b] = inliers[b, a] = kept
                maps[a, b], maps[b, a] = matrix, np.linalg.inv(matrix)
    reference = int(inliers.sum(1).argmax())
    transforms: list[np.ndarray | None] = [None] * count
    transforms[reference] = np.eye(3)
    while True:
        links = [(inliers[a, b], a, b) for a in range(count) if transforms[a] is not None
                 for b in range(count) if transforms[b] is None and inliers[a, b] > 0]
        if not links:
            break
        _, a, b = max(links)
        transforms[b] = transforms[a] @ maps[b, a]  # view b -> view a -> the reference
    if not inliers.any():
        transforms[reference] = None  # nothing is linked: no panorama at all
    return Registration(transforms, inliers)
