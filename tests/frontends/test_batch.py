"""`stylefuse batch`: a local loop over a folder, a glob or a list file; resumable, with a manifest of bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tests.helpers import run_cli, save_style_model

from stylefuse.errors import ImageReadError, OptionError
from stylefuse.frontends.batch import MANIFEST, JobRecipe, collect_inputs, plan, run_batch
from stylefuse.image.io import read_image, write_image


def photo_folder(folder: Path, count: int = 3) -> Path:
    """``count`` small photos and one corrupt file named like a JPEG."""
    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        write_image(folder / f"photo{index}.png", torch.rand(3, 24, 32, generator=generator))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return folder


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return save_style_model(tmp_path / "model", channels=(4, 8, 8), blocks=1, names=("ink",))


def manifest_rows(out: Path) -> list[list[str]]:
    return [line.split("\t") for line in (out / MANIFEST).read_text().splitlines()[1:]]


def test_cli_batch_folder_writes_good_files_lists_bad_ones_and_resumes(tmp_path, model, capsys, monkeypatch):
    photos, out = photo_folder(tmp_path / "in"), tmp_path / "out"
    code, stdout, _ = run_cli(["batch", photos, "--model", model, "-o", out, "-q"], capsys, monkeypatch)
    assert code == 0 and "3 written, 0 already done; 1 failed" in stdout
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "photo0.png", "photo1.png", "photo2.png"]
    assert read_image(out / "photo0.png").size == (32, 24)
    [[path, reason]] = manifest_rows(out)
    assert path.endswith("broken.jpg") and "not an image" in reason
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("photo*")}

    code, stdout, _ = run_cli(["batch", photos, "--model", model, "-o", out, "-q"], capsys, monkeypatch)
    assert code == 0 and stdout.startswith("0 written, 3 already done; 1 failed")
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("photo*")} == stamps
    assert [row[0] for row in manifest_rows(out)] == [path]


def test_damaged_output_is_done_again(tmp_path, model):
    photos, out = photo_folder(tmp_path / "in", count=2), tmp_path / "out"
    recipe = JobRecipe(model=str(model))
    run_batch(str(photos), out, recipe, show_progress=False)
    (out / "photo1.png").write_bytes(b"half")
    summary = run_batch(str(photos), out, recipe, show_progress=False)
    assert (summary.written, summary.done_before, len(summary.failed)) == (1, 1, 1)
    assert summary.stage_seconds["model"] > 0 and summary.images_per_second > 0


def test_inputs_from_a_glob_and_a_list_file(tmp_path):
    photos = photo_folder(tmp_path / "in")
    assert [p.name for p in collect_inputs(str(photos / "photo*.png"))] == ["photo0.png", "photo1.png", "photo2.png"]
    listing = tmp_path / "in" / "list.txt"
    listing.write_text("# wanted\nphoto2.png\n\nmissing.png\n")
    assert collect_inputs(str(listing)) == [photos / "photo2.png", photos / "missing.png"]
    with pytest.raises(ImageReadError, match="no such file"):
        collect_inputs(str(tmp_path / "nowhere"))
    with pytest.raises(ImageReadError, match="no files"):
        collect_inputs(str(tmp_path / "*.webp"))


def test_plan_refuses_clashing_outputs_and_writing_over_inputs(tmp_path):
    a, b = tmp_path / "a" / "x.png", tmp_path / "b" / "x.jpg"
    with pytest.raises(OptionError, match="both be written"):
        plan([a, tmp_path / "b" / "x.png"], tmp_path / "out")
    assert plan([b], tmp_path / "out") == [(b, tmp_path / "out" / "x.jpg")]
    a.parent.mkdir()
    a.write_bytes(b"")
    with pytest.raises(OptionError, match="overwrite an input"):
        plan([a], a.parent)


def test_missing_listed_file_goes_to_the_manifest(tmp_path, model):
    photos = photo_folder(tmp_path / "in", count=1)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{photos / 'photo0.png'}\n{photos / 'gone.png'}\n")
    summary = run_batch(str(listing), tmp_path / "out", JobRecipe(model=str(model)), show_progress=False)
    assert summary.written == 1 and [Path(p).name for p, _ in summary.failed] == ["gone.png"]
