"""Image files in and out as NumPy arrays, without PyTorch (the instant command line decodes and encodes
with this alone; :mod:`stylefuse.image.io` wraps it in tensors): float32 RGB in [0, 1], shape (3, H, W), for
every mode.

Reading applies EXIF orientation, takes the first frame of animations, converts every PIL mode
(1, L, LA, P, PA, RGB, RGBA, CMYK, YCbCr, I;16, I, F, ...) to RGB, keeps the alpha channel apart so that
it can be put back on output, and keeps 16-bit precision (16-bit RGB PNGs are decoded with pypng
because PIL truncates them to 8 bits). A pixel limit is checked from the header, before any pixel is
decoded, so a decompression bomb is never allocated.

Every failure a user can cause raises :class:`ImageReadError` / :class:`ImageWriteError` with a
one-line message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from stylefuse.errors import ImageReadError, ImageWriteError, OptionError
from stylefuse.fileutil import atomic_write

DEFAULT_MAX_PIXELS = 64_000_000
READ_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
"""File extensions read as images (any colour mode; see :func:`read_pixels`)."""
WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DECODER_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, TypeError)
"""What PIL raises on damaged files (TypeError: a TIFF tag of the wrong type, such as rational strip offsets)."""
_pil_limit_lock = threading.Lock()

# PIL reports damage it works around (corrupt EXIF, a truncated TIFF tag, an invalid header field) as log
# records and UserWarnings, which Python prints on stderr beside our one-line error; the outcome (a picture or
# an ImageReadError) already says what matters. A handler keeps the records from Python's last-resort stderr
# handler (an application that configures logging still gets them); see quiet_pil for the warnings.
logging.getLogger("PIL").addHandler(logging.NullHandler())


@dataclass
class Pixels:
    """A decoded image as arrays.

    Attributes:
        rgb: float32 (3, H, W), values in [0, 1].
        alpha: float32 (1, H, W) in [0, 1], or None when the image is opaque.
        bit_depth: bits per channel of the source (8, 16 or 32).
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8


def read_pixels(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Pixels:
    """Read an image file into :class:`Pixels`.

    Args:
        path: JPEG, PNG, WebP, TIFF, BMP or GIF (first frame) file.
        max_pixels: refuse images with more pixels than this (checked before decoding).

    Raises:
        ImageReadError: missing file, a directory, an empty / truncated / non-image file, or an image
            over the pixel limit.
    """
    path = Path(path)
    check_is_file(path)
    # The file is ours to close: PIL leaves the files it opened itself open when some decoders fail.
    with quiet_pil(), open(path, "rb") as file, open_pil(_checked_png_chunks(file, path), path, max_pixels) as img:
        if _is_16bit_color_png(path):
            return _read_png16_color(path)
        try:
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img)
        except _DECODER_ERRORS as exc:
            raise ImageReadError(f"cannot read {path}: the file is truncated or corrupt ({exc})") from None
        return pil_to_pixels(img, path)


@contextlib.contextmanager
def quiet_pil() -> Iterator[None]:
    """Drop PIL's UserWarnings about damaged metadata while decoding (set per call: a filter set once at import
    is lost when the import happens inside another ``catch_warnings``, as under pytest). The filters are
    process-wide, so reads in other threads may briefly share them: that only decides whether a PIL warning
    about a damaged file is shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def check_is_file(path: Path) -> None:
    if not path.exists():
        raise ImageReadError(f"cannot read {path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"cannot read {path}: it is a directory, expected an image file")
    if path.stat().st_size == 0:
        raise ImageReadError(f"cannot read {path}: the file is empty (0 bytes)")


def open_pil(file: BinaryIO, path: Path, max_pixels: int) -> Image.Image:
    """Open ``file`` (read from ``path``) lazily, header only, and enforce ``max_pixels`` before anything is
    decoded."""
    try:
        with _pil_pixel_limit(max_pixels):
            img = Image.open(file)
    except UnidentifiedImageError:
        raise ImageReadError(f"cannot read {path}: not an image file (or a format PIL cannot decode)") from None
    except Image.DecompressionBombError:
        raise ImageReadError(f"cannot read {path}: over the limit of {max_pixels / 1e6:g} MP; "
                             "raise it with --max-pixels if you trust the file") from None
    except _DECODER_ERRORS as exc:
        raise ImageReadError(f"cannot read {path}: the file is corrupt ({exc})") from None
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ImageReadError(f"cannot read {path}: {width}x{height} is {width * height / 1e6:.1f} MP, over the "
                             f"limit of {max_pixels / 1e6:g} MP; raise it with --max-pixels if you trust the file")
    if width == 0 or height == 0:
        img.close()
        raise ImageReadError(f"cannot read {path}: the image has no pixels ({width}x{height})")
    return img


class _pil_pixel_limit:
    """Let PIL's own bomb check agree with ``max_pixels`` (PIL's default refuses above 179 MP)."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels

    def __enter__(self) -> None:
        _pil_limit_lock.acquire()
        self.saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = self.max_pixels
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)

    def __exit__(self, *exc: Any) -> None:
        Image.MAX_IMAGE_PIXELS = self.saved
        _pil_limit_lock.release()


