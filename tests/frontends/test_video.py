"""Video: stream in, stylize, keep rate, size and audio; the flow-guided blend cuts the warping error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tests.helpers import save_style_model
from tests.test_cli import run_cli

from stylefuse.image.flow import warping_error

av = pytest.importorskip("av")
pytest.importorskip("cv2")

FRAMES, WIDTH, HEIGHT, FPS, PAN = 16, 64, 48, 12, 2


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture (H, W, 3) float in [0, 1]."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((1, 3, height // 8 + 1, width // 8 + 1), dtype=np.float32))
    fine = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    return fine[0].permute(1, 2, 0).clamp(0, 1).numpy()


def write_clip(path: Path, audio: bool = True) -> Path:
    """FRAMES frames of a texture panning left by PAN pixels a frame (frame t shows columns 2t.. of the texture),
    with a mono AAC tone when ``audio``."""
    scene = texture(HEIGHT, WIDTH + PAN * FRAMES)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "10"}
        sound = container.add_stream("aac", rate=16000) if audio else None
        for t in range(FRAMES):
            pixels = (scene[:, PAN * t:PAN * t + WIDTH] * 255).astype(np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = np.sin(np.arange(16000 * FRAMES // FPS) * 2 * np.pi * 440 / 16000).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(samples[None], format="fltp", layout="mono")
            frame.sample_rate = 16000
            for packet in [*sound.encode(frame), *sound.encode(None)]:
                container.mux(packet)
    return path


def read_clip(path: Path) -> tuple[list[np.ndarray], float, bool]:
    """(frames (H, W, 3) float, frames per second, has audio)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24").astype(np.float32) / 255 for frame in container.decode(stream)]
        return frames, float(stream.average_rate), bool(container.streams.audio)


def true_warping_error(frames: list[np.ndarray]) -> float:
    """Mean warping error with the known motion: frame t at x shows frame t-1 at x + PAN."""
    backward = np.zeros((HEIGHT, WIDTH, 2), np.float32)
    backward[..., 0] = PAN
    mask = np.ones((HEIGHT, WIDTH), np.float32)
    mask[:, WIDTH - PAN - 1:] = 0
    return float(np.mean([warping_error(b, a, backward, mask) for a, b in zip(frames, frames[1:])]))


@pytest.fixture
def clip(tmp_path) -> Path:
    return write_clip(tmp_path / "clip.mp4")


def test_cli_keeps_frames_rate_size_and_audio(tmp_path, clip, capsys, monkeypatch) -> None:
    model = save_style_model(tmp_path / "fast", [8, 16, 32], 1)
    out = tmp_path / "out" / "styled.mp4"
    code, stdout, err = run_cli(["stylize", clip, "--model", model, "-s", "ink", "-o", out, "-q"], capsys, monkeypatch)
    assert code == 0, err
    assert f"wrote {out} ({FRAMES} frames, {WIDTH}x{HEIGHT}, {FPS} fps" in stdout
    frames, fps, audio = read_clip(out)
    assert len(frames) == FRAMES and fps == FPS and frames[0].shape == (HEIGHT, WIDTH, 3) and audio
    source, _, _ = read_clip(clip)
    assert np.abs(frames[5] - source[5]).mean() > 0.05  # stylized, not copied


def flickering(rgb: torch.Tensor) -> torch.Tensor:
    """A stand-in stylizer with frame-to-frame flicker: a colour shift plus fresh noise every frame."""
    generator = torch.Generator().manual_seed(int(rgb.sum() * 1000) % 2**31)
    shift = torch.rand(3, 1, 1, generator=generator) * 0.2
    return (0.7 * rgb.flip(0) + shift + 0.08 * torch.randn(rgb.shape, generator=generator)).clamp(0, 1)


def test_flow_blend_lowers_the_warping_error(tmp_path, clip) -> None:
    from stylefuse.frontends.temporal import make_filter
    from stylefuse.frontends.video import stylize_video

    errors = {}
    for mode in ("none", "smooth", "flow"):
        out = tmp_path / f"{mode}.mp4"
        summary = stylize_video(clip, out, flickering, make_filter(mode, 0.6), progress=False)
        assert summary.frames == FRAMES and not summary.interrupted
        errors[mode] = true_warping_error(read_clip(out)[0])
    assert errors["flow"] < 0.5 * errors["none"], errors
    assert errors["flow"] < errors["smooth"], errors


def test_interrupted_run_writes_a_playable_file(tmp_path, clip) -> None:
    from stylefuse.frontends.temporal import FrameByFrame
    from stylefuse.frontends.video import stylize_video

    calls = []

    def stop_after_five(rgb: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        if len(calls) > 5:
            raise KeyboardInterrupt
        return rgb

    summary = stylize_video(clip, tmp_path / "part.mp4", stop_after_five, FrameByFrame(), progress=False)
    assert summary.interrupted and summary.frames == 5
    assert len(read_clip(tmp_path / "part.mp4")[0]) == 5


def test_video_errors_are_one_line(tmp_path, clip, capsys, monkeypatch) -> None:
    model = save_style_model(tmp_path / "fast", [8, 16, 32], 1)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    cases = [([broken, "-o", tmp_path / "o.mp4"], "cannot read"),
             ([clip, "-o", tmp_path / "o.png"], "a video is written as"),
             ([clip, "-o", tmp_path / "o.mp4", "--temporal-mode", "magic"], "unknown temporal mode")]
    for args, message in cases:
        code, _, err = run_cli(["stylize", *args, "--model", model, "-s", "ink", "-q"], capsys, monkeypatch)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
