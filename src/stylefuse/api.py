"""The Python API: ``stylefuse.stylize(content, style, method=None, **options) -> PIL.Image``.

The CLI calls the same functions, so both resolve styles, weights and methods the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import torch
from PIL import Image

from stylefuse.errors import OptionError
from stylefuse.image import ops
from stylefuse.image.io import DEFAULT_MAX_PIXELS, Picture, as_picture, to_pil
from stylefuse.methods._base import Stylizer
from stylefuse.registry import METHODS

DEFAULT_METHOD = "gatys"


@dataclass
class StyleSpec:
    """One style: an image (path, PIL image, array or tensor) and its blending weight."""

    image: Any
    weight: float = 1.0


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")


def is_style_name(item: Any) -> bool:
    """True for a named style such as ``"starry-night"``: a string that is not an existing file and
    does not look like a path (no folder separator, no image extension)."""
    if not isinstance(item, str) or os.path.exists(item):
        return False
    return "/" not in item and os.sep not in item and not item.lower().endswith(IMAGE_SUFFIXES)


def split_style_list(text: str) -> list[str]:
    """Split ``"a:0.6,b:0.4"`` into its items; a text naming an existing file is kept whole."""
    if os.path.exists(text):
        return [text]
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_style_argument(text: str) -> StyleSpec:
    """Parse ``PATH[:WEIGHT]`` or ``NAME[:WEIGHT]`` as given on the command line; a colon that is not
    followed by a number belongs to the path."""
    head, sep, tail = text.rpartition(":")
    if sep and head:
        try:
            return StyleSpec(head, float(tail))
        except ValueError:
            pass
    return StyleSpec(text, 1.0)


def normalize_styles(style: Any) -> list[StyleSpec]:
    """Accept one style, a list of styles / ``StyleSpec`` / ``(image, weight)`` pairs, or a mapping
    ``{path: weight}``; strings may carry a ``:WEIGHT`` suffix. Checks the weights."""
    if isinstance(style, Mapping):
        specs = [StyleSpec(image, float(weight)) for image, weight in style.items()]
    elif isinstance(style, (list, tuple)) and not _is_pair(style):
        specs = [_one_spec(item) for item in style]
    else:
        specs = [_one_spec(style)]
    if not specs:
        raise OptionError("no style given; pass at least one style image")
    if any(spec.weight < 0 for spec in specs):
        raise OptionError("style weights must be >= 0")
    if sum(spec.weight for spec in specs) <= 0:
        raise OptionError("style weights are all zero; give at least one style a positive weight")
    return specs


def _is_pair(item: Any) -> bool:
    return (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (int, float))
            and not isinstance(item[0], (int, float)))


def _one_spec(item: Any) -> StyleSpec:
    if isinstance(item, StyleSpec):
        return item
    if _is_pair(item):
        return StyleSpec(item[0], float(item[1]))
    if isinstance(item, str) and not os.path.exists(item):
        return parse_style_argument(item)
    return StyleSpec(item, 1.0)


def choose_method(styles: list[StyleSpec]) -> str:
    """The best method available for these styles; today every style is an image, handled by Gatys."""
    return DEFAULT_METHOD


def create_method(name: str, **options: Any) -> Stylizer:
    """Instantiate a registered method; an unknown option is a one-line :class:`OptionError`."""
    cls = METHODS.get(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise OptionError(f"method {name!r} does not take these options ({exc})") from None


def run_method(method: Stylizer, content: Picture, styles: list[Picture], weights: list[float],
               preserve_color: bool = False) -> Picture:
    """Stylize a decoded picture; the content's alpha is resized and carried over to the result."""
    rgb = method.stylize(content.rgb, [s.rgb for s in styles], weights)
    if preserve_color:
        rgb = ops.preserve_color(rgb, content.rgb)
    alpha = None if content.alpha is None else ops.resize(content.alpha, tuple(rgb.shape[-2:]))
    return Picture(rgb=rgb, alpha=alpha, bit_depth=8, source=None)


def named_style_mix(specs: list[StyleSpec]) -> list[tuple[str, float]] | None:
    """``[(name, weight), ...]`` when every style is a name, None when every style is an image;
    mixing names and images is an error."""
    names = [is_style_name(spec.image) for spec in specs]
    if all(names):
        return [(spec.image, spec.weight) for spec in specs]
    if any(names):
        raise OptionError("mix either named styles or style images, not both (a name is a style of "
                          "`stylefuse list`; an image is a path)")
    return None


