"""The command lines the instant path runs (:mod:`stylefuse.frontends.instant`), recognised before anything heavy
is imported: this module imports nothing but the standard library, so ``stylefuse list`` and ``--help`` stay
cheap."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

_VALUED = {"--style": "styles", "-s": "styles", "--output": "output", "-o": "output", "--strength": "strength",
           "--threads": "threads", "--max-pixels": "max_pixels", "--method": "method", "--device": "device"}
_SWITCHES = {"--quiet": "quiet", "-q": "quiet", "--overwrite-input": "overwrite_input"}


@dataclass
class InstantRequest:
    """The options of a ``stylize`` command line that the instant path can run (see :func:`parse_instant`)."""

    content: Path
    styles: list[str] = field(default_factory=list)
    output: Path | None = None
    strength: float | None = None
    threads: int | None = None
    max_pixels: int | None = None
    overwrite_input: bool = False
    method: str | None = None


def parse_instant(argv: Sequence[str]) -> InstantRequest | None:
    """``stylize CONTENT --style NAME[:W] ... [-o OUT] [--strength S] [--threads N] [--max-pixels N] [-q]
    [--overwrite-input] [--method fast] [--device auto|cpu]`` as an :class:`InstantRequest`; None for any
    other command line, any other option or form, or a value out of range (the full parser then runs and
    reports it). Building the full parser costs more than stylizing a photo: typer makes a validator for
    each of the command's options."""
    if not argv or argv[0] != "stylize":
        return None
    values: dict[str, list[str]] = {}
    switches: set[str] = set()
    positional: list[str] = []
    tokens = list(argv[1:])
    while tokens:
        token = tokens.pop(0)
        name, equals, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if name in _VALUED:
            if not equals:
                if not tokens:
                    return None
                value = tokens.pop(0)
            values.setdefault(_VALUED[name], []).append(value)
        elif token in _SWITCHES:
            switches.add(_SWITCHES[token])
        elif token.startswith("-"):
            return None
        else:
            positional.append(token)
    return _request(positional, values, switches)


def _request(positional: list[str], values: dict[str, list[str]], switches: set[str]) -> InstantRequest | None:
    """The checked :class:`InstantRequest` of parsed tokens, or None (see :func:`parse_instant`)."""
    single = {key: items[-1] for key, items in values.items() if key != "styles"}
    if len(positional) != 1 or any(len(items) > 1 for key, items in values.items() if key != "styles"):
        return None
    if single.get("method", "fast") != "fast" or single.get("device", "auto") not in ("auto", "cpu"):
        return None
    try:
        strength = float(single["strength"]) if "strength" in single else None
        threads = int(single["threads"]) if "threads" in single else None
        max_pixels = int(single["max_pixels"]) if "max_pixels" in single else None
    except ValueError:
        return None
    if (strength is not None and not 0.0 <= strength <= 1.0) or (threads is not None and threads < 1) \
            or (max_pixels is not None and max_pixels < 1):
        return None
    output = Path(single["output"]) if "output" in single else None
    return InstantRequest(Path(positional[0]), values.get("styles", []), output, strength, threads, max_pixels,
                          "overwrite_input" in switches, single.get("method"))
