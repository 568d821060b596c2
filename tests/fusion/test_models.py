"""Model fusion: interpolation of related folders, layer swaps, ensembles, and the one-line refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from tests.helpers import save_style_model
from tests.test_cli import run_cli

from stylefuse import hub
from stylefuse.fusion.lineage import derived_from, fingerprint, lineage
from stylefuse.fusion.models import check_compatible, fuse_models, split_models_and_weights
from stylefuse.hub import load_model, read_config, save_model
from stylefuse.image.io import read_image, write_image
from stylefuse.nn.generators import ResnetGenerator

CHANNELS, BLOCKS = (8, 8, 16), 1


def derive(base: Path, out: Path, seed: int, name: str | None = None) -> Path:
    """A folder fine-tuned from ``base`` (as personalisation writes it): every tensor nudged, ancestry recorded."""
    network, document = load_model(base)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    extra = {key: value for key, value in document.items() if key not in ("format_version", "network", "config")}
    if name is not None:
        extra["style_names"] = extra["style_names"][:-1] + [name]
        extra["default_style"] = name
    return save_model(network, out, document["network"], document["config"], extra={**extra, **derived_from(base)})


@pytest.fixture
def family(tmp_path: Path) -> dict[str, Path]:
    base = save_style_model(tmp_path / "base", CHANNELS, BLOCKS, names=("ink", "sun", "new"))
    return {"base": base, "a": derive(base, tmp_path / "a", 1, "mine-a"),
            "b": derive(base, tmp_path / "b", 2, "mine-b")}


@pytest.fixture
def photo(tmp_path: Path, small_content) -> Path:
    return write_image(tmp_path / "photo.png", small_content)


def test_interpolation_is_the_weighted_average_and_a_working_model_folder(tmp_path, family, photo, capsys,
                                                                         monkeypatch) -> None:
    out = tmp_path / "mix"
    code, stdout, err = run_cli(["fuse", "--models", family["a"], family["b"], "--weights", "0.7", "0.3",
                                 "--out", out], capsys, monkeypatch)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    mixed, document = load_model(out)
    a, b = (load_model(family[key])[0].state_dict() for key in "ab")
    for key, value in mixed.state_dict().items():
        torch.testing.assert_close(value, 0.7 * a[key] + 0.3 * b[key], atol=2e-3, rtol=1e-2)  # fp16 storage
    assert document["method"] == "fast" and document["style_names"] == ["ink", "sun", "mine-a+mine-b"]
    assert document["default_style"] == "mine-a+mine-b"
    assert document["parents"] == [fingerprint(family["a"]), fingerprint(family["b"])]
    assert fingerprint(family["base"]) in lineage(out)
    code, _, err = run_cli(["stylize", photo, "--model", out, "-o", tmp_path / "o.png"], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(tmp_path / "o.png").size == (64, 48)


def test_a_child_and_its_base_are_related_and_unrelated_folders_are_refused(tmp_path, family, capsys,
                                                                           monkeypatch) -> None:
    other = save_style_model(tmp_path / "other", CHANNELS, BLOCKS, names=("x", "y", "z"))
    with torch.no_grad():  # same seed as the base: make its weights (and fingerprint) its own
        network, document = load_model(other)
        for parameter in network.parameters():
            parameter.mul_(1.5)
        save_model(network, other, "fast_stylizer", document["config"], extra={"method": "fast"})
    fuse_models([family["base"], family["a"]], tmp_path / "child-base")  # related: a's parent is the base
    code, _, err = run_cli(["fuse", "--models", family["a"], other, "--out", tmp_path / "no"], capsys, monkeypatch)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "share no ancestor" in err and "--force" in err
    code, _, err = run_cli(["fuse", "--models", family["a"], other, "--out", tmp_path / "yes", "--force"],
                           capsys, monkeypatch)
    assert code == 0, err


def test_incompatible_folders_name_what_differs(tmp_path, family, capsys, monkeypatch) -> None:
    deeper = save_style_model(tmp_path / "deeper", CHANNELS, BLOCKS + 1, names=("ink", "sun", "new"))
    code, _, err = run_cli(["fuse", "--models", family["a"], deeper, "--out", tmp_path / "x"], capsys, monkeypatch)
    assert code == 2 and "differ in config 'blocks'" in err
    gan = save_model(ResnetGenerator(blocks=1, base=4), tmp_path / "gan", "resnet_generator", dict(blocks=1, base=4),
                     extra={"method": "cyclegan"})
    code, _, err = run_cli(["fuse", "--models", family["a"], gan, "--out", tmp_path / "y"], capsys, monkeypatch)
    assert code == 2 and "holds a resnet_generator network" in err and len(err.strip().splitlines()) == 1
    states = [{"w": torch.zeros(2, 3), "v": torch.zeros(4)}, {"w": torch.zeros(2, 3), "v": torch.zeros(5)}]
    documents = [{"network": "n", "config": {}}] * 2
    with pytest.raises(Exception, match=r"tensor v differs: \(4,\)"):
        check_compatible([Path("p"), Path("q")], documents, states)


@pytest.mark.parametrize("args, message", [
    (["--mode", "blend"], "unknown fusion mode 'blend'"),
    (["--weights", "1", "2", "3"], "one weight per model (2), got 3"),
    (["--weights", "-1", "2"], "weights must be >= 0"),
    (["--groups", "1,0"], "--groups applies to --mode layer-swap only"),
    (["--combine", "pyramid"], "apply to --mode ensemble only"),
    (["--mode", "layer-swap", "--groups", "2,0"], "two numbers in [0, 1]"),
])
def test_bad_fusion_options_are_one_line(tmp_path, family, args, message, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["fuse", "--models", family["a"], family["b"], "--out", tmp_path / "x", *args],
                           capsys, monkeypatch)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_one_model_and_an_existing_output_are_refused(tmp_path, family, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["fuse", "--models", family["a"], "--out", tmp_path / "x"], capsys, monkeypatch)
    assert code == 2 and "at least two model folders" in err
    code, _, err = run_cli(["fuse", "--models", family["a"], family["b"], "--out", family["base"]], capsys, monkeypatch)
    assert code == 2 and "already holds a model" in err
    other = tmp_path / "photos"
    other.mkdir()
    (other / "keep.jpg").write_bytes(b"mine")
    for mode in ("interpolate", "ensemble"):  # a folder of other files is never replaced, not even by --overwrite
        code, _, err = run_cli(["fuse", "--models", family["a"], family["b"], "--mode", mode, "--out", other,
                                "--overwrite"], capsys, monkeypatch)
        assert code == 2 and "is not a model folder" in err and (other / "keep.jpg").read_bytes() == b"mine"


def test_loose_numbers_are_weights_and_loose_paths_are_models(tmp_path) -> None:
    folders, weights = split_models_and_weights(["a", "b", "0.25", "0.75"], ["1"])
    assert folders == [Path("a"), Path("b")] and weights == [1.0, 0.25, 0.75]


def test_layer_swap_takes_coarse_layers_from_one_and_fine_from_the_other(tmp_path, family, photo) -> None:
    out = fuse_models([family["a"], family["b"]], tmp_path / "swap", mode="layer-swap")
    mixed = load_model(out)[0].state_dict()
    a, b = (load_model(family[key])[0].state_dict() for key in "ab")
    assert torch.equal(mixed["down.0.conv.1.weight"], a["down.0.conv.1.weight"])
    assert torch.equal(mixed["blocks.0.first.norm.gamma"], a["blocks.0.first.norm.gamma"])
    assert torch.equal(mixed["to_rgb.1.1.weight"], b["to_rgb.1.1.weight"])
    assert torch.equal(mixed["up.0.norm.beta"], b["up.0.norm.beta"])
    half = load_model(fuse_models([family["a"], family["b"]], tmp_path / "half", mode="layer-swap",
                                  groups=(0.5, 0.5)))[0].state_dict()
    torch.testing.assert_close(half["up.0.norm.beta"], 0.5 * (a["up.0.norm.beta"] + b["up.0.norm.beta"]),
                               atol=2e-3, rtol=1e-2)
    assert read_config(out)["fusion"]["groups"] == {"coarse": 1.0, "fine": 0.0}


def test_layer_swap_of_resnet_generators_runs(tmp_path, photo, capsys, monkeypatch) -> None:
    torch.manual_seed(0)
    base = save_model(ResnetGenerator(blocks=2, base=4), tmp_path / "gan", "resnet_generator",
                      dict(blocks=2, base=4), extra={"method": "cyclegan"})
    a, b = derive(base, tmp_path / "ga", 1), derive(base, tmp_path / "gb", 2)
    out = tmp_path / "swap"
    code, _, err = run_cli(["fuse", "--models", a, b, "--mode", "layer-swap", "--groups", "0.8,0.1", "--out", out],
                           capsys, monkeypatch)
    assert code == 0, err
    mixed, sa, sb = (load_model(folder)[0].state_dict() for folder in (out, a, b))
    first_fine = len(ResnetGenerator(blocks=2, base=4).net) - 8
    coarse_key = "net.0.weight" if "net.0.weight" in sa else next(k for k in sa if k.startswith("net.0."))
    fine_key = next(k for k in sa if k.startswith(f"net.{first_fine + 6}.") and k.endswith("weight"))
    torch.testing.assert_close(mixed[coarse_key], 0.8 * sa[coarse_key] + 0.2 * sb[coarse_key], atol=2e-3, rtol=1e-2)
    torch.testing.assert_close(mixed[fine_key], 0.1 * sa[fine_key] + 0.9 * sb[fine_key], atol=2e-3, rtol=1e-2)
    code, _, err = run_cli(["stylize", photo, "--model", out, "-o", tmp_path / "t.png"], capsys, monkeypatch)
    assert code == 0, err


def test_ensemble_mean_and_pyramid(tmp_path, family, small_content, photo, capsys, monkeypatch) -> None:
    gan = save_model(ResnetGenerator(blocks=1, base=4), tmp_path / "gan", "resnet_generator", dict(blocks=1, base=4),
                     extra={"method": "cyclegan"})
    code, _, err = run_cli(["fuse", "--models", family["a"], gan, "--mode", "ensemble", "--out", tmp_path / "mixed"],
                           capsys, monkeypatch)
    assert code == 2 and "take different kinds of style" in err and len(err.strip().splitlines()) == 1
    out = fuse_models([family["a"], family["b"]], tmp_path / "ens", mode="ensemble", weights=[3, 1])
    moved = tmp_path / "elsewhere" / "ens"
    shutil.copytree(out, moved)  # the folder carries its members
    shutil.rmtree(out)
    ensemble = hub.load(moved)
    a, b = hub.load(family["a"]), hub.load(family["b"])
    expected = 0.75 * a.stylize(small_content, ["mine-a"]) + 0.25 * b.stylize(small_content, ["mine-b"])
    styles, weights = zip(*ensemble.default_styles())
    torch.testing.assert_close(ensemble.stylize(small_content, list(styles), list(weights)), expected,
                               atol=2e-3, rtol=0)
    same = ensemble.stylize(small_content, ["ink"])
    ink = 0.75 * a.stylize(small_content, ["ink"]) + 0.25 * b.stylize(small_content, ["ink"])
    torch.testing.assert_close(same, ink, atol=2e-3, rtol=0)
    pyramid = tmp_path / "pyr"
    code, _, err = run_cli(["fuse", "--models", family["a"], family["b"], "--mode", "ensemble", "--combine", "pyramid",
                            "--fine-bands", "1", "--out", pyramid], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(["stylize", photo, "--model", pyramid, "-o", tmp_path / "p.png"], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(tmp_path / "p.png").size == (64, 48)
    code, _, err = run_cli(["fuse", "--models", family["a"], family["b"], family["base"], "--mode", "ensemble",
                            "--combine", "pyramid", "--out", tmp_path / "bad"], capsys, monkeypatch)
    assert code == 2 and "takes two members" in err


@pytest.mark.parametrize("mode", ["interpolate", "ensemble"])
def test_a_fused_folder_is_evaluated_like_any_model(tmp_path, mode, capsys, monkeypatch) -> None:
    base = save_style_model(tmp_path / "base", CHANNELS, BLOCKS, names=("ink", "sun"))
    network, document = load_model(base)
    save_model(network, base, "fast_stylizer", document["config"],
               extra={"method": "fast", "style_names": ["ink", "sun"], "style_sources": ["ink.png", "sun.png"]})
    members = [derive(base, tmp_path / f"m{seed}", seed) for seed in (1, 2)]
    out = fuse_models(members, tmp_path / "fused", mode=mode)
    generator = torch.Generator().manual_seed(0)
    for name in ("ink", "sun"):
        write_image(tmp_path / "paintings" / f"{name}.png", torch.rand(3, 32, 32, generator=generator))
    write_image(tmp_path / "photos" / "p.png", torch.rand(3, 32, 40, generator=generator))
    code, stdout, err = run_cli(["eval", "--method", read_config(out)["method"], "--model", out, "--content",
                                 tmp_path / "photos", "--style", tmp_path / "paintings", "--out", tmp_path / "report",
                                 "--size", "32", "--metric", "ssim", "--no-distribution"], capsys, monkeypatch)
    assert code == 0, err
    assert "2 pairs" in stdout
