"""Fuzzed image files for the decoder and CLI fuzz tests and ``benchmarks/fuzz.py``.

Every input starts from a small valid image made here (each format PIL writes, in many colour modes, with and
without EXIF orientation, animated or not) and is then truncated, bit-flipped, overwritten, given a huge
declared size, or left as it is. :func:`check_read` states the property: :func:`read_image` returns a valid
picture or raises :class:`ImageReadError`, nothing else.
"""

from __future__ import annotations

import contextlib
import functools
import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

from stylefuse.errors import ImageReadError
from stylefuse.image.io import DEFAULT_MAX_PIXELS, read_image

SIDE = (7, 5)
"""(width, height) of the seed images: odd, not square, tiny."""

ORIENTATIONS = {**{str(value): (3, 1, struct.pack("<H", value)) for value in (*range(10), 65535)},
                "ascii": (2, 4, b"abc\0"), "rational": (5, 1, struct.pack("<I", 4000)), "two": (3, 2, b"\6\0\x08\0"),
                "long": (4, 1, struct.pack("<I", 2**31 + 6)), "signed": (8, 1, struct.pack("<h", -6)),
                "undefined": (7, 1, b"\6"), "no type": (0, 1, b"\6")}
"""EXIF orientation entries (TIFF type, count, value field) by name: the eight valid values, the invalid 0, 9
and 65535, and garbage: other types, two values, an offset out of the block."""

# (format, suffix, modes it can write)
_WRITERS = (
    ("PNG", ".png", ("RGB", "RGBA", "L", "LA", "P", "PT", "1", "I;16", "RGB16")),
    ("JPEG", ".jpg", ("RGB", "L", "CMYK")),
    ("WEBP", ".webp", ("RGB", "RGBA")),
    ("TIFF", ".tif", ("RGB", "RGBA", "CMYK", "L", "LA", "1", "I;16", "I", "F", "P")),
    ("GIF", ".gif", ("P", "PT", "L")),
    ("BMP", ".bmp", ("RGB", "L", "P", "1")),
)


def picture(mode: str) -> Image.Image:
    """A deterministic tiny image in ``mode`` ("PT": palette with a transparent index; "RGB16": 16-bit RGB)."""
    width, height = SIDE
    ramp = (np.arange(width * height * 4, dtype=np.uint32) * 37 % 256).astype(np.uint8).reshape(height, width, 4)
    rgba = Image.fromarray(ramp)
    if mode in ("P", "PT"):
        img = rgba.convert("RGB").quantize(colors=8)
        if mode == "PT":
            img.info["transparency"] = 0
        return img
    if mode == "I;16":
        return Image.fromarray(ramp[:, :, 0].astype(np.uint16) * 257)
    if mode == "I":
        return Image.fromarray(ramp[:, :, 0].astype(np.int32) * 200)
    if mode == "F":
        return Image.fromarray(ramp[:, :, 0].astype(np.float32) / 255.0)
    return rgba.convert(mode)


def png16(width: int, height: int) -> bytes:
    """A 16-bit RGB PNG (PIL cannot write one)."""
    import png

    rows = [[(x * 4099 + y * 977 + c * 131) % 65536 for x in range(width) for c in range(3)] for y in range(height)]
    buffer = io.BytesIO()
    png.Writer(width, height, bitdepth=16, greyscale=False).write(buffer, rows)
    return buffer.getvalue()


def exif_block(kind: int, count: int, value: bytes) -> bytes:
    """An EXIF block holding one Orientation entry (tag 0x0112) of TIFF type ``kind``."""
    return b"Exif\0\0II*\0" + struct.pack("<IHHHI", 8, 1, 0x0112, kind, count) + value.ljust(4, b"\0") + bytes(4)


def encode(img: Image.Image | list[Image.Image], fmt: str, orientation: str | None = None) -> bytes:
    """``img`` (or its frames) in format ``fmt``, with the EXIF orientation entry named ``orientation``."""
    frames = img if isinstance(img, list) else [img]
    options: dict = {}
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=50, loop=0)
    if "transparency" in frames[0].info and fmt in ("PNG", "GIF"):
        options["transparency"] = frames[0].info["transparency"]
    if orientation is not None:
        options["exif"] = exif_block(*ORIENTATIONS[orientation])
    buffer = io.BytesIO()
    frames[0].save(buffer, format=fmt, **options)
    return buffer.getvalue()


