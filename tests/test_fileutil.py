"""Atomic writes leave no half-written file, and what a killed write left behind can be cleared."""

from __future__ import annotations

from stylefuse.fileutil import TEMPORARY_PREFIX, atomic_write, remove_temporaries


def test_remove_temporaries_clears_only_leftovers(tmp_path) -> None:
    atomic_write(tmp_path / "kept.pt", lambda path: path.write_bytes(b"done"))
    (tmp_path / f"{TEMPORARY_PREFIX}abc.pt").write_bytes(b"half")  # what a SIGKILL during a write leaves
    (tmp_path / f"{TEMPORARY_PREFIX}folder").mkdir()  # not a file: someone else's
    assert remove_temporaries(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{TEMPORARY_PREFIX}folder", "kept.pt"]
    assert remove_temporaries(tmp_path / "missing") == 0
