"""Atomic file writes: write to a temporary file in the same folder, then rename over the target, so an
interrupted write never leaves a half-written file behind; and atomic writes of the files of a folder.

A write is atomic against a killed process either way; ``durable=True`` also flushes the file and the rename to
disk (fsync), so that they survive a power loss: worth its cost for checkpoints and model folders, not for what
can be made again (sample grids, batch outputs, caches)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

Writer = Callable[[Path], None]
"""``write(path)``: writes one file at ``path``."""
TEMPORARY_PREFIX = ".tmp-"
"""Names of the temporary files and folders of atomic writes start with this."""


def atomic_write(path: str | os.PathLike, write: Writer, durable: bool = False) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``; parents are created; with ``durable``, the
    file and the rename are flushed to disk.

    Raises:
        OSError: when the folder is not writable (the temporary file is removed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _written_temporary(path, write, durable)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        _sync_folder(path.parent)
    return path


def atomic_write_files(folder: str | os.PathLike, files: dict[str, Writer], durable: bool = False) -> Path:
    """Write the files ``{name: write}`` of ``folder`` so that no reader sees a half-written one (with
    ``durable``, flushed to disk).

    A new folder is written whole: into a temporary sibling folder, renamed to ``folder`` at once. In an existing
    folder (a model folder is also the training output folder, with checkpoints, samples and logs that must
    stay) every file is first written in full to a temporary file beside its target, then all are renamed into
    place in the order of ``files``, back to back: put the file that marks the folder complete (the config)
    last. Other files of the folder are left as they are.

    Raises:
        OSError: when the folder is not writable (temporary files are removed).
    """
    folder = Path(folder)
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{folder.name}-", dir=folder.parent))
        try:
            for name, write in files.items():
                os.replace(_written_temporary(staging / name, write, durable), staging / name)
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp creates 0700
            os.rename(staging, folder)  # fails if someone created ``folder`` meanwhile: then write in place
            if durable:
                _sync_folder(folder.parent)
            return folder
        except OSError:
            if not folder.exists():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    written: dict[str, Path] = {}
    try:
        for name, write in files.items():  # every file in full before any rename
            written[name] = _written_temporary(folder / name, write, durable)
        for name, tmp in written.items():
            os.replace(tmp, folder / name)
    finally:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
    if durable:
        _sync_folder(folder)
    return folder


def cache_dir() -> Path:
    """Where extracted weights are cached: ``$STYLEFUSE_CACHE`` or the platform's user cache dir."""
    override = os.environ.get("STYLEFUSE_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("stylefuse"))


def remove_temporaries(folder: str | os.PathLike) -> int:
    """Delete the temporary files that writes killed half-way (SIGKILL, power loss) left in ``folder``; call it
    only where no write is under way. Returns how many were removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    leftovers = [path for path in folder.glob(f"{TEMPORARY_PREFIX}*") if path.is_file() and not path.is_symlink()]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)


def _written_temporary(path: Path, write: Writer, durable: bool) -> Path:
    """A temporary file beside ``path`` holding what ``write`` wrote (flushed to disk when ``durable``)."""
    fd, name = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())  # the data is on disk before the rename makes it visible
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
