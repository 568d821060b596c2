"""The fixed, seeded training/validation split of ``../shared/data/train``.

Validation is chosen by a rule, not by hand: every key (a painting's artist, a photo's file name) is
ranked by the SHA-256 of ``"{seed}:{key}"``, and whole keys are taken in that order until the quota is
reached. Paintings are held out by artist, so no validation painting shares a painter with a training
painting: the validation figures measure styles the networks never saw. The rule depends only on the
manifest's rows, so it gives the same split on every machine, and adding images moves few of them.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from stylefuse.errors import StylefuseError

SEED = 2026
VALIDATION_PAINTINGS = 24
VALIDATION_PHOTOS = 36
DEFAULT_ROOT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "train"


@dataclass(frozen=True)
class Split:
    """Image files of one kind (``photos`` or ``paintings``), split into training and validation."""

    train: tuple[Path, ...]
    validation: tuple[Path, ...]


def _rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def read_manifest(root: Path) -> list[dict[str, str]]:
    """The rows of ``root/MANIFEST.tsv`` (one per image), or a one-line error when it is missing."""
    manifest = Path(root) / "MANIFEST.tsv"
    if not manifest.is_file():
        raise StylefuseError(f"no training set at {root} (MANIFEST.tsv is missing)")
    with manifest.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def split(kind: str, root: str | Path = DEFAULT_ROOT, seed: int = SEED) -> Split:
    """The split of ``kind`` ("photos" or "paintings"): paintings grouped by artist, photos one by one.

    At least ``VALIDATION_PAINTINGS`` / ``VALIDATION_PHOTOS`` images are held out (whole artists, so a
    few more paintings than the quota can be held out).
    """
    if kind not in ("photos", "paintings"):
        raise StylefuseError(f"unknown kind {kind!r}: choose photos or paintings")
    root = Path(root)
    rows = [row for row in read_manifest(root) if row["file"].startswith(kind + "/")]
    quota = VALIDATION_PAINTINGS if kind == "paintings" else VALIDATION_PHOTOS
    groups: dict[str, list[Path]] = {}
    for row in rows:
        key = row["artist"] if kind == "paintings" and row["artist"] not in ("", "-") else row["file"]
        groups.setdefault(key, []).append(root / row["file"])
    held: list[Path] = []
    for key in sorted(groups, key=lambda key: _rank(key, seed)):
        if len(held) >= quota:
            break
        held.extend(groups[key])
    held_set = set(held)
    train = [root / row["file"] for row in rows if root / row["file"] not in held_set]
    return Split(train=tuple(sorted(train)), validation=tuple(sorted(held)))
