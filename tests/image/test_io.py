"""Image I/O: a catalogue of odd and broken files, each made here, each with its expected outcome."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import png
import pytest
import torch
from PIL import Image

from stylefuse.errors import ImageReadError, ImageWriteError
from stylefuse.image.io import as_picture, ensure_not_input, read_image, to_pil, write_image

RNG = np.random.default_rng(0)


def _rgb8(h: int = 12, w: int = 16) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(img: Image.Image, fmt: str, **kwargs) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        img.save(path, fmt, **kwargs)
        return path
    return make


def _bytes(data: bytes) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return make


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb_png() -> bytes:
    """A valid-looking PNG header claiming 100000 x 100000 pixels (10 GP) with almost no data."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def _png16(planes: int) -> Callable[[Path], Path]:
    values = RNG.integers(0, 65536, (6, 5, planes), dtype=np.uint16)

    def make(path: Path) -> Path:
        writer = png.Writer(width=5, height=6, bitdepth=16, greyscale=False, alpha=planes == 4)
        with open(path, "wb") as f:
            writer.write(f, values.reshape(6, 5 * planes).tolist())
        return path
    return make


def _exif_rotated_jpeg(path: Path) -> Path:
    img = Image.fromarray(_rgb8(10, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    img.save(path, "JPEG", exif=exif)
    return path


def _animated_gif(path: Path) -> Path:
    frames = [Image.new("RGB", (8, 8), (255, 0, 0)), Image.new("RGB", (8, 8), (0, 0, 255))]
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return path


def _transparent_palette(path: Path) -> Path:
    img = Image.new("P", (8, 8), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.putpixel((0, 0), 1)
    img.save(path, "PNG", transparency=0)
    return path


def _truncated(fmt: str, size: tuple[int, int] = (64, 64)) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        buffer = io.BytesIO()
        Image.fromarray(RNG.integers(0, 256, (*size, 3), dtype=np.uint8)).save(buffer, fmt)
        path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        return path
    return make


def _float_tiff(values: np.ndarray) -> Callable[[Path], Path]:
    return _save(Image.fromarray(values.astype(np.float32), "F"), "TIFF")


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


# name, file maker, expected: a dict of checks for readable files, or an error substring.
CATALOGUE = [
    ("rgb.png", _save(Image.fromarray(_rgb8()), "PNG"), {"size": (16, 12)}),
    ("rgba.png", _save(Image.fromarray(RNG.integers(0, 256, (12, 16, 4), dtype=np.uint8), "RGBA"), "PNG"),
     {"alpha": True}),
    ("gray.png", _save(Image.fromarray(RNG.integers(0, 256, (12, 16), dtype=np.uint8), "L"), "PNG"), {"gray": True}),
    ("gray_alpha.png", _save(Image.new("LA", (9, 7), (100, 50)), "PNG"), {"alpha": True, "gray": True}),
    ("bilevel.png", _save(Image.new("1", (9, 7), 1), "PNG"), {"gray": True}),
    ("palette.png", _save(Image.fromarray(_rgb8()).convert("P"), "PNG"), {"alpha": False}),
    ("palette_transparent.png", _transparent_palette, {"alpha": True}),
    ("gray16.png", _save(Image.fromarray(RNG.integers(0, 65536, (6, 5), dtype=np.uint16)), "PNG"), {"bits": 16}),
    ("rgb16.png", _png16(3), {"bits": 16, "size": (5, 6)}),
    ("rgba16.png", _png16(4), {"bits": 16, "alpha": True}),
    ("cmyk.jpg", _save(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"), {"reddish": True}),
    ("exif_rotated.jpg", _exif_rotated_jpeg, {"size": (10, 20)}),
    ("image.webp", _save(Image.fromarray(_rgb8()), "WEBP"), {"size": (16, 12)}),
    ("image.bmp", _save(Image.fromarray(_rgb8()), "BMP"), {"size": (16, 12)}),
    ("animated.gif", _animated_gif, {"reddish": True}),
    ("float.tiff", _float_tiff(RNG.random((6, 5))), {"bits": 32}),
    ("gray16.tiff", _save(Image.fromarray(RNG.integers(0, 65536, (6, 5), dtype=np.uint16)), "TIFF"), {"bits": 16}),
    ("one_pixel.png", _save(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"), {"size": (1, 1)}),
    ("float_out_of_range.tiff", _float_tiff(RNG.random((6, 5)) * 4), "floating-point pixels must lie in [0, 1]"),
    ("float_nan.tiff", _float_tiff(np.full((6, 5), np.nan)), "30 pixels are NaN or infinite"),
    ("empty.jpg", _bytes(b""), "empty (0 bytes)"),
    ("text.jpg", _bytes(b"this is not a picture\n" * 10), "not an image"),
    ("random_bytes.png", _bytes(bytes(RNG.integers(0, 256, 500, dtype=np.uint8))), "not an image"),
    ("truncated.png", _truncated("PNG"), "truncated or corrupt"),
    ("truncated.jpg", _truncated("JPEG", (256, 256)), "truncated or corrupt"),
    ("bomb.png", _bytes(_bomb_png()), "over the limit"),
    ("a_folder.png", _directory, "is a directory"),
]


@pytest.mark.parametrize("name,make,expected", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_catalogue(tmp_path: Path, name: str, make, expected) -> None:
    path = make(tmp_path / name)
    if isinstance(expected, str):
        with pytest.raises(ImageReadError, match=None) as info:
            read_image(path)
        message = str(info.value)
        assert expected in message and "\n" not in message and str(path) in message
        return
    picture = read_image(path)
    assert picture.rgb.dtype == torch.float32 and picture.rgb.shape[0] == 3
    assert 0 <= picture.rgb.min() and picture.rgb.max() <= 1
    if "size" in expected:
        assert picture.size == expected["size"]
    if "alpha" in expected:
        assert (picture.alpha is not None) == expected["alpha"]
        if picture.alpha is not None:
            assert picture.alpha.shape == (1, *picture.rgb.shape[1:])
    if expected.get("gray"):
        assert torch.equal(picture.rgb[0], picture.rgb[1]) and torch.equal(picture.rgb[1], picture.rgb[2])
    if "bits" in expected:
        assert picture.bit_depth == expected["bits"]
    if expected.get("reddish"):
        red, green, blue = picture.rgb.mean(dim=(1, 2)).tolist()
        assert red > 0.8 and green < 0.3 and blue < 0.3


def test_catalogue_is_large_enough() -> None:
    assert len(CATALOGUE) >= 20


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "nope.png")


def test_sixteen_bit_precision_is_kept(tmp_path: Path) -> None:
    values = np.array([[0, 1, 257, 65534, 65535, 12345]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    gray = read_image(tmp_path / "g16.png").rgb[0, 0]
    torch.testing.assert_close(gray, torch.tensor(values[0] / 65535.0, dtype=torch.float32))
    rgb_path = _png16(3)(tmp_path / "rgb16.png")
    expected = np.asarray(png.Reader(filename=str(rgb_path)).asDirect()[2].__iter__().__next__(), dtype=np.float32)
    got = read_image(rgb_path).rgb[:, 0, :].T.reshape(-1).numpy()
    np.testing.assert_allclose(got, expected / 65535.0, rtol=0, atol=1e-7)


def test_pixel_limit_option(tmp_path: Path) -> None:
    path = _save(Image.fromarray(_rgb8(100, 100)), "PNG")(tmp_path / "big.png")
    with pytest.raises(ImageReadError, match="--max-pixels"):
        read_image(path, max_pixels=5000)
    assert read_image(path, max_pixels=10_000).size == (100, 100)


def test_bomb_is_refused_without_allocating(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _bytes(_bomb_png())(tmp_path / "bomb.png")
    # a fresh process: the peak RSS of this one depends on what earlier tests allocated and freed
    code = ("import resource, sys\nfrom stylefuse.errors import ImageReadError\n"
            "from stylefuse.image.io import read_image\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\ntry:\n"
            "    read_image(sys.argv[1], max_pixels=20_000_000_000)\nexcept ImageReadError:\n"
            "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip(), result.stderr  # refused (even with a raised limit: the data is missing)
    assert int(result.stdout) < 200_000  # KiB of extra peak memory: far below the 30 GB it declares


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"])
def test_write_read_round_trip(tmp_path: Path, suffix: str) -> None:
    y, x = torch.meshgrid(torch.linspace(0, 1, 20), torch.linspace(0, 1, 30), indexing="ij")
    rgb = torch.stack([x, y, (x + y) / 2])
    path = write_image(tmp_path / "deep" / "folder" / f"out{suffix}", rgb)
    back = read_image(path).rgb
    lossless = suffix in (".png", ".tif", ".tiff")
    assert back.shape == rgb.shape
    assert (back - rgb).abs().max() <= 0.5 / 255 + 1e-6 if lossless else (back - rgb).abs().mean() < 0.02
    assert not list(path.parent.glob(".tmp-*"))


def test_alpha_round_trip_and_jpeg_composite(tmp_path: Path) -> None:
    rgb, alpha = torch.zeros(3, 8, 8), torch.linspace(0, 1, 64).reshape(1, 8, 8)
    back = read_image(write_image(tmp_path / "a.png", rgb, alpha))
    assert back.alpha is not None and (back.alpha - alpha).abs().max() <= 1 / 255
    flat = read_image(write_image(tmp_path / "a.jpg", rgb, alpha))
    assert flat.alpha is None and flat.rgb[:, 0, 0].mean() > 0.9  # transparent black -> white


def test_write_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match="unknown extension"):
        write_image(tmp_path / "x.gifx", torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        write_image(tmp_path / "x.png", torch.rand(3, 4, 4) * 3)
    source = write_image(tmp_path / "in.png", torch.rand(3, 4, 4))
    with pytest.raises(ImageWriteError, match="refusing to overwrite the input"):
        ensure_not_input(tmp_path / "." / "in.png", [source])
    ensure_not_input(source, [source], overwrite_input=True)


def test_as_picture_accepts_arrays_pil_and_tensors() -> None:
    array = _rgb8(5, 7)
    from_array = as_picture(array)
    from_pil = as_picture(Image.fromarray(array))
    from_tensor = as_picture(from_array.rgb)
    torch.testing.assert_close(from_array.rgb, from_pil.rgb)
    torch.testing.assert_close(from_array.rgb, from_tensor.rgb)
    assert as_picture(np.zeros((5, 7), np.uint16)).rgb.shape == (3, 5, 7)
    assert as_picture(np.zeros((5, 7, 4), np.float32)).alpha is not None
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_picture(np.full((5, 7, 3), 2.0))
    rgba = to_pil(from_array.rgb, torch.ones(1, 5, 7))
    assert rgba.mode == "RGBA" and rgba.size == (7, 5)


def test_written_files_get_the_usual_permissions(tmp_path) -> None:
    import os
    import stat

    path = write_image(tmp_path / "out.png", torch.rand(3, 8, 8))
    current = os.umask(0)
    os.umask(current)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current
