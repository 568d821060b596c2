"""The web form's raw values, checked on the server, into a :class:`~stylefuse.frontends.web.Request`.

The page runs its event with Gradio's preprocessing off, so nothing a client sends is decoded before these
checks: an uploaded image arrives as Gradio's file record (a dict with the ``path`` of the stored upload), and
sliders, dropdowns and checkboxes as whatever JSON the client sent. The limits of
:class:`~stylefuse.frontends.web.ServeLimits` hold here, whatever the page or a script calling the API sends:
an upload must lie in the app's upload folder and be at most ``max_upload_bytes``; its pixel count is checked
from the header before decoding (:func:`stylefuse.image.io.read_image`); style names cannot name files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from stylefuse.errors import ImageReadError, OptionError
from stylefuse.frontends.web import REGION_MODES, Request, ServeLimits


def upload_path(payload: Any, what: str, folder: str | Path) -> Path | None:
    """The stored file of an upload, resolved, or None when nothing was uploaded.

    Args:
        payload: Gradio's file record (``{"path": ..., ...}``), a path string, or None.
        what: "photo" or "painting", for the message.
        folder: the app's upload folder; a path outside it (``..``, absolute, a symlink out) is refused.
    """
    if payload is None:
        return None
    path = payload.get("path") if isinstance(payload, dict) else payload
    if not isinstance(path, (str, Path)) or not str(path) or "\0" in str(path):
        raise OptionError(f"the {what} is not an uploaded file: upload an image")
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(Path(folder).resolve()):
        raise OptionError(f"the {what} was not uploaded to this app: upload an image")
    return resolved


def read_upload(payload: Any, what: str, limits: ServeLimits, folder: str | Path) -> np.ndarray | None:
    """Decode an upload within ``limits`` into (H, W, 3) uint8, or None when nothing was uploaded.

    Raises:
        OptionError: the path is outside ``folder``, or the file is larger than ``limits.max_upload_bytes``.
        ImageReadError: not an image, damaged, or more than ``limits.max_pixels`` (checked before decoding).
    """
    from stylefuse.image.io import quantize, read_image

    path = upload_path(payload, what, folder)
    if path is None:
        return None
    if not path.is_file():
        raise OptionError(f"the {what} upload is gone: upload it again")
    size = path.stat().st_size
    if size > limits.max_upload_bytes:
        raise OptionError(f"the {what} is {size / 1e6:.1f} MB; this app takes files of at most "
                          f"{limits.max_upload_bytes / 1e6:g} MB")
    try:
        picture = read_image(path, limits.max_pixels)
    except ImageReadError as exc:  # the message names the stored file: name what the user gave instead
        raise ImageReadError(str(exc).replace(f"cannot read {path}", f"cannot read the {what}")) from None
    return quantize(picture.rgb.permute(1, 2, 0))


def style_name(value: Any) -> str | None:
    """A built-in or model style name from the form (None for none); a path or a file name is refused, so a
    request cannot make the server read its files."""
    from stylefuse.api import is_style_name

    if value is None or value == "":
        return None
    if not isinstance(value, str) or "\0" in value or not is_style_name(value):
        raise OptionError(f"{str(value)[:80]!r} is not a style name: pick a style from the list")
    return value


def number(value: Any, name: str) -> float:
    """A finite number from a slider."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(result):
        raise OptionError(f"{name} must be a finite number, got {value!r}")
    return result


def form_request(limits: ServeLimits, folder: str | Path, photo: Any, method: Any, style_a: Any, style_b: Any,
                 painting_a: Any, painting_b: Any, blend: Any, strength: Any, keep_colors: Any,
                 steps: Any, regions: Any = REGION_MODES[0], mask: Any = None) -> Request:
    """The :class:`Request` of one submission of the form (the page's inputs, in its order), checked; the
    controls added last (regions, mask) may be left out by older API calls."""
    if not isinstance(method, str):
        raise OptionError("pick a method from the list")
    if not isinstance(keep_colors, bool):
        raise OptionError("keep colours must be true or false")
    if regions not in REGION_MODES:
        raise OptionError(f"unknown regions {regions!r}; choose from {', '.join(REGION_MODES)}")
    count = number(steps, "steps")
    if count != int(count):
        raise OptionError(f"steps must be a whole number, got {steps!r}")
    return Request(read_upload(photo, "photo", limits, folder), method, (style_name(style_a), style_name(style_b)),
                   (read_upload(painting_a, "painting", limits, folder),
                    read_upload(painting_b, "second painting", limits, folder)),
                   number(blend, "blend"), number(strength, "strength"), keep_colors, int(count), regions,
                   read_upload(mask, "mask", limits, folder))
