"""Checks and records of training recipes (the options dataclass of a trainable method).

Every check raises :class:`~stylefuse.errors.OptionError` with one line that names the option as the user
gives it on the command line (``--size``, ``--batch-size``, ``--set lambda_cycle=...``), so recipes check
themselves when they are built (in ``__post_init__``), before any data is read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

from stylefuse.errors import OptionError

CLI_FLAGS = frozenset({"size", "batch_size", "gan_loss", "diff_augment", "r1", "spectral_norm", "level", "steps",
                       "lr", "seed", "device", "checkpoint_every", "sample_every", "validate_every", "patience"})
"""Recipe and option fields that ``stylefuse train`` takes as flags of their own; others go through ``--set``."""


def option_name(field: str) -> str:
    """How the user sets ``field``: ``--batch-size`` for a flag, ``--set lambda_cycle`` otherwise."""
    return f"--{field.replace('_', '-')}" if field in CLI_FLAGS else f"--set {field}"


def option_value(field: str, value: Any) -> str:
    """``field`` and ``value`` as the user writes them: ``--size 50``, ``--set lambda_cycle=-1``."""
    return f"{option_name(field)} {value}" if field in CLI_FLAGS else f"--set {field}={value}"


def check_at_least(field: str, value: float, minimum: float, strict: bool = False) -> None:
    """Refuse ``value`` below ``minimum`` (or equal to it when ``strict``)."""
    if value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise OptionError(f"{option_value(field, value)}: must be {relation} {minimum:g}")


def check_choice(field: str, value: Any, choices: Iterable[Any]) -> None:
    """Refuse a ``value`` that is not one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise OptionError(f"{option_value(field, value)}: choose from {', '.join(map(str, choices))}")


@dataclass(frozen=True)
class SizeRule:
    """Which square crop sizes a network takes.

    Args:
        minimum: the smallest size in pixels.
        multiple: sizes must be multiples of this (the network's total stride).
        power_of_two: sizes must be powers of two (DCGAN's fixed up-sampling ladder).
    """

    minimum: int = 32
    multiple: int = 4
    power_of_two: bool = False

    def allows(self, size: int) -> bool:
        """Whether a ``size`` x ``size`` crop fits the network."""
        if size < self.minimum:
            return False
        if self.power_of_two:
            return size & (size - 1) == 0
        return size % self.multiple == 0

    def describe(self) -> str:
        """The allowed sizes in words, with examples."""
        if self.power_of_two:
            examples = [self.minimum * 2**k for k in range(4)]
            return f"a power of two from {self.minimum} up ({', '.join(map(str, examples))}, ...)"
        start = -(-self.minimum // self.multiple) * self.multiple
        examples = [start, start + self.multiple, 2 * start]
        return f"a multiple of {self.multiple} from {self.minimum} up (e.g. {', '.join(map(str, examples))})"


def check_size(size: int, rule: SizeRule, field: str = "size") -> None:
    """Refuse a crop size that the networks cannot take, saying which sizes they can."""
    if not isinstance(size, int) or isinstance(size, bool) or not rule.allows(size):
        raise OptionError(f"{option_value(field, size)}: the crop size must be {rule.describe()}")


def plain(value: Any) -> Any:
    """``value`` as JSON-like data (tuples become lists, dataclasses dicts, paths strings), comparable after
    a round trip through a checkpoint (``torch.load(weights_only=True)``) or ``config.json``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # paths and the like: what the user typed


_MISSING = object()


def field_defaults(recipe: Any) -> dict[str, Any]:
    """The default values of a recipe dataclass's fields, as :func:`plain` data ({} for anything else)."""
    if not dataclasses.is_dataclass(recipe):
        return {}
    return {f.name: plain(f.default if f.default_factory is dataclasses.MISSING else f.default_factory())
            for f in dataclasses.fields(recipe)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}


def first_difference(saved: dict[str, Any], current: dict[str, Any],
                     defaults: dict[str, Any] | None = None) -> tuple[str, Any, Any] | None:
    """The first key (in ``current``'s order, then ``saved``'s) whose values differ, as
    ``(key, saved value, current value)`` (a missing value is :data:`None`); None when they agree. A key
    ``saved`` lacks counts as its value in ``defaults`` (a field added since the save, at its default)."""
    defaults = defaults or {}
    for key in [*current, *(k for k in saved if k not in current)]:
        old, new = saved.get(key, defaults.get(key, _MISSING)), current.get(key, _MISSING)
        if old != new:
            return key, None if old is _MISSING else old, None if new is _MISSING else new
    return None
