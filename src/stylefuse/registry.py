"""One registry per kind of component (methods, training methods, networks, metrics): register, create, list.

A new method is one file in ``stylefuse/methods/`` with a ``@METHODS.register("name")`` decorator; nothing
else needs editing (the pattern of timm's ``_registry.py``). Names and one-line summaries are read from the
package's source files without importing them (their ``register`` decorators are data for :mod:`ast`), so
listing what exists costs no PyTorch import; a module is imported the first time one of its names is used.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from stylefuse.errors import OptionError

T = TypeVar("T")


@dataclass(frozen=True)
class Declared:
    """A name found in the source: the module that registers it and the first docstring line."""

    module: str
    summary: str
    hidden: bool = False


class Registry:
    """Maps names to classes or factory functions.

    Args:
        kind: what is registered, used in error messages ("method", "metric", ...).
        package: dotted package whose modules declare entries with ``@<variable>.register("name")``.
        variable: the module-level name this registry is bound to (``METHODS``), which the source scan
            looks for in decorators.
    """

    def __init__(self, kind: str, package: str | None = None, variable: str = "") -> None:
        self.kind = kind
        self.package = package
        self.variable = variable
        self._entries: dict[str, Any] = {}
        self._hidden: set[str] = set()
        self._declared: dict[str, Declared] | None = None

    def register(self, name: str, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Decorator that registers a class or function under ``name`` (and under each of ``aliases``,
        older names that still resolve but are not listed)."""

        def decorate(obj: T) -> T:
            for key in (name, *aliases):
                if key in self._entries and self._entries[key] is not obj:
                    raise ValueError(f"{self.kind} {key!r} is registered twice")
                self._entries[key] = obj
            self._hidden.update(aliases)
            return obj

        return decorate

    def declared(self) -> dict[str, Declared]:
        """Every name the package's modules register, read from their source (no import)."""
        if self._declared is None:
            self._declared = {} if self.package is None else _scan_package(self.package, self.variable)
        return self._declared

    def names(self) -> list[str]:
        """All listed names (declared in the package or registered at run time), sorted; aliases excluded."""
        declared = {name for name, entry in self.declared().items() if not entry.hidden}
        return sorted(declared | (set(self._entries) - self._hidden))

    def summary(self, name: str) -> str:
        """The first line of the entry's docstring, without importing its module when it is declared."""
        if name in self.declared():
            return self.declared()[name].summary
        return _first_line(self.get(name).__doc__)

    def get(self, name: str) -> Any:
        """The registered object, importing the module that declares it; an :class:`OptionError`
        listing the known names otherwise."""
        if name not in self._entries and name in self.declared():
            importlib.import_module(self.declared()[name].module)
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise OptionError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def create(self, name: str, **kwargs: Any) -> Any:
        """Instantiate the object registered under ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


def _scan_package(package: str, variable: str) -> dict[str, Declared]:
    """{name: Declared} for every ``@<variable>.register("name", aliases=(...))`` in the package's modules."""
    spec = importlib.util.find_spec(package)
    found: dict[str, Declared] = {}
    for folder in spec.submodule_search_locations or []:
        for path in sorted(Path(folder).glob("*.py")):
            if path.name.startswith("_"):
                continue
            source = path.read_text(encoding="utf-8")
            if f"@{variable}.register(" not in source:  # most modules register nothing: skip parsing them
                continue
            module = f"{package}.{path.stem}"
            for node in ast.parse(source).body:  # registered classes and functions are top-level
                if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                    for decorator in node.decorator_list:
                        for name, hidden in _registered_names(decorator, variable):
                            found[name] = Declared(module, _first_line(ast.get_docstring(node)), hidden)
    return found


def _registered_names(decorator: ast.expr, variable: str) -> list[tuple[str, bool]]:
    """[(name, is_alias)] of a ``VARIABLE.register("name", aliases=("old",))`` decorator, else []."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "register" and isinstance(decorator.func.value, ast.Name)
            and decorator.func.value.id == variable and decorator.args
            and isinstance(decorator.args[0], ast.Constant)):
        return []
    names = [(decorator.args[0].value, False)]
    for keyword in decorator.keywords:
        if keyword.arg == "aliases" and isinstance(keyword.value, (ast.Tuple, ast.List)):
            names += [(item.value, True) for item in keyword.value.elts if isinstance(item, ast.Constant)]
    return names


METHODS = Registry("method", "stylefuse.methods", "METHODS")
"""Stylizers: ``stylefuse stylize --method NAME``, and what a model folder's recorded ``method`` loads with."""
NETWORKS = Registry("network", "stylefuse.nn", "NETWORKS")
TRAINABLE = Registry("training method", "stylefuse.methods", "TRAINABLE")
"""Training tasks: ``stylefuse train NAME``."""
METRICS = Registry("metric", "stylefuse.metrics", "METRICS")