def stylize_named(content: Picture, mix: list[tuple[str, float]], model: Any = None, strength: float = 1.0,
                  preserve_color: bool = False, size: int | None = None) -> Picture:
    """Stylize a decoded picture with a mix of named styles of a multi-style model (None: built-in),
    at ``size`` pixels on the long side (None keeps the picture's size)."""
    from stylefuse.styles import BUILTIN_FOLDER, load_style_model

    if model is None and not (BUILTIN_FOLDER / "config.json").is_file():
        raise OptionError("this installation ships no built-in styles; give a style image or --model")
    if size is not None and size < 16:
        raise OptionError(f"size must be at least 16 pixels, got {size}")
    style_model = load_style_model(None if model is None else str(model))
    photo, alpha = content.rgb, content.alpha
    if size is not None:
        photo = ops.resize_long_side(photo, size).clamp(0, 1)
        alpha = None if alpha is None else ops.resize(alpha, tuple(photo.shape[-2:])).clamp(0, 1)
    rgb = style_model.stylize(photo, style_model.style_vector(mix), strength)
    if preserve_color:
        rgb = ops.preserve_color(rgb, photo)
    return Picture(rgb=rgb, alpha=alpha, bit_depth=8, source=None)


def stylize(content: Any, style: Any, method: str | None = None, *, preserve_color: bool = False,
            max_pixels: int = DEFAULT_MAX_PIXELS, strength: float = 1.0, model: Any = None,
            **options: Any) -> Image.Image:
    """Stylize an image.

    Args:
        content: path, PIL image, array (H, W[, C]) or tensor (3, H, W).
        style: one style image, a list of them, ``(image, weight)`` pairs, ``"path:weight"`` strings,
            or a mapping ``{image: weight}``; several styles are blended by weight. Names of built-in
            styles (``"starry-night"``, ``"starry-night:0.6,the-scream:0.4"``) use the fast built-in
            model (or the multi-style ``model`` folder given).
        method: a registered method name (``stylefuse.METHODS.names()``); None picks the best one
            available for the styles given.
        preserve_color: keep the content's colours, take only the stylized luminance.
        max_pixels: refuse input images larger than this.
        strength: named styles only: blend of the stylized result with the content, 0..1.
            Named styles take ``size`` (long side in pixels) as their only other option.
        model: named styles only: a multi-style model folder (default: the built-in one).
        **options: the method's own options, e.g. ``size=384, steps=50`` for ``gatys``.

    Returns:
        The stylized image (RGBA when the content has transparency).

    Example:
        >>> import stylefuse
        >>> stylefuse.stylize("photo.jpg", "painting.jpg", size=256).save("out.png")  # doctest: +SKIP
        >>> stylefuse.stylize("photo.jpg", "starry-night:0.7,the-scream:0.3").save("out.png")  # doctest: +SKIP
    """
    if isinstance(style, str):
        style = split_style_list(style)
    specs = normalize_styles(style)
    mix = named_style_mix(specs)
    if mix is not None:
        if method is not None or set(options) - {"size"}:
            raise OptionError("named styles use the fast multi-style model, which takes no method or options "
                              "besides size, strength and preserve_color")
        result = stylize_named(as_picture(content, max_pixels), mix, model, strength, preserve_color,
                               options.get("size"))
        return to_pil(result.rgb, result.alpha)
    name = method or choose_method(specs)
    stylizer = create_method(name, **options)
    picture = as_picture(content, max_pixels)
    styles = [as_picture(spec.image, max_pixels) for spec in specs]
    result = run_method(stylizer, picture, styles, [s.weight for s in specs], preserve_color)
    return to_pil(result.rgb, result.alpha)


def set_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads for PyTorch (None leaves PyTorch's default)."""
    if threads is not None:
        if threads < 1:
            raise OptionError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)


def method_summaries() -> Iterable[tuple[str, str]]:
    """(name, first line of the docstring) for every registered method."""
    for name in METHODS.names():
        doc = (METHODS.get(name).__doc__ or "").strip().splitlines()
        yield name, doc[0] if doc else ""