@functools.cache
def seed_files() -> tuple[tuple[str, bytes], ...]:
    """(suffix, bytes) of every valid seed: each format and mode, EXIF orientations, animations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL's TIFF writer warns about the garbage orientations
        return _seed_files()


def _seed_files() -> tuple[tuple[str, bytes], ...]:
    seeds = []
    for fmt, suffix, modes in _WRITERS:
        for mode in modes:
            if mode == "RGB16":
                seeds.append((suffix, png16(*SIDE)))
                continue
            try:
                seeds.append((suffix, encode(picture(mode), fmt)))
            except (OSError, ValueError, KeyError):
                continue  # a mode this PIL cannot write in this format
    for fmt, suffix in (("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif")):
        for orientation in ORIENTATIONS:
            try:
                seeds.append((suffix, encode(picture("RGB"), fmt, orientation)))
            except (OSError, ValueError, TypeError, struct.error):
                continue  # PIL refuses to write this value in this format
    frames = [picture("RGB"), picture("RGB").rotate(90, expand=False), picture("L").convert("RGB")]
    for fmt, suffix in (("GIF", ".gif"), ("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif")):
        seeds.append((suffix, encode(frames, fmt)))
    return tuple(seeds)


def short_run(examples: int) -> settings:
    """Hypothesis settings for ``make test``: ``examples`` inputs, the same ones every run, no time limit."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(width: int, height: int, color_type: int = 2, bit_depth: int = 8) -> bytes:
    """A PNG whose (valid) header declares ``width`` x ``height`` but whose data is a few bytes: a pixel bomb."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def huge_gif(width: int, height: int) -> bytes:
    """A GIF whose logical screen is ``width`` x ``height``."""
    data = bytearray(encode(picture("P"), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def huge_bmp(width: int, height: int) -> bytes:
    """A BMP whose info header declares ``width`` x ``height``."""
    data = bytearray(encode(picture("RGB"), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def huge_jpeg(width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) declares ``width`` x ``height``."""
    data = bytearray(encode(picture("RGB"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


_HUGE = {".png": huge_png, ".gif": huge_gif, ".bmp": huge_bmp, ".jpg": huge_jpeg}
_SIDES = st.sampled_from([0, 1, 2, 8191, 8192, 65535, 100_000, 2**31 - 1])


@st.composite
def huge_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A file whose header declares an extreme size (zero, huge, or enormous in one direction)."""
    suffix = draw(st.sampled_from(sorted(_HUGE)))
    width, height = draw(_SIDES), draw(_SIDES)
    if suffix in (".gif", ".jpg"):  # 16-bit fields
        width, height = min(width, 65535), min(height, 65535)
    return suffix, _HUGE[suffix](width, height)


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed file, then nothing, a truncation, bit flips, overwritten bytes or a spliced-in run of bytes."""
    suffix, data = draw(st.sampled_from(seed_files()))
    data = bytearray(data)
    how = draw(st.sampled_from(["none", "truncate", "flip", "overwrite", "splice"]))
    if how == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            # most of the structure lives in the first bytes: flip there more often
            limit = draw(st.sampled_from([min(64, len(data)), len(data)]))
            data[draw(st.integers(0, limit - 1))] ^= 1 << draw(st.integers(0, 7))
    elif how == "overwrite":
        at = draw(st.integers(0, len(data) - 1))
        chunk = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff"])
                     | st.binary(min_size=1, max_size=8))
        data[at:at + len(chunk)] = chunk
    elif how == "splice":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=32))
    return suffix, bytes(data)


def fuzzed_files() -> st.SearchStrategy[tuple[str, bytes]]:
    """Every kind of fuzzed file: mutated seeds (most), declared-size bombs, and arbitrary bytes."""
    noise = st.tuples(st.sampled_from([".png", ".jpg", ".gif", ".tif", ".bmp", ".webp"]), st.binary(max_size=64))
    return st.one_of(mutated_files(), mutated_files(), mutated_files(), huge_files(), noise)


