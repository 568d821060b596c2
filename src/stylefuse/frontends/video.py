"""``stylefuse stylize clip.mp4 --style S -o out.mp4``: stylize a video frame by frame, in a stream.

Frames are decoded with PyAV (FFmpeg: any container it reads), stylized by a :class:`stylefuse.api.Job`
(any method or model), made temporally consistent (:mod:`stylefuse.frontends.temporal`) and encoded at
the source's frame rate and size; the audio is copied, or re-encoded to AAC when the output container
cannot hold it. Only the current and the previous frame are in memory. Ctrl-C stops at a frame boundary
and still closes the file properly, so what was done plays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from stylefuse.errors import ImageReadError, OptionError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif")
"""File names treated as video by ``stylefuse stylize``."""
ENCODERS = {".webm": ("libvpx-vp9", "libvpx"), ".gif": ("gif",)}
DEFAULT_ENCODERS = ("libx264", "h264", "mpeg4")


def is_video(path: Path) -> bool:
    """True for a file whose name ends with one of :data:`VIDEO_SUFFIXES`."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def _av():
    try:
        import av
    except ImportError:
        raise OptionError("video needs PyAV and OpenCV: pip install 'stylefuse[video]'") from None
    return av


@dataclass
class VideoSummary:
    """What a run did: frames written (of ``total`` when known), frame rate, size, seconds, interrupted."""

    frames: int
    total: int | None
    fps: float
    size: tuple[int, int]
    seconds: float
    interrupted: bool = False


def to_array(rgb: torch.Tensor) -> np.ndarray:
    """(3, H, W) tensor in [0, 1] -> (H, W, 3) float32 array."""
    return rgb.permute(1, 2, 0).contiguous().numpy().astype(np.float32, copy=False)


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 or float array -> (3, H, W) float32 tensor in [0, 1]."""
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)
    return tensor.float() / 255 if array.dtype == np.uint8 else tensor.float()


def stylize_video(source: Path, target: Path, stylize: Callable[[torch.Tensor], torch.Tensor], temporal,
                  progress: bool = True, max_pixels: int | None = None) -> VideoSummary:
    """Stylize every frame of ``source`` into ``target``.

    Args:
        stylize: (3, H, W) in [0, 1] -> (3, H', W') in [0, 1] (e.g. ``lambda rgb: job.run(Picture(rgb)).rgb``);
            results of another size are resized back to the frame size.
        temporal: a filter of :mod:`stylefuse.frontends.temporal`; its ``run`` stylizes each frame and gives the
            frame to write.
        progress: show a bar with rate and ETA.
        max_pixels: refuse frames with more pixels than this.
    """
    from stylefuse.image import ops
    from stylefuse.image.io import quantize
    from stylefuse.progress import progress_bar

    def styled(frame: np.ndarray) -> np.ndarray:
        content = to_tensor(frame)
        result = stylize(content).clamp(0, 1)
        if result.shape != content.shape:
            result = ops.resize(result, tuple(content.shape[-2:])).clamp(0, 1)
        return to_array(result)

    av = _av()
    if not source.is_file():
        raise ImageReadError(f"cannot read {source}: no such file")
    try:
        reader = av.open(str(source))
    except (av.FFmpegError, OSError) as exc:
        raise ImageReadError(f"cannot read {source} as video ({exc})") from None
    with reader:
        if not reader.streams.video:
            raise ImageReadError(f"{source} has no video stream")
        video = reader.streams.video[0]
        audio = reader.streams.audio[0] if reader.streams.audio else None
        width, height = video.codec_context.width, video.codec_context.height
        if max_pixels is not None and width * height > max_pixels:
            raise ImageReadError(f"{source} has {width}x{height} frames, more than --max-pixels {max_pixels}")
        rate = video.average_rate or video.guessed_rate or 25
        total = video.frames or None
        started, count, interrupted = time.perf_counter(), 0, False
        target.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(target), "w") as writer, progress_bar("video", total, enabled=progress) as bar:
            encoder = _video_stream(writer, target, rate, width, height)
            sound = _AudioCopy(writer, audio) if audio is not None else None
            streams = [video] + ([audio] if audio is not None else [])
            try:
                for packet in reader.demux(*streams):
                    if packet.stream is audio:
                        sound.add(packet)
                        continue
                    for frame in packet.decode():
                        out = temporal.run(frame.to_ndarray(format="rgb24").astype(np.float32) / 255, styled)
                        pixels = quantize(torch.from_numpy(out))
                        _encode(writer, encoder, av.VideoFrame.from_ndarray(pixels, format="rgb24"))
                        count += 1
                        bar.update(advance=1)
            except KeyboardInterrupt:
                interrupted = True
            _encode(writer, encoder, None)
            if sound is not None:
                sound.flush()
    return VideoSummary(count, total, float(rate), (width, height), time.perf_counter() - started, interrupted)


def _video_stream(writer, target: Path, rate, width: int, height: int):
    """An output video stream at the source's rate and size, with the first encoder this FFmpeg has."""
    av = _av()
    for name in ENCODERS.get(target.suffix.lower(), DEFAULT_ENCODERS):
        if name in av.codecs_available:
            stream = writer.add_stream(name, rate=rate)
            stream.width, stream.height = width, height
            stream.pix_fmt = "rgb8" if name == "gif" else "yuv420p"
            return stream
    raise OptionError(f"this FFmpeg has no video encoder for {target.suffix} files; write .mp4")


def _encode(writer, stream, frame) -> None:
    for packet in stream.encode(frame):
        writer.mux(packet)


class _AudioCopy:
    """The source's audio in the output: packets copied as they are, or decoded and re-encoded to AAC
    when the output container does not take the codec."""

    def __init__(self, writer, audio) -> None:
        self.writer, self.audio = writer, audio
        try:
            self.stream = writer.add_stream_from_template(audio)
            self.copy = True
        except (ValueError, _av().FFmpegError):
            self.stream = writer.add_stream("aac", rate=audio.codec_context.sample_rate or 44100)
            self.copy = False

    def add(self, packet) -> None:
        if packet.dts is None:  # the demuxer's flush packet
            return
        if self.copy:
            packet.stream = self.stream
            self.writer.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            _encode(self.writer, self.stream, frame)

    def flush(self) -> None:
        if not self.copy:
            _encode(self.writer, self.stream, None)


def run_job_on_video(job, source: Path, output: Path | None, temporal: float | None, mode: str, progress: bool,
                     max_pixels: int, protected: list[Path], overwrite_input: bool) -> tuple[Path, VideoSummary]:
    """``stylefuse stylize CLIP``: run a prepared :class:`stylefuse.api.Job` over a video file.

    Args:
        output: the video to write (default ``<name>-stylized.mp4`` beside the working folder).
        temporal, mode: the temporal filter (see :func:`stylefuse.frontends.temporal.make_filter`).
        protected: inputs the output must not overwrite (style images).

    Returns:
        (the path written, the summary).
    """
    from stylefuse.frontends.temporal import make_filter
    from stylefuse.image.io import Picture, ensure_not_input

    target = output or Path(f"{source.stem}-stylized.mp4")
    if not is_video(target):
        raise OptionError(f"{target}: a video is written as one of {', '.join(VIDEO_SUFFIXES)}")
    ensure_not_input(target, protected + [source], overwrite_input)
    summary = stylize_video(source, target, lambda rgb: job.run(Picture(rgb=rgb)).rgb, make_filter(mode, temporal),
                            progress, max_pixels)
    return target, summary
