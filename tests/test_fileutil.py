"""Atomic writes: the target appears whole or not at all, no temporary file is left behind, and written files
get the usual permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stylefuse.fileutil import TEMPORARY_PREFIX, atomic_write, atomic_write_files, remove_temporaries


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_atomic_write_creates_parents_and_replaces_the_target(tmp_path) -> None:
    target = tmp_path / "a" / "b" / "file.txt"
    assert atomic_write(target, lambda tmp: tmp.write_text("one")) == target
    assert target.read_text() == "one"
    atomic_write(target, lambda tmp: tmp.write_text("two"))
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "file.txt"
    atomic_write(target, lambda tmp: tmp.write_text("old"))

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C during a write is cleaned up too
        atomic_write(tmp_path / "new.txt", lambda tmp: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_written_files_get_the_usual_permissions_not_those_of_a_temporary_file(tmp_path) -> None:
    target = atomic_write(tmp_path / "file.bin", lambda tmp: tmp.write_bytes(b"x"))
    assert _mode(target) == 0o666 & ~_umask()
    folder = atomic_write_files(tmp_path / "model", {"a.bin": lambda tmp: tmp.write_bytes(b"a")})
    assert _mode(folder) == 0o777 & ~_umask() and _mode(folder / "a.bin") == 0o666 & ~_umask()


def test_a_new_folder_is_written_whole_in_the_given_files(tmp_path) -> None:
    folder = atomic_write_files(tmp_path / "model", {"weights.bin": lambda tmp: tmp.write_bytes(b"w"),
                                                      "config.json": lambda tmp: tmp.write_text("{}")})
    assert folder == tmp_path / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_failed_new_folder_leaves_nothing(tmp_path) -> None:
    def fail(tmp: Path) -> None:
        raise OSError("no space")

    with pytest.raises(OSError, match="no space"):
        atomic_write_files(tmp_path / "model", {"weights.bin": lambda tmp: tmp.write_bytes(b"w"), "config.json": fail})
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_keeps_its_other_files_and_is_unchanged_when_a_write_fails(tmp_path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes(b"kept")
    (folder / "config.json").write_text("old")
    atomic_write_files(folder, {"weights.bin": lambda tmp: tmp.write_bytes(b"new"),
                                "config.json": lambda tmp: tmp.write_text("new")})
    assert (folder / "checkpoint.pt").read_bytes() == b"kept" and (folder / "config.json").read_text() == "new"

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("no space")

    with pytest.raises(OSError, match="no space"):
        atomic_write_files(folder, {"weights.bin": lambda tmp: tmp.write_bytes(b"newer"), "config.json": fail})
    assert (folder / "weights.bin").read_bytes() == b"new" and (folder / "config.json").read_text() == "new"


def test_a_failed_write_into_an_existing_folder_leaves_no_temporary_file(tmp_path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text("old")

    def fail(tmp: Path) -> None:
        raise OSError("no space")

    with pytest.raises(OSError, match="no space"):
        atomic_write_files(folder, {"weights.bin": lambda tmp: tmp.write_bytes(b"w"), "config.json": fail})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json"]


def test_remove_temporaries_clears_only_leftovers(tmp_path) -> None:
    atomic_write(tmp_path / "kept.pt", lambda path: path.write_bytes(b"done"))
    (tmp_path / f"{TEMPORARY_PREFIX}abc.pt").write_bytes(b"half")  # what a SIGKILL during a write leaves
    (tmp_path / f"{TEMPORARY_PREFIX}folder").mkdir()  # not a file: someone else's
    assert remove_temporaries(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{TEMPORARY_PREFIX}folder", "kept.pt"]
    assert remove_temporaries(tmp_path / "missing") == 0


@pytest.fixture
def fsyncs(monkeypatch) -> list[int]:
    """The descriptors passed to ``os.fsync`` (which still runs)."""
    calls: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    return calls


def test_only_durable_writes_are_flushed_to_disk(tmp_path, fsyncs) -> None:
    atomic_write(tmp_path / "grid.png", lambda tmp: tmp.write_bytes(b"x"))
    atomic_write_files(tmp_path / "new", {"a": lambda tmp: tmp.write_text("a")})
    assert fsyncs == [] and (tmp_path / "grid.png").read_bytes() == b"x"
    atomic_write(tmp_path / "checkpoint.pt", lambda tmp: tmp.write_bytes(b"y"), durable=True)
    assert len(fsyncs) == 2  # the file, then the folder holding the rename
    atomic_write_files(tmp_path / "model", {"a": lambda tmp: tmp.write_text("a"),
                                            "b": lambda tmp: tmp.write_text("b")}, durable=True)
    atomic_write_files(tmp_path / "model", {"a": lambda tmp: tmp.write_text("c")}, durable=True)  # in place
    assert len(fsyncs) == 2 + 3 + 2 and (tmp_path / "model" / "a").read_text() == "c"


def test_checkpoints_and_model_folders_are_durable_samples_and_images_are_not(tmp_path, fsyncs) -> None:
    import torch

    from stylefuse import hub
    from stylefuse.image.io import write_image
    from stylefuse.train.checkpoint import save_checkpoint

    write_image(tmp_path / "out.png", torch.rand(3, 8, 8))
    assert fsyncs == []
    save_checkpoint(tmp_path, {"step": 1})
    assert len(fsyncs) == 2
    hub.save_model(torch.nn.Conv2d(3, 3, 1), tmp_path / "model", "conv", {})
    assert len(fsyncs) == 5
