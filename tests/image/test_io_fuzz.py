"""Fuzzed image files: ``read_image`` returns a valid picture or raises ImageReadError, never anything else,
prints nothing, and refuses pixel bombs before decoding (the full run is ``benchmarks/fuzz.py``)."""

from __future__ import annotations

import gc
import io
import struct
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from PIL import Image, ImageFile

from stylefuse.errors import ImageReadError
from stylefuse.image.io import read_image
from tests import fuzzing


@fuzzing.short_run(300)
@given(fuzzing.fuzzed_files())
def test_read_image_returns_a_picture_or_refuses(item) -> None:
    suffix, data = item
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed{suffix}"
        path.write_bytes(data)
        fuzzing.check_read(path)


def test_every_seed_is_read(tmp_path) -> None:
    for index, (suffix, data) in enumerate(fuzzing.seed_files()):
        path = tmp_path / f"{index}{suffix}"
        path.write_bytes(data)
        assert fuzzing.check_read(path) == "processed", path


@pytest.mark.parametrize("orientation", sorted(fuzzing.ORIENTATIONS))
def test_exif_orientation(orientation, tmp_path) -> None:
    path = tmp_path / "oriented.jpg"
    path.write_bytes(fuzzing.encode(fuzzing.picture("RGB"), "JPEG", orientation))
    transposed = orientation in ("5", "6", "7", "8", "two")  # quarter turns swap the sides; "two" is 6, 8
    assert read_image(path).size == (fuzzing.SIDE[::-1] if transposed else fuzzing.SIDE)  # invalid: no change


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, fail the test if any pixel data is decoded."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)


@pytest.mark.parametrize("make", [fuzzing.huge_png, fuzzing.huge_gif, fuzzing.huge_bmp, fuzzing.huge_jpeg])
def test_pixel_bombs_are_refused_before_decoding(make, tmp_path, monkeypatch) -> None:
    side = 65_000 if make in (fuzzing.huge_gif, fuzzing.huge_jpeg) else 1_000_000  # 16-bit size fields
    path = tmp_path / "bomb.img"
    path.write_bytes(make(side, side))
    forbid_decoding(monkeypatch)
    with pytest.raises(ImageReadError, match="over the limit|corrupt|not an image"):
        read_image(path)


def test_the_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch) -> None:
    path = tmp_path / "small.png"
    path.write_bytes(fuzzing.encode(fuzzing.picture("RGB"), "PNG"))
    forbid_decoding(monkeypatch)
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(path, max_pixels=fuzzing.SIDE[0] * fuzzing.SIDE[1] - 1)


@pytest.mark.parametrize("make", [fuzzing.huge_png, fuzzing.huge_gif, fuzzing.huge_bmp])
def test_zero_size(make, tmp_path) -> None:
    """A header declaring no pixels is refused, or (GIF) the first frame's own size is used."""
    path = tmp_path / "empty.img"
    path.write_bytes(make(0, 5))
    assert fuzzing.check_read(path) == ("processed" if make is fuzzing.huge_gif else "refused")


def test_failed_reads_close_their_files(tmp_path) -> None:
    """Regression: pypng's reader and PIL's TIFF decoder left the file open when decoding failed."""
    tiff = bytearray(fuzzing.encode(fuzzing.picture("RGB"), "TIFF"))
    entry = tiff.index(struct.pack("<HHI", 277, 3, 1))  # SamplesPerPixel: a count no TIFF decoder takes
    tiff[entry + 8:entry + 10] = struct.pack("<H", 2048)
    cases = {"16bit.png": fuzzing.png16(*fuzzing.SIDE)[:60], "samples.tif": bytes(tiff)}  # PIL's own TIFF path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for name, data in cases.items():
            (tmp_path / name).write_bytes(data)
            with pytest.raises(ImageReadError):
                read_image(tmp_path / name)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_damaged_metadata_prints_nothing(tmp_path, capfd) -> None:
    """Regression: PIL's warnings (corrupt EXIF) and log records (a TIFF with 2048 samples per pixel) reached
    stderr beside the one-line error."""
    buffer = io.BytesIO()
    fuzzing.picture("RGB").save(buffer, "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01")
    (tmp_path / "exif.jpg").write_bytes(buffer.getvalue())
    tiff = bytearray(fuzzing.encode(fuzzing.picture("RGB"), "TIFF"))
    entry = tiff.index(struct.pack("<HHI", 277, 3, 1))  # SamplesPerPixel, SHORT, one value
    tiff[entry + 8:entry + 10] = struct.pack("<H", 2048)
    (tmp_path / "samples.tif").write_bytes(bytes(tiff))
    assert fuzzing.check_read(tmp_path / "exif.jpg") == "processed"
    assert fuzzing.check_read(tmp_path / "samples.tif") == "refused"
    assert capfd.readouterr().err == ""


def test_a_tiff_tag_of_the_wrong_type_is_refused(tmp_path) -> None:
    """Regression (found by benchmarks/fuzz.py): strip offsets stored as a RATIONAL made PIL raise TypeError."""
    tiff = bytearray(fuzzing.encode(fuzzing.picture("RGB"), "TIFF"))
    entry = tiff.index(struct.pack("<HHI", 273, 4, 1))  # StripOffsets, LONG, one value
    tiff[entry + 2:entry + 4] = struct.pack("<H", 5)  # RATIONAL
    (tmp_path / "rational.tif").write_bytes(bytes(tiff))
    assert fuzzing.check_read(tmp_path / "rational.tif") == "refused"


def test_a_png_chunk_longer_than_the_file_is_refused_before_anything_is_allocated(tmp_path) -> None:
    data = bytearray(fuzzing.encode(fuzzing.picture("L"), "PNG"))
    data[33:37] = (3_209_166_876).to_bytes(4, "big")  # IDAT's length: PIL read() it whole (MemoryError under a cap)
    path = tmp_path / "flipped.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="chunk declares 3209166876 bytes, more than the file holds"):
        read_image(path)
    for mode in ("RGB", "RGBA", "P", "I;16"):  # valid PNGs still read
        path.write_bytes(fuzzing.encode(fuzzing.picture(mode), "PNG"))
        assert fuzzing.check_read(path) == "processed"