def check_read(path: Path, max_pixels: int = 4_000_000) -> str:
    """Read ``path``: "processed" for a valid picture, "refused" for an :class:`ImageReadError`.

    Raises:
        AssertionError: the picture is not (3, H, W) float32 in [0, 1] and finite, or its alpha is malformed.
        AssertionError: ``read_image`` printed a warning or log record to stderr (the CLI would show it).
        Exception: whatever else ``read_image`` raised (a crash: the property is broken).
    """
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(io.StringIO()) as stderr:
        try:
            picture = read_image(path, max_pixels=max_pixels)
        except ImageReadError as exc:
            picture, message = None, str(exc)
    shown = [str(warning.message) for warning in caught] + stderr.getvalue().splitlines()
    assert not shown, f"read_image printed to stderr: {shown}"
    if picture is None:
        assert "\n" not in message.strip(), f"multi-line message: {message!r}"
        return "refused"
    rgb = picture.rgb
    assert rgb.ndim == 3 and rgb.shape[0] == 3 and rgb.shape[1] > 0 and rgb.shape[2] > 0, rgb.shape
    assert rgb.shape[1] * rgb.shape[2] <= max_pixels
    assert rgb.dtype.is_floating_point and bool(rgb.isfinite().all()), "non-finite pixels"
    assert float(rgb.min()) >= 0.0 and float(rgb.max()) <= 1.0, (float(rgb.min()), float(rgb.max()))
    if picture.alpha is not None:
        alpha = picture.alpha
        assert alpha.shape == (1, *rgb.shape[1:]) and bool(alpha.isfinite().all())
        assert float(alpha.min()) >= 0.0 and float(alpha.max()) <= 1.0
    return "processed"


OPTION_VALUES = {
    "--size": ["15", "16", "17", "33", "0", "-1", "abc", "2000000"],
    "--strength": ["0", "1", "0.5", "-0.01", "1.01", "nan", "inf"],
    "--max-pixels": ["0", "1", "34", "35", "36", "1000000"],
    "--tile": ["0", "-1", "16"],
    "--threads": ["0", "-3", "1"],
    "--style": ["starry-night:0", "starry-night:-1", "starry-night:abc", "no-such-style",
                "starry-night:0.5,the-scream:0.5", "starry-night:1e309", ""],
    "--set": ["strength=2", "model=.", "size=16", "nonsense=1", "size=", "=", "backend=onnx"],
    "--steps": ["3"],
    "--method": ["fast", "gatys", "nothing"],
    "--preserve-color": [None],
    "--bogus-flag": [None],
}
"""Options of ``stylize`` with values at and past their limits (None: a flag without a value)."""


@st.composite
def cli_options(draw: st.DrawFn) -> list[str]:
    """Zero to three options from :data:`OPTION_VALUES`, given after ``--style starry-night --size 16``."""
    args: list[str] = []
    for flag in draw(st.lists(st.sampled_from(sorted(OPTION_VALUES)), max_size=3)):
        value = draw(st.sampled_from(OPTION_VALUES[flag]))
        args += [flag] if value is None else [flag, value]
    return args


def check_cli(folder: Path, suffix: str, data: bytes, options: list[str],
              output_is_input: bool = False) -> tuple[str, str]:
    """Run ``stylefuse stylize FILE --style starry-night --size 16 -q OPTIONS`` in this process on ``data``.

    Returns:
        ("processed", "") for exit 0, the result written and readable and nothing on stderr, or ("refused", the
        error line) for exit 2 and exactly one ``error:`` line on stderr.

    Raises:
        AssertionError: another exit status, more or less than one stderr line, or the input file changed.
        Exception: an exception escaped ``main`` (a crash).
    """
    source = folder / f"input{suffix}"
    source.write_bytes(data)
    target = source if output_is_input else folder / "out.png"
    if not output_is_input:
        target.unlink(missing_ok=True)
    argv = ["stylize", str(source), "--style", "starry-night", "--size", "16", "-q", "-o", str(target), *options]
    code, lines = run_main(argv)
    assert source.read_bytes() == data, f"the input file changed: {argv}"
    assert code in (0, 2), f"exit {code} for {argv}: {lines}"
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{argv}: {lines}"
        return "refused", lines[0]
    assert not lines, f"{argv} succeeded but printed {lines}"
    assert check_read(target, max_pixels=DEFAULT_MAX_PIXELS) == "processed"
    return "processed", ""


def run_main(argv: list[str]) -> tuple[object, list[str]]:
    """Run ``stylefuse ARGV`` in this process: (exit status, stderr lines); stdout is dropped. An exception that
    escapes ``main`` propagates (a crash)."""
    import torch

    from stylefuse.cli import main

    threads = torch.get_num_threads()
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        torch.set_num_threads(threads)
    return code, stderr.getvalue().splitlines()