def pil_to_pixels(img: Image.Image, path: Path | None) -> Pixels:
    """Convert any PIL mode to :class:`Pixels` (RGB in [0, 1] + optional alpha)."""
    mode = img.mode
    bit_depth = 8
    alpha = None
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
    if mode in ("RGBa", "La"):  # premultiplied alpha
        img = img.convert("RGBA" if mode == "RGBa" else "LA")
        mode = img.mode
    if mode in ("RGBA", "LA"):
        alpha = to_unit(np.asarray(img.getchannel("A")), 8)[None]
        img = img.convert("RGB" if mode == "RGBA" else "L")
        mode = img.mode
    if mode.startswith("I;16"):
        bit_depth = 16
        gray = to_unit(np.asarray(img).astype(np.float32), 16)
    elif mode == "I":
        values = np.asarray(img)
        if values.min() < 0 or values.max() > 65535:
            raise ImageReadError(f"cannot read {path}: 32-bit integer pixels outside 0..65535 are not supported; "
                                 "save it as 8- or 16-bit")
        bit_depth = 16
        gray = to_unit(values.astype(np.float32), 16)
    elif mode == "F":
        values = np.asarray(img, dtype=np.float32)
        if not np.isfinite(values).all():
            raise ImageReadError(f"cannot read {path}: {np.count_nonzero(~np.isfinite(values))} pixels are NaN or "
                                 "infinite; floating-point pixels must be finite and lie in [0, 1]")
        if values.min() < 0 or values.max() > 1:
            raise ImageReadError(f"cannot read {path}: floating-point pixels must lie in [0, 1] "
                                 f"(found {values.min():g}..{values.max():g}); rescale the image first")
        bit_depth = 32
        gray = values
    elif mode in ("1", "L"):
        gray = to_unit(np.asarray(img.convert("L")), 8)
    else:
        gray = None
        rgb = to_unit(np.asarray(img.convert("RGB")), 8)
    if gray is not None:
        rgb = np.repeat(gray[:, :, None], 3, axis=2)
    return Pixels(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32),
                  None if alpha is None else np.ascontiguousarray(alpha, dtype=np.float32), bit_depth)


def to_unit(values: np.ndarray, bits: int) -> np.ndarray:
    return values.astype(np.float32) / float(2**bits - 1)


def _checked_png_chunks(file: BinaryIO, path: Path) -> BinaryIO:
    """Refuse a PNG with a chunk longer than the rest of the file: PIL would allocate what the chunk declares
    (a flipped bit in a length asks for gigabytes) before finding the file short. Returns ``file`` rewound."""
    if file.read(8) == _PNG_SIGNATURE:
        size = os.fstat(file.fileno()).st_size
        while len(header := file.read(8)) == 8:
            length, kind = struct.unpack(">I", header[:4])[0], header[4:]
            if length > size - file.tell():
                raise ImageReadError(f"cannot read {path}: the file is truncated or corrupt (a {kind!r} chunk "
                                     f"declares {length} bytes, more than the file holds)")
            if kind == b"IEND":
                break
            file.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
    file.seek(0)
    return file


def _is_16bit_color_png(path: Path) -> bool:
    """True for PNGs whose header says 16 bits per channel with colour (types 2 = RGB, 6 = RGBA)."""
    with open(path, "rb") as f:
        head = f.read(26)
    return head[:8] == _PNG_SIGNATURE and len(head) == 26 and head[24] == 16 and head[25] in (2, 6)


def _read_png16_color(path: Path) -> Pixels:
    import png  # pypng: PIL keeps only 8 of the 16 bits of RGB PNGs

    try:
        with open(path, "rb") as file:  # pypng's Reader(filename=) leaves the file open when it fails
            width, height, rows, info = png.Reader(file=file).asDirect()
            values = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    except (png.Error, ValueError) as exc:
        raise ImageReadError(f"cannot read {path}: the file is truncated or corrupt ({exc})") from None
    planes = info["planes"]
    values = to_unit(values.reshape(height, width, planes), 16)
    rgb = np.ascontiguousarray(values[:, :, :3].transpose(2, 0, 1))
    alpha = np.ascontiguousarray(values[None, :, :, 3]) if planes == 4 else None
    return Pixels(rgb, alpha, 16)


