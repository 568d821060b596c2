"""Which paintings a folder's styles come from: personalised and fused folders record their `style_sources`, and
`stylefuse eval` runs each folder on the paintings it names."""

from __future__ import annotations

from pathlib import Path

import torch
from tests.helpers import run_cli, save_style_model

from stylefuse.fusion import sources
from stylefuse.fusion.models import fuse_models
from stylefuse.hub import load_model, read_config, save_model
from stylefuse.image.io import write_image


def test_entries_merge_align_and_map_paintings_to_styles() -> None:
    assert sources.entry([Path("a/x.jpg")]) == "x.jpg" and sources.entry([Path("x.jpg"), Path("y.png")]) == \
        ["x.jpg", "y.png"]
    assert sources.merge(["x.jpg", ["x.jpg", "y.png"], None, "z.jpg"]) == ["x.jpg", "y.png", "z.jpg"]
    assert sources.merge([None, "x.jpg", "x.jpg"]) == "x.jpg" and sources.merge([None]) is None
    assert sources.aligned({"style_sources": ["a.jpg"]}, 3) == ["a.jpg", None, None]
    assert sources.aligned({}, 2) == [None, None]
    document = {"style_sources": ["a.jpg", ["b.jpg", "c.png"], None]}
    assert sources.painting_styles(document, ["ink", "sun", "new"], ["new"]) == {"a": ["ink"], "b": ["sun"],
                                                                                "c": ["sun"]}
    assert sources.painting_styles({"style_sources": ["g.jpg", "h.jpg"]}, [], []) == {"g": [], "h": []}


def _photos_and_paintings(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    generator = torch.Generator().manual_seed(1)
    for index in range(2):
        write_image(tmp_path / "photos" / f"{index}.png", torch.rand(3, 40, 40, generator=generator))
    paintings = [write_image(tmp_path / "paintings" / f"{name}.png", torch.rand(3, 40, 40, generator=generator))
                 for name in ("dots", "dashes", "unrelated")]
    return tmp_path / "photos", tmp_path / "paintings", paintings


def test_a_personalised_folder_records_its_paintings_and_eval_runs_on_them(tmp_path, capsys, monkeypatch) -> None:
    base = save_style_model(tmp_path / "base", (8, 8, 16), 1)
    photos, paintings, (dots, dashes, _) = _photos_and_paintings(tmp_path)
    out = tmp_path / "mine"
    code, _, err = run_cli(["personalize", "--images", dots, dashes, "--base", base, "--name", "marks", "--data",
                            photos, "--out", out, "--steps", "2", "--size", "32", "--batch-size", "2",
                            "--validate-every", "0", "-q"], capsys, monkeypatch)
    assert code == 0, err
    document = read_config(out)
    assert document["style_sources"] == [None, None, ["dots.png", "dashes.png"]]  # the base recorded none
    assert [item["path"] for item in document["style_files"]] == [str(dots), str(dashes)]
    assert all(len(item["sha256"]) == 16 for item in document["style_files"])
    code, stdout, err = run_cli(["eval", "--method", "fast", "--model", out, "--content", photos, "--style", paintings,
                                 "--out", tmp_path / "report", "--size", "32", "--metric", "ssim",
                                 "--no-distribution"], capsys, monkeypatch)
    assert code == 0, err
    assert "4 pairs" in stdout and "skipped 0--unrelated" in err  # 2 photos x the 2 paintings it learnt from


def _sibling(base: Path, out: Path, seed: int, name: str, painting: str) -> Path:
    network, document = load_model(base)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    extra = {"method": "fast", "style_names": ["ink", "sun", name], "default_style": name, "parent": "0" * 16,
             "style_sources": ["ink.jpg", None, painting]}
    return save_model(network, out, "fast_stylizer", document["config"], extra=extra)


def test_fused_folders_record_the_union_of_their_parents_paintings(tmp_path, capsys, monkeypatch) -> None:
    base = save_style_model(tmp_path / "base", (8, 8, 16), 1, names=("ink", "sun", "new"))
    a = _sibling(base, tmp_path / "a", 1, "mine-a", "dots.png")
    b = _sibling(base, tmp_path / "b", 2, "mine-b", "dashes.png")
    mixed = read_config(fuse_models([a, b], tmp_path / "mix"))
    assert mixed["style_names"] == ["ink", "sun", "mine-a+mine-b"]
    assert mixed["style_sources"] == ["ink.jpg", None, ["dots.png", "dashes.png"]]
    ensemble = read_config(fuse_models([a, b], tmp_path / "ens", mode="ensemble"))
    assert "style_names" not in ensemble and ensemble["style_sources"] == [["dots.png", "dashes.png"]]
    photos, paintings, _ = _photos_and_paintings(tmp_path)
    for method, folder in (("fast", tmp_path / "mix"), ("ensemble", tmp_path / "ens")):
        code, stdout, err = run_cli(["eval", "--method", method, "--model", folder, "--content", photos, "--style",
                                     paintings, "--out", tmp_path / f"report-{folder.name}", "--size", "32",
                                     "--metric", "ssim", "--no-distribution"], capsys, monkeypatch)
        assert code == 0, err
        assert "4 pairs" in stdout, folder
