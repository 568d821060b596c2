"""stylefuse: image style transfer and GAN image translation for PyTorch, offline and CPU-first.

``import stylefuse`` is cheap: PyTorch, the methods and the weights load on first use.

    >>> import stylefuse
    >>> stylefuse.stylize("photo.jpg", "painting.jpg", size=256).save("out.png")  # doctest: +SKIP
    >>> stylefuse.load("models/cyc").stylize(photo, [])  # any model folder: a ready stylizer  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["stylize", "load", "fuse_models", "fuse_images", "restore", "read_image", "write_image", "METHODS",
           "TRAINABLE", "GatysStylizer", "MultiLayerEncoder", "__version__"]

_LAZY = {
    "stylize": "stylefuse.api",
    "load": "stylefuse.hub",
    "fuse_models": "stylefuse.fusion.models",
    "fuse_images": "stylefuse.fusion.images",
    "restore": "stylefuse.restoration",
    "TRAINABLE": "stylefuse.registry",
    "read_image": "stylefuse.image.io",
    "write_image": "stylefuse.image.io",
    "METHODS": "stylefuse.registry",
    "GatysStylizer": "stylefuse.methods.gatys",
    "MultiLayerEncoder": "stylefuse.encoders.vgg",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stylefuse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
