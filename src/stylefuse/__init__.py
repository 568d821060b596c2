"""stylefuse: image style transfer and GAN image translation for PyTorch, offline and CPU-first.

``import stylefuse`` is cheap: PyTorch, the methods and the weights load on first use.

    >>> import stylefuse
    >>> stylefuse.stylize("photo.jpg", "painting.jpg", size=256).save("out.png")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["stylize", "read_image", "write_image", "METHODS", "GatysStylizer", "MultiLayerEncoder", "__version__"]

_LAZY = {
    "stylize": "stylefuse.api",
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
