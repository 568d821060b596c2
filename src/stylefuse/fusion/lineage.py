"""Where a model folder's weights come from: fingerprints of weights files and the ancestry a folder records.

Interpolating parameters is only meaningful between networks fine-tuned from one ancestor (Wang et al. 2019,
"Deep Network Interpolation for Continuous Imagery Effect Transition"): two networks trained apart put the
same feature in different channels, and their average is neither. A derived folder (personalised, fused)
records the fingerprint of the weights it came from (``parent``, or ``parents`` for a fused folder) and every
fingerprint further up (``ancestors``), so relatedness is a set intersection.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from stylefuse.hub import WEIGHTS_FILE, read_config

FINGERPRINT_CHARS = 16


def fingerprint(folder: str | os.PathLike) -> str:
    """The short sha256 (16 hex digits) of a model folder's ``model.safetensors``."""
    path = Path(folder) / WEIGHTS_FILE
    stat = path.stat()
    return _digest(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:FINGERPRINT_CHARS]


def recorded_ancestors(document: dict[str, Any]) -> set[str]:
    """The fingerprints a config document records: ``parent``, ``parents`` and ``ancestors``."""
    found = set(document.get("ancestors") or []) | set(document.get("parents") or [])
    if document.get("parent"):
        found.add(document["parent"])
    return found


def lineage(folder: str | os.PathLike) -> set[str]:
    """A folder's own fingerprint and every ancestor it records."""
    return {fingerprint(folder)} | recorded_ancestors(read_config(folder))


def derived_from(*folders: str | os.PathLike) -> dict[str, Any]:
    """What a folder made from ``folders`` records (merge it into its config): ``parent`` (one source) or
    ``parents`` (several), and ``ancestors``, the union of the sources' lineages."""
    prints = [fingerprint(folder) for folder in folders]
    ancestors = set().union(*(lineage(folder) for folder in folders))
    record: dict[str, Any] = {"parent": prints[0]} if len(prints) == 1 else {"parents": prints}
    return {**record, "ancestors": sorted(ancestors)}


def shared_ancestry(folders: list[str | os.PathLike]) -> set[str]:
    """The fingerprints every folder's lineage holds (empty: the folders are unrelated)."""
    return set.intersection(*(lineage(folder) for folder in folders))
