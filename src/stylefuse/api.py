"""The Python API: ``stylefuse.stylize(content, style, method=None, **options) -> PIL.Image``.

The CLI calls the same functions, so both resolve styles, weights and methods the same way.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import torch
from PIL import Image

from stylefuse.builtin import builtin_takes_paintings
from stylefuse.errors import OptionError
from stylefuse.image import ops
from stylefuse.image.io import DEFAULT_MAX_PIXELS, Picture, as_picture, to_pil
from stylefuse.methods._base import NO_STYLE, STYLE_IMAGES, STYLE_NAMES, Stylizer, check_options, option_defaults
from stylefuse.registry import METHODS
from stylefuse.styles import StyleSpec, is_style_name, parse_style_argument, split_style_list


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


STYLE_MIXED = "mixed"
"""Styles that mix names and images (only a method that ``takes_style_images`` besides names takes them)."""
DEFAULT_METHODS = {STYLE_IMAGES: "fast", STYLE_NAMES: "fast", STYLE_MIXED: "fast"}
"""The method used when none is given, by what the styles are: images, built-in style names, or both. Paintings
go to the fast network's style predictor, closer to the painting than adain on held-out paintings and faster
(README, "Measured"); to ``gatys`` when the installation's built-in network has no predictor."""
MIXED_ERROR = ("mix either named styles or style images, not both (a name is a style of `stylefuse list`; an image "
               "is a path), or use --method fast, which predicts a painting's style")


def style_kind(specs: list[StyleSpec]) -> str:
    """STYLE_NAMES when every style is a name, STYLE_IMAGES when every style is an image (or none is
    given), STYLE_MIXED for both."""
    names = [is_style_name(spec.image) for spec in specs]
    if names and all(names):
        return STYLE_NAMES
    return STYLE_MIXED if any(names) else STYLE_IMAGES


def create_method(name: str, wiring: Mapping[str, Any] | None = None, **options: Any) -> Stylizer:
    """Instantiate a registered method; an option it does not take is a one-line :class:`OptionError`.

    Args:
        wiring: front-end settings (``progress``, ``device``) passed only where the method accepts them.
    """
    cls = METHODS.get(name)
    check_options(cls, name, options)
    return cls(**options, **accepted_wiring(cls, wiring))


def accepted_wiring(cls: type, wiring: Mapping[str, Any] | None) -> dict[str, Any]:
    """The front-end settings (``progress``, ``device``, ``backend``) that ``cls``'s constructor takes."""
    accepted = inspect.signature(cls.__init__).parameters
    return {key: value for key, value in (wiring or {}).items() if key in accepted}


def method_for(specs: list[StyleSpec], method: str | None = None, model: Any = None) -> str:
    """The method that will run: ``method`` when given, else the one ``model``'s folder records, else
    the default for the kind of styles given (:data:`DEFAULT_METHODS`)."""
    if model is not None:
        from stylefuse import hub

        return hub.method_of(model, method)
    if method:
        return method
    kind = style_kind(specs)
    if kind == STYLE_IMAGES and not (specs and builtin_takes_paintings()):
        return "gatys"
    return DEFAULT_METHODS[kind]


@dataclass
class Job:
    """A stylizer with its styles, ready to run on any number of pictures.

    ``blend`` is the style strength applied by blending with the content, for stylizers that do not apply it
    themselves (:attr:`~stylefuse.methods._base.Stylizer.native_strength`; None: no blend).
    """

    stylizer: Stylizer
    styles: list[Any]
    weights: list[float]
    blend: float | None = None
    preserve_color: bool = False

    def run(self, content: Picture) -> Picture:
        """Stylize a decoded picture; its alpha is resized and carried over to the result."""
        rgb = self.stylizer.stylize(content.rgb, self.styles, self.weights)
        photo = content.rgb if content.rgb.shape == rgb.shape else ops.resize(content.rgb, tuple(rgb.shape[-2:]))
        if self.blend is not None and self.blend < 1.0:
            rgb = (self.blend * rgb + (1 - self.blend) * photo).clamp(0, 1)
        if self.preserve_color:
            rgb = ops.preserve_color(rgb, photo)
        alpha = None if content.alpha is None else ops.resize(content.alpha, tuple(rgb.shape[-2:])).clamp(0, 1)
        return Picture(rgb=rgb, alpha=alpha, bit_depth=8, source=None)


