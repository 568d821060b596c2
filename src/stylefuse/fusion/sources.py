"""Which paintings a model folder's styles come from: its ``style_sources``, one entry per named style (a file
name, a list of file names for a style learnt from several images, or None when unknown), or, for a folder
whose style is built in (a generator, a gate), the files of its one style. ``stylefuse eval`` runs a folder
on the paintings its sources name; personalised and fused folders record theirs so that it can.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable, Sequence

Entry = str | list[str] | None
"""What ``style_sources`` records for one style."""


def entry(paths: Sequence[Path]) -> Entry:
    """The ``style_sources`` entry of a style learnt from ``paths``: the file name, or the list of them."""
    names = [Path(path).name for path in paths]
    return names[0] if len(names) == 1 else names or None


def files_record(paths: Sequence[Path]) -> list[dict[str, str]]:
    """Where a style's images came from, to record beside ``style_sources``: each path as given and the
    sha256 (16 hex digits) of its bytes, so that a painting can be matched even after a rename."""
    return [{"path": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]}
            for path in paths]


def file_names(value: Entry) -> list[str]:
    """The file names of one entry (none for None)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [item for item in value if isinstance(item, str)]


def merge(entries: Iterable[Entry]) -> Entry:
    """One entry holding every file of ``entries`` (a style fused from several), in order, without repeats."""
    names = list(dict.fromkeys(name for value in entries for name in file_names(value)))
    return names[0] if len(names) == 1 else names or None


def aligned(document: dict[str, Any], count: int) -> list[Entry]:
    """A folder's ``style_sources`` with one entry per named style (``count``): missing ones are None."""
    sources = list(document.get("style_sources") or [])
    return (sources + [None] * count)[:count] if len(sources) <= count else [merge(sources)] * count


def painting_styles(document: dict[str, Any], names: Sequence[str], own: Sequence[str]) -> dict[str, list[str]]:
    """{painting stem: the styles to run for it}: a named style for each of its sources; when the folder has no
    names (its style is built in, or each member of an ensemble runs its own), ``own`` for every source."""
    sources = document.get("style_sources") or []
    if names and len(sources) == len(names):
        return {Path(file).stem: [name] for value, name in zip(sources, names) for file in file_names(value)}
    return {Path(file).stem: list(own) for value in sources for file in file_names(value)}
