"""Object-store locations for ``stylefuse batch``: an INPUT or OUT given as a URI (``s3://bucket/prefix``,
``gs://bucket/prefix``, ``hdfs://...``, ``file:///abs/path``) is listed, read and written through
``pyarrow.fs.FileSystem.from_uri`` (pyarrow comes with ``pip install 'stylefuse[ray]'``; credentials are the
usual ones of each store: AWS_* variables or ~/.aws, Google application credentials, ...).

Each file is copied to a local temporary file and read (or written) there by :mod:`stylefuse.image.io`, so that
a file behaves exactly as it does on a local disk (same decoders, same checks). An output is uploaded under a
temporary name beside its target and then moved onto it, so a reader never sees half an image (on S3 and GCS a
move is a server-side copy; an object appears whole or not at all).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Iterator
from urllib.parse import urlsplit

from stylefuse.errors import ImageReadError, ImageWriteError, OptionError, StylefuseError
from stylefuse.fileutil import TEMPORARY_PREFIX

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(location: Any) -> bool:
    """True for a ``scheme://...`` string (an object-store location), False for local paths."""
    return isinstance(location, str) and bool(_URI.match(location))


def _pyarrow_fs():
    try:
        import pyarrow.fs
    except ImportError:
        raise OptionError("reading or writing URIs (s3://, gs://, file://) needs pyarrow: "
                          "pip install 'stylefuse[ray]'") from None
    return pyarrow.fs


@lru_cache(maxsize=16)
def _filesystem(scheme: str, authority: str, query: str):
    """One filesystem per store and bucket (S3 and GCS clients are costly to create)."""
    fs = _pyarrow_fs()
    base = f"{scheme}://{authority}/" + (f"?{query}" if query else "")
    try:
        return fs.FileSystem.from_uri(base)[0]
    except (ValueError, OSError, TypeError) as exc:  # ArrowInvalid is a ValueError
        raise OptionError(f"cannot open {base}: {' '.join(str(exc).split())}") from None


def resolve(uri: str):
    """``(filesystem, path)`` of ``uri`` for ``pyarrow.fs`` calls.

    Raises:
        OptionError: pyarrow missing, an unknown scheme or a store that cannot be opened.
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    path = parts.path if scheme == "file" else parts.netloc + parts.path  # pyarrow's paths: /abs or bucket/key
    return _filesystem(scheme, parts.netloc, parts.query), path.rstrip("/") or "/"


def _uri_of(like: str, path: str) -> str:
    """The URI of ``path`` on the store of the URI ``like`` (its scheme and query kept)."""
    parts = urlsplit(like)
    return f"{parts.scheme}://{path}" + (f"?{parts.query}" if parts.query else "")


def join(prefix: str, name: str) -> str:
    """``prefix/name`` for a URI prefix (a query string stays at the end)."""
    parts = urlsplit(prefix)
    return parts._replace(path=str(PurePosixPath(parts.path or "/") / name)).geturl()


def name_of(uri: str) -> str:
    """The file name at the end of a URI (``photo.jpg`` of ``s3://b/p/photo.jpg?x=1``)."""
    return PurePosixPath(urlsplit(uri).path).name


def list_files(uri: str, suffixes: tuple[str, ...]) -> list[str]:
    """The URIs of the files directly under the prefix ``uri`` with one of ``suffixes`` (or no suffix), or
    ``[uri]`` when it names one file; sorted, hidden names (``.tmp-...``) left out.

    Raises:
        ImageReadError: nothing exists at ``uri``, or the store refused the listing.
    """
    fs = _pyarrow_fs()
    filesystem, path = resolve(uri)
    try:
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.File:
            return [uri]
        if info.type != fs.FileType.Directory:
            raise ImageReadError(f"cannot read {uri}: nothing is there (give a prefix or a file)")
        entries = filesystem.get_file_info(fs.FileSelector(path, recursive=False))
    except OSError as exc:
        raise ImageReadError(f"cannot list {uri}: {' '.join(str(exc).split())}") from None
    suffix = {entry.path: PurePosixPath(entry.base_name).suffix.lower() for entry in entries}
    names = [entry.path for entry in entries if entry.type == fs.FileType.File and not entry.base_name.startswith(".")
             and (suffix[entry.path] in suffixes or not suffix[entry.path])]
    return [_uri_of(uri, name) for name in sorted(names)]


@contextlib.contextmanager
def local_copy(uri: str) -> Iterator[Path]:
    """A local temporary copy of the file at ``uri`` (same file name), removed afterwards.

    Raises:
        ImageReadError: the file is missing or unreadable.
    """
    folder = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX))
    try:
        filesystem, path = resolve(uri)
        local = folder / (name_of(uri) or "file")
        try:
            with filesystem.open_input_stream(path) as remote, open(local, "wb") as file:
                shutil.copyfileobj(remote, file, 1 << 20)
        except OSError as exc:  # FileNotFoundError included
            raise ImageReadError(f"cannot read {uri}: {' '.join(str(exc).split())}") from None
        with _named(local, uri):
            yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def staged_output(uri: str) -> Iterator[Path]:
    """A local temporary path to write; on success it is uploaded to ``uri`` under a temporary name, then moved
    onto ``uri``.

    Raises:
        ImageWriteError: the store refused the upload.
    """
    folder = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX))
    try:
        local = folder / (name_of(uri) or "file")
        with _named(local, uri):
            yield local
        upload(local, uri)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _named(local: Path, uri: str) -> Iterator[None]:
    """Errors about the temporary copy ``local`` name the file the user gave, ``uri``."""
    try:
        yield
    except StylefuseError as exc:
        raise type(exc)(str(exc).replace(str(local), uri)) from None


def upload(local: Path, uri: str) -> None:
    """Copy the local file ``local`` to ``uri`` (a temporary object, then a move onto ``uri``).

    Raises:
        ImageWriteError: the store refused it.
    """
    filesystem, path = resolve(uri)
    parent = str(PurePosixPath(path).parent)
    temporary = f"{parent}/{TEMPORARY_PREFIX}{PurePosixPath(path).name}"
    try:
        filesystem.create_dir(parent, recursive=True)
        with open(local, "rb") as file, filesystem.open_output_stream(temporary) as remote:
            shutil.copyfileobj(file, remote, 1 << 20)
        filesystem.move(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            filesystem.delete_file(temporary)
        raise ImageWriteError(f"cannot write {uri}: {' '.join(str(exc).split())}") from None


def is_file(uri: str) -> bool:
    """True when a non-empty file exists at ``uri`` (False when the store cannot say)."""
    fs = _pyarrow_fs()
    filesystem, path = resolve(uri)
    try:
        info = filesystem.get_file_info(path)
    except OSError:
        return False
    return info.type == fs.FileType.File and bool(info.size)


def open_input(uri: str):
    """A seekable binary file of ``uri`` (for reading an image header without downloading the image)."""
    filesystem, path = resolve(uri)
    return filesystem.open_input_file(path)