def prepare(style: Any = None, method: str | None = None, model: Any = None, strength: float | None = None,
            preserve_color: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS,
            wiring: Mapping[str, Any] | None = None, regions: Any = None, stylizers: Any = None,
            **options: Any) -> Job:
    """Resolve styles, method or model folder and options into a :class:`Job` (see :func:`stylize`); with
    ``regions``, or ``masks`` for a method that has none of its own, a region job
    (:class:`stylefuse.fusion.regions.RegionJob`) that runs like one.

    Args:
        stylizers: a cache of loaded stylizers kept across calls (a server's), with ``get(key, build)`` returning
            the stylizer stored under ``key`` or storing ``build()``'s; the key is made of the method, model,
            options and wiring (region jobs do not use it).
    """
    if isinstance(style, str):
        style = split_style_list(style)
    empty = style is None or (isinstance(style, (list, tuple)) and not style)
    specs = [] if empty else normalize_styles(style)
    if strength is not None and not 0.0 <= strength <= 1.0:
        raise OptionError(f"strength must be between 0 and 1, got {strength}")
    if regions is not None or options.get("masks"):
        from stylefuse.fusion.regions import is_model_folder, prepare_regions, uses_regions

        folders = any(is_model_folder(spec.image) for spec in specs)  # models per region: no method of their own
        if uses_regions(None if folders else method_for(specs, method, model), options.get("masks"), regions):
            masks = options.pop("masks", None)
            return prepare_regions(specs, method, model, masks, regions, wiring, strength=strength,
                                   preserve_color=preserve_color, max_pixels=max_pixels, **options)
    kind = style_kind(specs)
    chosen = method_for(specs, method, model)
    stylizer_class = METHODS.get(chosen)
    if method is None and model is None and kind == STYLE_IMAGES:
        _refuse_gatys_options(chosen, stylizer_class, options)
    method = chosen
    if strength is not None and "strength" in option_defaults(stylizer_class):
        options["strength"] = strength
    def build() -> Stylizer:
        if model is not None:
            from stylefuse import hub

            return hub.load(model, method, **options, **accepted_wiring(stylizer_class, wiring))
        return create_method(method, wiring, **options)

    key = _stylizer_key(method, model, options, accepted_wiring(stylizer_class, wiring))
    stylizer = build() if stylizers is None or key is None else stylizers.get(key, build)
    styles, weights = _style_inputs(stylizer, specs, kind, max_pixels)
    return Job(stylizer, styles, weights, None if stylizer.native_strength else strength, preserve_color)


def _refuse_gatys_options(method: str, stylizer_class: type, options: Mapping[str, Any]) -> None:
    """Options only Gatys takes, given without --method for a painting, name the fix: fast is the default."""
    unknown = sorted(set(options) - set(option_defaults(stylizer_class)))
    if method != "gatys" and unknown and set(unknown) <= set(option_defaults(METHODS.get("gatys"))):
        shown = ", ".join("--" + key.replace("_", "-") for key in unknown)
        raise OptionError(f"{shown}: gatys options, but a painting runs with {method} unless you add --method gatys")


_PLAIN = (str, int, float, bool, type(None), os.PathLike)


def _stylizer_key(method: str, model: Any, options: Mapping[str, Any], wiring: Mapping[str, Any]) -> str | None:
    """What identifies a stylizer in a cache of :func:`prepare`: its method, model and settings; None when a
    setting is not plain data (an image, an array), which a text would not tell apart."""
    if not all(_plain(value) for value in (model, *options.values(), *wiring.values())):
        return None
    return repr((method, None if model is None else str(model), sorted(options.items()), sorted(wiring.items())))


