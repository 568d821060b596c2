"""The one interface every stylization method implements, and the typed options it takes."""

from __future__ import annotations

import collections.abc
import inspect
import json
import os
import types
import typing
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Sequence

import torch

from stylefuse.errors import OptionError

STYLE_IMAGES, STYLE_NAMES, NO_STYLE = "images", "names", "none"
"""What a stylizer's ``styles`` are: images (3, h, w), names of its own styles, or nothing (a generator)."""


class Stylizer(ABC):
    """A style transfer method: content image + styles -> stylized image.

    Subclasses are registered with ``@METHODS.register("name")``. Their constructor arguments are their
    options (``stylefuse stylize --method name --set KEY=VALUE``; see :func:`option_defaults`). A stylizer
    whose :attr:`native_strength` is true applies the style strength itself; for the others the result is
    blended with the content (:class:`stylefuse.api.Job`). Trained methods build themselves from a model folder
    with :meth:`from_folder`, which :func:`stylefuse.hub.load` calls for the ``method`` in its config.
    """

    style_input: str = STYLE_IMAGES
    """STYLE_IMAGES, STYLE_NAMES or NO_STYLE: what :meth:`stylize` expects as ``styles``."""
    takes_style_images: bool = False
    """With ``style_input`` STYLE_NAMES: also takes style images (3, h, w), alone or mixed with names."""
    interrupted: bool = False
    """Set when Ctrl-C stopped the work early and the result is the best so far."""

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> Stylizer:
        """The stylizer of a model folder (``document`` is its parsed config.json)."""
        raise OptionError(f"{folder} holds a {document.get('method')} model (network {document.get('network')!r}), "
                          f"which {cls.__name__} cannot load")

    @property
    def native_strength(self) -> bool:
        """True when this stylizer applies the style strength itself (its ``strength`` option); otherwise the
        front end blends its result with the content (:class:`stylefuse.api.Job`)."""
        return "strength" in option_defaults(type(self))

    def default_styles(self) -> list[tuple[Any, float]]:
        """The styles used when none are given (a one-style model's own style); none by default."""
        return []

    def export_graph(self) -> Any:
        """The feed-forward network behind this stylizer as a :class:`stylefuse.nn.export.ExportGraph`
        (``stylefuse export``); methods that optimise or decompose at run time cannot be exported."""
        raise OptionError(f"{type(self).__name__} runs no single feed-forward network and cannot be exported; "
                          "export a fast, generator (cyclegan, pix2pix, adversarial_style) or inverter model folder")

    def export_part(self, part: str) -> Any:
        """One named part of the network as an :class:`~stylefuse.nn.export.ExportGraph` (``stylefuse export
        --part``); only the fast network has parts."""
        raise OptionError(f"--part {part}: only a fast model folder has parts to export; leave --part out")

    @abstractmethod
    def stylize(self, content: torch.Tensor, styles: Sequence[Any],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Stylize ``content`` (3, H, W) in [0, 1] with ``styles`` (see :attr:`style_input`) blended by
        ``weights``; return (3, H', W') in [0, 1]."""


INTERNAL_OPTIONS = frozenset({"self", "progress", "callback", "cache", "device", "backend"})
"""Constructor arguments that are wiring, not user options (set by the front end, not by ``--set``)."""


def option_defaults(cls: type) -> dict[str, tuple[Any, Any]]:
    """{option: (default, annotation)} of a stylizer class, from its constructor's signature."""
    hints = typing.get_type_hints(cls.__init__)
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: (None if p.default is inspect.Parameter.empty else p.default, hints.get(p.name, Any))
            for p in parameters if p.name not in INTERNAL_OPTIONS
            and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)}


def check_options(cls: type, method: str, options: dict[str, Any]) -> None:
    """Refuse, on one line, options the method does not take (named as on the command line)."""
    known = option_defaults(cls)
    unknown = sorted(set(options) - set(known))
    if unknown:
        shown = ", ".join(key.replace("_", "-") for key in unknown)
        choices = ", ".join(sorted(known)) or "none"
        raise OptionError(f"method {method} does not take {shown} (its options: {choices})")


def parse_assignment(text: str, cls: type, method: str,
                     known: dict[str, tuple[Any, Any]] | None = None) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``--set``, typed by the option's annotation or default (JSON for lists).

    Args:
        known: {option: (default, annotation)}; default: the options of ``cls``'s constructor
            (:func:`option_defaults`), a training recipe passes its fields (:func:`recipe_defaults`).
    """
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    known = option_defaults(cls) if known is None else known
    if not sep or key not in known:
        raise OptionError(f"--set takes KEY=VALUE with KEY one of {', '.join(sorted(known))} for method {method}; "
                          f"got {text!r}")
    default, annotation = known[key]
    return key, convert_value(key, raw, default, annotation)


def recipe_defaults(recipe_class: type) -> dict[str, tuple[Any, Any]]:
    """{field: (default, annotation)} of a recipe dataclass (defaults from an instance, so that fields with a
    ``default_factory`` have theirs too)."""
    import dataclasses

    hints = typing.get_type_hints(recipe_class)
    instance = recipe_class()
    return {f.name: (getattr(instance, f.name), hints.get(f.name, Any)) for f in dataclasses.fields(recipe_class)}


def convert_value(key: str, raw: str, default: Any, annotation: Any) -> Any:
    """``raw`` converted to the type of an option: bool, int, float, str, a path or a JSON list."""
    kinds = _plain_types(annotation) or ({type(default)} if default is not None else {str})
    if raw.lower() in ("none", "null") and (default is None or type(None) in _union_args(annotation)):
        return None
    try:
        if bool in kinds:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1", "yes")
        if int in kinds and float not in kinds:
            return int(raw)
        if float in kinds:
            return float(raw)
        if kinds & {list, tuple}:
            value = json.loads(raw) if raw.startswith("[") else [item.strip() for item in raw.split(",")]
            if not isinstance(value, list):
                raise ValueError(raw)
            return value
    except (ValueError, json.JSONDecodeError):
        expected = "/".join(sorted(kind.__name__ for kind in kinds))
        raise OptionError(f"--set {key}: {raw!r} is not a valid {expected}") from None
    return Path(raw) if kinds & {Path, os.PathLike} else raw


def _union_args(annotation: Any) -> tuple[Any, ...]:
    """The members of ``X | Y`` or ``Optional[X]``; any other annotation alone."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _plain_types(annotation: Any) -> set[type]:
    """The concrete types an annotation allows (``int | None`` -> {int}; ``Sequence[str]`` -> {list})."""
    kinds = set()
    for arg in _union_args(annotation):
        origin = typing.get_origin(arg) or arg
        if origin in (list, tuple, collections.abc.Sequence):
            kinds.add(list)
        elif isinstance(origin, type) and origin is not type(None):
            kinds.add(origin)
    return kinds
