"""Temporal consistency of video stylization: warping error (Lai et al. 2018) of frame-by-frame, exponential
smoothing and the flow-guided blend, and their cost in ms per frame, on short clips made from held-out bench
photos by panning and zooming with sensor noise added to each frame (so the true motion is known and the
warping error is measured with it, not with the estimated flow); the pans move by whole pixels and, cut from
the photo at twice the size, by half pixels. Style and content losses of each clip's last frames (their mean)
check that the blend keeps the style. The flow filter stylizes each frame itself, at the scene's
phase of the stylizer's pixel grid (its cost excludes that stylization). Prints JSON. Needs ../shared/data/bench.

    python benchmarks/video.py [--size 512 --frames 12 --style starry-night]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from stylefuse import api
from stylefuse.frontends.temporal import DEFAULT_AMOUNT, DISAGREEMENT_SHARE, make_filter
from stylefuse.frontends.video import to_array, to_tensor
from stylefuse.image import ops
from stylefuse.image.flow import warp, warping_error
from stylefuse.image.io import Picture, read_image

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, QualityLosses, require_bench, save_result  # noqa: E402

MODES = ("none", "smooth", "flow")


def photo_array(name: str, long_side: int) -> np.ndarray:
    """A bench photo (H, W, 3) float32 in [0, 1] with the given long side."""
    rgb = ops.resize_long_side(read_image(BENCH / "content" / f"{name}.jpg").rgb, long_side).clamp(0, 1)
    return to_array(rgb)


def pan_clip(photo: np.ndarray, size: int, frames: int, step: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames of a window moving right by ``step`` px a frame, and each frame's backward flow (to the previous)."""
    height = min(photo.shape[0], size * 3 // 4)
    clip = [photo[:height, round(step * t):round(step * t) + size] for t in range(frames)]
    flow = np.zeros((height, size, 2), np.float32)
    flow[..., 0] = step
    return clip, [flow] * frames


def subpixel_pan_clip(name: str, size: int, frames: int, step: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames of a window moving right by ``step`` px a frame, a half-pixel step allowed (the camera's usual
    case): the pan is cut from the photo at twice the size at whole pixels, each frame then halved (area)."""
    import cv2

    if (2 * step) % 1:
        raise ValueError(f"a pan of {step} px a frame is not a whole number of pixels at twice the size")
    twice = photo_array(name, 2 * (size + 4 * frames))
    clip, flows = pan_clip(twice, 2 * size, frames, 2 * step)
    if any(frame.shape[1] != 2 * size for frame in clip):
        raise ValueError(f"{name} is too narrow for a {size} px pan of {frames} frames")
    halves = [cv2.resize(frame, (size, frame.shape[0] // 2), interpolation=cv2.INTER_AREA) for frame in clip]
    return halves, [cv2.resize(flow, (size, flow.shape[0] // 2)) / 2 for flow in flows]


def zoom_clip(photo: np.ndarray, size: int, frames: int, rate: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames zooming into the centre by ``rate`` a frame, and each frame's backward flow (to the previous)."""
    height, width = min(photo.shape[0], size * 3 // 4), min(photo.shape[1], size)
    photo = np.ascontiguousarray(photo[:height, :width])
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = np.stack([xs - (width - 1) / 2, ys - (height - 1) / 2], -1)
    clip = [warp(photo, centre / rate ** t - centre) for t in range(frames)]
    return clip, [centre * (1 / rate - 1)] * frames  # x_{t-1} = c + (x - c) z_{t-1} / z_t


def add_noise(clip: list[np.ndarray], sigma: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(frame + rng.normal(0, sigma, frame.shape).astype(np.float32), 0, 1) for frame in clip]


def mean_warping_error(frames: list[np.ndarray], flows: list[np.ndarray]) -> float:
    """Mean over consecutive pairs of the masked warping error with the true motion (pixels that come from
    outside the previous frame are masked out)."""
    height, width = frames[0].shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    errors = []
    for t in range(1, len(frames)):
        source_x, source_y = xs + flows[t][..., 0], ys + flows[t][..., 1]
        mask = ((source_x >= 0) & (source_x <= width - 1) & (source_y >= 0) & (source_y <= height - 1))
        errors.append(warping_error(frames[t], frames[t - 1], flows[t], mask.astype(np.float32)))
    return float(np.mean(errors))


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="frame width in pixels")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--photos", type=int, default=2, help="how many held-out photos")
    parser.add_argument("--style", default="starry-night", help="a built-in style")
    parser.add_argument("--amount", type=float, default=DEFAULT_AMOUNT, help="the temporal weight (--temporal)")
    parser.add_argument("--share", type=float, default=DISAGREEMENT_SHARE,
                        help="the flow blend's weight share where the textures disagree (1: blend regardless)")
    parser.add_argument("--noise", type=float, default=0.02)
    parser.add_argument("--no-quality", action="store_true", help="skip the VGG16 losses of the last frames")
    parser.add_argument("--quality-frames", type=int, default=4, help="how many last frames the losses average")
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/video-{date.today()}.json"))
    args = parser.parse_args()
    if not 1 <= args.quality_frames <= args.frames:
        parser.error(f"--quality-frames must be between 1 and --frames ({args.frames})")
    if not 0 <= args.share <= 1:
        parser.error("--share must be between 0 and 1")
    require_bench()
    job = api.prepare(args.style)
    style_image = read_image(BENCH / "style" / "vangogh_starry_night.jpg").rgb if args.style == "starry-night" \
        else None
    quality = None if args.no_quality or style_image is None else QualityLosses()
    clips = {}
    for index, name in enumerate(HELD_OUT[: args.photos]):
        photo = photo_array(name, args.size + 4 * args.frames)
        for kind, (clip, flows) in {"pan": pan_clip(photo, args.size, args.frames, 3.0),
                                    "subpixel-pan": subpixel_pan_clip(name, args.size, args.frames, 2.5),
                                    "zoom": zoom_clip(photo, args.size, args.frames, 1.01)}.items():
            clips[f"{name}/{kind}"] = (add_noise(clip, args.noise, index), flows)
    result: dict = {"benchmark": "video", "size": args.size, "frames": args.frames, "style": args.style,
                    "amount": args.amount, "share": args.share, "noise": args.noise,
                    "quality_frames": args.quality_frames, "threads": torch.get_num_threads(), "clips": {}}
    timings: dict[str, list[float]] = {"stylize": [], **{mode: [] for mode in MODES}}
    for key, (clip, flows) in clips.items():
        stylized = []
        for frame in clip:
            started = time.perf_counter()
            stylized.append(to_array(job.run(Picture(rgb=to_tensor(frame))).rgb))
            timings["stylize"].append(time.perf_counter() - started)
        entry = {}
        for mode in MODES:
            temporal = make_filter(mode, args.amount, **({"disagreement_share": args.share} if mode == "flow" else {}))
            outputs = []
            for frame, raw in zip(clip, stylized):
                spent = []  # the stylizer's own seconds: the flow filter stylizes the frame at its phase itself

                def stylize(content: np.ndarray, raw: np.ndarray = raw, frame: np.ndarray = frame,
                             spent: list[float] = spent) -> np.ndarray:
                    if content is frame:  # at phase (0, 0) the frame stylized above is the same
                        return raw
                    started = time.perf_counter()
                    result = to_array(job.run(Picture(rgb=to_tensor(content))).rgb)
                    spent.append(time.perf_counter() - started)
                    return result

                started = time.perf_counter()
                outputs.append(temporal.run(frame, stylize))
                timings[mode].append(time.perf_counter() - started - sum(spent))
            entry[mode] = {"warping_error": round(mean_warping_error(outputs, flows), 6)}
            if quality is not None:
                last = [quality(to_tensor(output), to_tensor(frame), style_image)
                        for output, frame in zip(outputs[-args.quality_frames:], clip[-args.quality_frames:])]
                entry[mode].update({loss: round(float(np.mean([losses[loss] for losses in last])), 4)
                                    for loss in last[0]})
        entry["flow_vs_frame_by_frame"] = round(entry["flow"]["warping_error"] / entry["none"]["warping_error"], 3)
        if quality is not None:
            entry["flow_style_change"] = round(entry["flow"]["style"] / entry["none"]["style"] - 1, 3)
        result["clips"][key] = entry
        print(key, entry, file=sys.stderr)
    result["ms_per_frame"] = {mode: round(1000 * statistics.median(values), 2) for mode, values in timings.items()}
    ratios = [entry["flow_vs_frame_by_frame"] for entry in result["clips"].values()]
    result["flow_vs_frame_by_frame_mean"] = round(float(np.mean(ratios)), 3)
    if quality is not None:
        result["flow_style_change_max"] = max(entry["flow_style_change"] for entry in result["clips"].values())
    save_result(result, args.out)


if __name__ == "__main__":
    main()