def quantize_array(values: np.ndarray) -> np.ndarray:
    """(H, W, C) floats in [0, 1] -> uint8 array, rounded to the nearest level."""
    return np.clip(np.asarray(values, dtype=np.float32) * np.float32(255.0) + np.float32(0.5), 0, 255).astype(np.uint8)


def pixels_to_pil(rgb: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """An 8-bit PIL image of (3, H, W) floats in [0, 1] (and an optional (1, H, W) alpha)."""
    array = quantize_array(rgb.transpose(1, 2, 0))
    if alpha is None:
        return Image.fromarray(array, "RGB")
    return Image.fromarray(np.concatenate([array, quantize_array(alpha.transpose(1, 2, 0))], axis=2), "RGBA")


def write_format(path: Path) -> str:
    """The PIL format that ``path``'s extension asks for; an :class:`ImageWriteError` for others or a folder."""
    fmt = WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(WRITE_FORMATS))
        raise ImageWriteError(f"cannot write {path}: unknown extension {path.suffix!r}; use one of {known}")
    if path.is_dir():
        raise ImageWriteError(f"cannot write {path}: it is a directory")
    return fmt


def save_pil(path: Path, img: Image.Image, fmt: str, quality: int = 95) -> Path:
    """Save a PIL image atomically (temporary name, then rename) in ``fmt`` (see :func:`write_format`)."""
    options: dict[str, Any] = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    try:
        atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **options))
    except OSError as exc:
        raise ImageWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_pixels(path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None = None,
                 quality: int = 95) -> Path:
    """Write (3, H, W) floats in [0, 1] (and an optional (1, H, W) alpha) like
    :func:`stylefuse.image.io.write_image`: format from the extension, atomically, JPEG composited over white."""
    path = Path(path)
    fmt = write_format(path)
    if alpha is not None and fmt == "JPEG":
        rgb = rgb * alpha + (1 - alpha)
        alpha = None
    return save_pil(path, pixels_to_pil(rgb, alpha), fmt, quality)


def size_for_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) scaled so that max(H, W) == long_side, keeping the aspect ratio (each side >= 1).

    Raises:
        OptionError: the result would have more than :data:`DEFAULT_MAX_PIXELS` pixels
            (a ``--size`` of a million would otherwise try to allocate terabytes).
    """
    if long_side < 1:
        raise ValueError(f"size must be a positive number of pixels, got {long_side}")
    scale = long_side / max(height, width)
    size = max(1, round(height * scale)), max(1, round(width * scale))
    if size[0] * size[1] > DEFAULT_MAX_PIXELS:
        raise OptionError(f"a size of {long_side} pixels makes a {size[1]}x{size[0]} image "
                          f"({size[0] * size[1] / 1e6:.0f} MP), over the limit of {DEFAULT_MAX_PIXELS / 1e6:g} MP; "
                          "choose a smaller --size")
    return size


def resize_long_side_array(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """(C, H, W) float32 -> (C, H', W') with max(H', W') == ``long_side``: bicubic, antialiased when shrinking
    (PIL's filter, which :func:`stylefuse.image.ops.resize` matches to about 1e-5 when shrinking), clipped to
    [0, 1]."""
    height, width = rgb.shape[-2:]
    size = size_for_long_side(height, width, long_side)
    if size == (height, width):
        return rgb
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
                           .resize((size[1], size[0]), Image.Resampling.BICUBIC)) for plane in rgb]
    return np.clip(np.stack(channels), 0, 1).astype(np.float32)


def ensure_not_input(output: Path, inputs: list[Path], overwrite_input: bool = False) -> None:
    """Refuse to write over one of the input files unless the user said so."""
    if overwrite_input or not output.exists():
        return
    for source in inputs:
        if source.exists() and output.samefile(source):
            raise ImageWriteError(f"refusing to overwrite the input {source}; choose another -o or pass "
                                  "--overwrite-input")


def list_image_files(folder: Path) -> list[Path]:
    """Every regular, non-hidden file directly inside ``folder`` with an image extension (or none), sorted
    by name. Other files (``readme.txt``, ``.json`` side-cars) are not images and are left out; a file named
    like an image that cannot be read fails later with a clear message that the caller reports."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and (p.suffix.lower() in READ_SUFFIXES or not p.suffix))