def _plain(value: Any) -> bool:
    return isinstance(value, _PLAIN) or (isinstance(value, (list, tuple)) and all(_plain(item) for item in value))


def _style_inputs(stylizer: Stylizer, specs: list[StyleSpec], kind: str,
                  max_pixels: int) -> tuple[list[Any], list[float]]:
    """The styles in the form the stylizer takes: decoded images, names, or nothing."""
    if stylizer.style_input == NO_STYLE:
        if specs:
            raise OptionError("this model has its style built in; drop --style")
        return [], []
    if not specs:
        pairs = stylizer.default_styles()
        if not pairs:
            raise OptionError("give at least one --style image or built-in style name (or a trained --model folder)")
        return [name for name, _ in pairs], [weight for _, weight in pairs]
    both = stylizer.style_input == STYLE_NAMES and stylizer.takes_style_images
    if kind != stylizer.style_input and not both:
        if kind == STYLE_MIXED:
            raise OptionError(MIXED_ERROR)
        wanted = "style images (paths)" if stylizer.style_input == STYLE_IMAGES else "names of its styles"
        raise OptionError(f"{type(stylizer).__name__} takes {wanted}, not {specs[0].image!r}")
    weights = [spec.weight for spec in specs]
    return [spec.image if is_style_name(spec.image) else as_picture(spec.image, max_pixels).rgb
            for spec in specs], weights


def stylize(content: Any, style: Any = None, method: str | None = None, *, model: Any = None,
            strength: float | None = None, preserve_color: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS,
            regions: Any = None, **options: Any) -> Image.Image:
    """Stylize an image.

    Args:
        content: path, PIL image, array (H, W[, C]) or tensor (3, H, W).
        style: one style image, a list of them, ``(image, weight)`` pairs, ``"path:weight"`` strings,
            or a mapping ``{image: weight}``; several styles are blended by weight. Names of built-in
            styles (``"starry-night"``, ``"starry-night:0.6,the-scream:0.4"``) use the fast built-in
            model. None: the style of a one-style ``model``.
        method: a registered method name (``stylefuse.METHODS.names()``); None: ``gatys`` for images,
            ``fast`` for style names or names mixed with paintings (the fast network predicts a painting's
            tables), the recorded method of ``model``.
        model: a trained model folder (any kind :func:`stylefuse.hub.load` reads).
        strength: style strength 0..1 for every method (methods without their own blend the result with
            the content).
        regions: one style per region: ``"auto:K"`` (K regions found by colour, darkest first), or a label
            image (one style per distinct grey level, in increasing order); or pass ``masks=[...]`` (one per
            style, or one fewer), for any method. A style may be a model folder, which then runs its region.
        preserve_color: keep the content's colours, take only the stylized luminance.
        max_pixels: refuse input images larger than this.
        **options: the method's own options, e.g. ``size=384, steps=50`` for ``gatys``.

    Returns:
        The stylized image (RGBA when the content has transparency).

    Example:
        >>> import stylefuse
        >>> stylefuse.stylize("photo.jpg", "painting.jpg", size=256).save("out.png")  # doctest: +SKIP
        >>> stylefuse.stylize("photo.jpg", "starry-night:0.7,the-scream:0.3").save("out.png")  # doctest: +SKIP
    """
    job = prepare(style, method, model, strength, preserve_color, max_pixels, regions=regions, **options)
    result = job.run(as_picture(content, max_pixels))
    return to_pil(result.rgb, result.alpha)


def set_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads for PyTorch (None leaves PyTorch's default)."""
    if threads is not None:
        if threads < 1:
            raise OptionError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)


def method_summaries() -> Iterable[tuple[str, str]]:
    """(name, first line of the docstring) for every registered method, without importing them."""
    for name in METHODS.names():
        yield name, METHODS.summary(name)
