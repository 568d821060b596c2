"""Dense optical flow, warping, occlusion masks and the warping error of a video (OpenCV, the ``video`` extra).

Images here are numpy arrays (H, W, 3) float32 in [0, 1]; flows are (H, W, 2) float32 in pixels, (dx, dy),
pointing from each pixel of the first frame to where it is in the second.
"""

from __future__ import annotations

import functools

import numpy as np

from stylefuse.optional import require_cv2

FLOW_PRESETS = ("ultrafast", "fast", "medium")


def _cv2():
    return require_cv2("optical flow", "video")


def luma(image: np.ndarray, shrink: int = 1) -> np.ndarray:
    """(H, W, 3) float in [0, 1] -> (H / shrink, W / shrink) float32 luma (OpenCV's Rec. 601, area-averaged)."""
    cv2 = _cv2()
    values = cv2.cvtColor(np.asarray(image, np.float32), cv2.COLOR_RGB2GRAY)
    if shrink > 1:
        size = (max(1, values.shape[1] // shrink), max(1, values.shape[0] // shrink))
        values = cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    return values


def grey(image: np.ndarray, shrink: int = 1) -> np.ndarray:
    """:func:`luma` as uint8, what the flow estimator reads."""
    return _cv2().convertScaleAbs(luma(image, shrink), alpha=255.0)  # rounds and saturates to uint8


def resize_map(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """A per-pixel map (h, w[, C]) resized bilinearly to (height, width[, C])."""
    cv2 = _cv2()
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_LINEAR)


class FlowEstimator:
    """Dense flow with DIS (Kroeger et al. 2016, "Fast Optical Flow using Dense Inverse Search").

    Args:
        preset: "ultrafast", "fast" or "medium" (OpenCV's presets; slower is more accurate).
    """

    def __init__(self, preset: str = "fast") -> None:
        cv2 = _cv2()
        presets = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                   "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        self.dis = cv2.DISOpticalFlow_create(presets[preset])

    def __call__(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Flow (H, W, 2) from ``first`` to ``second``, both (H, W) uint8 (see :func:`grey`)."""
        return self.dis.calc(first, second, None)


def warp(image: np.ndarray, flow: np.ndarray, cubic: bool = False) -> np.ndarray:
    """Backward warp: ``out[y, x] = image[y + flow_y, x + flow_x]`` (bilinear or bicubic, edges replicated).

    Args:
        image: (H, W, C) float32.
        flow: (H, W, 2), from the output frame to ``image``'s frame.
        cubic: bicubic instead of bilinear: a picture warped again and again by fractions of a pixel (a video's
            blended output) stays sharp, where bilinear blurs it a little each time.
    """
    cv2 = _cv2()
    xs, ys = _grid(*flow.shape[:2])
    interpolation = cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], interpolation, borderMode=cv2.BORDER_REPLICATE)


@functools.lru_cache(maxsize=4)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y), each (H, W) float32 (cached: video frames share one size)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


def resize_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """A flow field (h, w, 2) estimated at another resolution, resized to (height, width) and rescaled."""
    scale = np.array([width / flow.shape[1], height / flow.shape[0]], np.float32)
    return resize_map(flow, height, width) * scale


def restore_detail(blended: np.ndarray, reference: np.ndarray, sigmas: tuple[float, ...] = (1.5, 3.0)) -> np.ndarray:
    """Give each detail band of ``blended`` the per-channel energy of ``reference``'s same band: averaging two
    textures that do not line up exactly lowers their contrast, which a gain per band brings back without
    bringing back the flicker. The bands are differences of Gaussian blurs: the image minus its blur of
    ``sigmas[0]`` px, that blur minus its blur of ``sigmas[1]`` px, and so on; the rest stays as it is.

    Args:
        blended, reference: (H, W, 3) float32 in [0, 1].
        sigmas: increasing blur widths in pixels.
    """
    cv2 = _cv2()
    rest, wanted_rest, out = blended, reference, None
    for sigma in sigmas:
        size = 2 * int(2 * sigma + 0.5) + 1  # ±2 σ: OpenCV's default ±4 σ costs twice as much for no visible change
        low = cv2.GaussianBlur(rest, (size, size), sigma)
        wanted_low = cv2.GaussianBlur(wanted_rest, (size, size), sigma)
        detail, wanted_detail = cv2.subtract(rest, low), cv2.subtract(wanted_rest, wanted_low)
        # the energies are estimated on every other row and column: a quarter of the work, the same value
        _, wanted = cv2.meanStdDev(wanted_detail[::2, ::2])
        _, have = cv2.meanStdDev(detail[::2, ::2])
        gain = tuple(float(g) for g in wanted[:, 0] / np.maximum(have[:, 0], 1e-6)) + (0.0,)
        band = cv2.multiply(detail, gain)
        out = band if out is None else cv2.add(out, band)
        rest, wanted_rest = low, wanted_low
    return np.clip(cv2.add(rest, out), 0, 1)


def weigh_detail(change: np.ndarray, weight: np.ndarray, shrink: int = 8) -> np.ndarray:
    """``change`` (H, W, C) with its detail scaled by ``weight`` (H, W) and its smooth part kept whole: in a
    temporal blend, colour and light keep their full weight, strokes only where they agree. The smooth part is
    ``change`` scaled down by ``shrink`` (area) and back up (bilinear), a low-pass far cheaper than a wide blur."""
    cv2 = _cv2()
    height, width = change.shape[:2]
    small = cv2.resize(change, (max(1, width // shrink), max(1, height // shrink)), interpolation=cv2.INTER_AREA)
    smooth = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    detail = cv2.subtract(change, smooth)
    detail *= weight[..., None]
    detail += smooth
    return detail


def texture_agreement(first: np.ndarray, second: np.ndarray, shrink: int = 2, detail: float = 2.0,
                      window: float = 4.0) -> np.ndarray:
    """Where two pictures carry the same fine texture: the local correlation of their detail (luma minus its
    blur of ``detail`` px), in Gaussian windows of ``window`` px, clipped to [0, 1]. Two stylizations of one
    scene agree where the stylizer drew the same strokes (a pan kept at the grid's phase) and not where it
    drew new ones (a zoom re-draws its texture at a new scale); averaging strokes that do not agree washes
    the texture out, which :func:`restore_detail`'s contrast gain does not undo.

    Args:
        first, second: (H, W, 3) float32 in [0, 1].
        shrink: measure on pictures scaled down by this factor (the widths are in those pixels), then scale up;
            fixed, not tied to the picture's size, since a stylizer's strokes keep their size in pixels.

    Returns:
        (H, W) float32 in [0, 1].
    """
    cv2 = _cv2()
    height, width = first.shape[:2]

    def fine(image: np.ndarray) -> np.ndarray:
        values = luma(image, shrink)
        return cv2.subtract(values, cv2.GaussianBlur(values, (0, 0), detail))

    a, b = fine(first), fine(second)

    def local(product: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(product, (0, 0), window)

    correlation = local(a * b) / np.sqrt(local(a * a) * local(b * b) + 1e-8)
    return resize_map(np.clip(correlation, 0, 1).astype(np.float32), height, width)


def consistency_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where the flow is reliable: 1 where following ``backward`` (t -> t-1) and then ``forward`` (t-1 -> t)
    returns close to the start, 0 at occlusions, motion boundaries and pixels that leave the frame
    (the forward-backward check of Sundaram et al. 2010, as used by Ruder et al. 2016).

    Returns:
        (H, W) float32 in {0, 1}.
    """
    height, width = backward.shape[:2]
    cv2 = _cv2()
    forward_there = warp(forward, backward)
    xs, ys = _grid(height, width)
    error = _squared_norm(cv2.add(backward, forward_there))
    bound = 0.01 * (_squared_norm(backward) + _squared_norm(forward_there)) + 0.5
    source_x, source_y = cv2.add(xs, backward[..., 0]), cv2.add(ys, backward[..., 1])
    inside = (source_x >= 0) & (source_x <= width - 1) & (source_y >= 0) & (source_y <= height - 1)
    return ((error <= bound) & inside).astype(np.float32)


def _squared_norm(flow: np.ndarray) -> np.ndarray:
    """(H, W, 2) -> (H, W): dx² + dy²."""
    return _cv2().magnitude(flow[..., 0], flow[..., 1]) ** 2


def warping_error(current: np.ndarray, previous: np.ndarray, backward: np.ndarray, mask: np.ndarray) -> float:
    """Masked mean squared difference between a frame and the previous one warped onto it (Lai et al. 2018,
    "Learning Blind Video Temporal Consistency", eq. 8), over the channels and the reliable pixels.

    Args:
        current, previous: (H, W, 3) stylized frames in [0, 1].
        backward: flow (H, W, 2) from the current frame to the previous one.
        mask: (H, W) reliability (see :func:`consistency_mask`).
    """
    difference = ((current - warp(previous, backward)) ** 2).mean(-1)
    return float((difference * mask).sum() / max(float(mask.sum()), 1.0))
