"""One registry per kind of component (methods, networks, metrics): register, create, list.

A new method is one file in ``stylefuse/methods/`` with a ``@METHODS.register("name")`` decorator;
the registry imports every module of its package the first time it is asked for a name, so nothing
else needs editing (the pattern of timm's ``_registry.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable, TypeVar

from stylefuse.errors import OptionError

T = TypeVar("T")


class Registry:
    """Maps names to classes or factory functions.

    Args:
        kind: what is registered, used in error messages ("method", "metric", ...).
        package: dotted package whose modules are imported on first look-up, so that their
            ``register`` decorators run.
    """

    def __init__(self, kind: str, package: str | None = None) -> None:
        self.kind = kind
        self.package = package
        self._entries: dict[str, Any] = {}
        self._discovered = package is None

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers a class or function under ``name``."""

        def decorate(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorate

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self.package}.{module.name}")

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._discover()
        return sorted(self._entries)

    def get(self, name: str) -> Any:
        """The registered object; an :class:`OptionError` listing the known names otherwise."""
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise OptionError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def create(self, name: str, **kwargs: Any) -> Any:
        """Instantiate the object registered under ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)


METHODS = Registry("method", "stylefuse.methods")
NETWORKS = Registry("network", "stylefuse.nn")
TRAINABLE = Registry("training method", "stylefuse.methods")
METRICS = Registry("metric", "stylefuse.metrics")
