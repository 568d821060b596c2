"""`stylefuse batch` on object-store URIs, through a real pyarrow filesystem (``file://`` URIs of a tmp folder):
the same outputs and manifest as with local paths, resumable, and one-line errors."""

from __future__ import annotations

import sys

import pytest
from tests.frontends.test_batch import manifest_rows, model, photo_folder  # noqa: F401 (a fixture)
from tests.helpers import run_cli

from stylefuse.errors import ImageReadError, OptionError
from stylefuse.frontends.batch import JobRecipe, collect_inputs, plan, run_batch
from stylefuse.frontends.batch_store import is_uri, join, name_of
from stylefuse.image.io import read_image

pytest.importorskip("pyarrow.fs")


def test_file_uris_give_the_outputs_of_local_paths_and_resume(tmp_path, model):  # noqa: F811
    photos, recipe = photo_folder(tmp_path / "in"), JobRecipe(model=str(model))
    run_batch(str(photos), tmp_path / "local", recipe, show_progress=False)
    source, out = photos.as_uri(), (tmp_path / "store" / "out").as_uri()  # file:///...: OUT does not exist yet
    summary = run_batch(source, out, recipe, show_progress=False)
    assert (summary.written, summary.done_before, len(summary.failed)) == (3, 0, 1)
    written = tmp_path / "store" / "out"
    assert sorted(p.name for p in written.iterdir()) == sorted(p.name for p in (tmp_path / "local").iterdir())
    for name in ("photo0.png", "photo1.png", "photo2.png"):
        assert read_image(written / name).rgb.equal(read_image(tmp_path / "local" / name).rgb)
    [[path, reason]] = manifest_rows(written)
    assert path == f"{source}/broken.jpg" and reason == manifest_rows(tmp_path / "local")[0][1].replace(
        str(photos / "broken.jpg"), path)  # the reason names the URI, not a temporary copy

    (written / "photo1.png").write_bytes(b"half")  # a damaged output is done again, the others are skipped
    again = run_batch(source, out, recipe, show_progress=False)
    assert (again.written, again.done_before, len(again.failed)) == (1, 2, 1)
    assert not [p for p in written.iterdir() if p.name.startswith(".")]  # no temporary objects left


def test_the_cli_takes_uris_for_input_and_output(tmp_path, model, capsys, monkeypatch):  # noqa: F811
    photos, out = photo_folder(tmp_path / "in", count=1), (tmp_path / "out").as_uri()
    code, stdout, _ = run_cli(["batch", photos.as_uri(), "--model", model, "-o", out, "-q"], capsys, monkeypatch)
    assert code == 0 and f"1 written, 0 already done; 1 failed, listed in {out}/_manifest.tsv" in stdout
    assert read_image(tmp_path / "out" / "photo0.png").size == (32, 24)
    code, _, err = run_cli(["batch", (tmp_path / "nowhere").as_uri(), "--model", model, "-o", out], capsys,
                           monkeypatch)
    assert code == 2 and "nothing is there" in err and len(err.strip().splitlines()) == 1


def test_uri_inputs_listing_and_planning(tmp_path):
    photos = photo_folder(tmp_path / "in")
    (photos / ".tmp-photo9.png").write_bytes(b"")  # a temporary object of an interrupted upload
    (photos / "notes.txt").write_text("not an image")
    uris = collect_inputs(photos.as_uri())
    assert [name_of(uri) for uri in uris] == ["broken.jpg", "photo0.png", "photo1.png", "photo2.png"]
    assert all(is_uri(uri) for uri in uris) and collect_inputs(uris[1]) == [uris[1]]
    listing = tmp_path / "list.txt"
    listing.write_text(f"{uris[2]}\nin/photo0.png\n")  # a local list may mix URIs and paths
    assert collect_inputs(str(listing)) == [uris[2], tmp_path / "in" / "photo0.png"]
    out = "s3://bucket/out?region=eu-west-1"  # planning needs no store: a bucket that is not reachable is fine
    assert plan(uris[:2], out)[0] == (uris[0], "s3://bucket/out/broken.jpg?region=eu-west-1")
    assert join("gs://b/p/", "x.png") == "gs://b/p/x.png"
    with pytest.raises(OptionError, match="overwrite an input"):
        plan(uris[1:2], photos.as_uri())
    with pytest.raises(OptionError, match="globs are not expanded"):
        collect_inputs(photos.as_uri() + "/*.png")


def test_uris_without_pyarrow_are_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow.fs", None)  # as on an install without the ray extra
    from stylefuse.frontends import batch_store

    batch_store._filesystem.cache_clear()
    with pytest.raises(OptionError, match=r"pip install 'stylefuse\[ray\]'"):
        collect_inputs((tmp_path / "x").as_uri())
    batch_store._filesystem.cache_clear()


def test_an_unknown_scheme_is_one_line(tmp_path):
    with pytest.raises((OptionError, ImageReadError), match="cannot open nope://"):
        collect_inputs("nope://bucket/photos")
