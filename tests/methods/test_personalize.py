"""Personalisation: what each strategy trains, that the base styles stay intact, the CLI end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.fusion.lineage import fingerprint
from stylefuse.hub import load_model, read_config, save_model
from stylefuse.image.io import read_image, write_image
from stylefuse.losses.functional import gram_matrix
from stylefuse.methods.personalize import FREEZE_STRATEGIES, Personalize, PersonalizeRecipe, extend_with_a_style, freeze
from tests.helpers import run_cli, save_style_model


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return save_style_model(tmp_path / "base", channels=(8, 8, 16), blocks=2)


def test_the_new_slot_starts_at_the_mean_of_the_base_styles(base) -> None:
    network, _ = load_model(base)
    extended = extend_with_a_style(network)
    assert extended.num_styles == 3
    image = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        for index in range(2):
            style = torch.eye(2)[index]
            assert torch.allclose(network(image, style), extended(image, torch.cat([style, torch.zeros(1)])),
                                  atol=1e-6)


@pytest.mark.parametrize("style", [0, 1])
def test_warm_start_picks_the_base_style_that_makes_the_target_style(base, style) -> None:
    task = Personalize(PersonalizeRecipe(base=str(base), size=32, style_names=["new"]))
    network = task.generators["G"]
    photos = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        made = network(photos, torch.eye(3)[style].expand(2, -1))
        features = task.encoder(made, task.recipe.style_layers)
    task.style_grams = {name: gram_matrix(value).mean(0, keepdim=True).expand(3, -1, -1)
                        for name, value in features.items()}
    assert task.warm_start(photos) == ["ink", "sun"][style]
    with torch.no_grad():
        assert torch.allclose(network(photos, torch.eye(3)[2].expand(2, -1)), made, atol=1e-6)


@pytest.mark.parametrize("strategy", list(FREEZE_STRATEGIES))
def test_strategies_train_increasing_shares(base, strategy) -> None:
    network = extend_with_a_style(load_model(base)[0])
    trained = freeze(network, strategy)
    total = sum(p.numel() for p in network.parameters())
    expected_share = {"norm-only": 0.05, "last-layers": 0.5, "decoder": 0.8, "all": 1.0}[strategy]
    assert 0 < trained <= expected_share * total


def test_norm_only_leaves_the_base_styles_untouched(base) -> None:
    network = extend_with_a_style(load_model(base)[0])
    freeze(network, "norm-only")
    before = {k: v.clone() for k, v in network.state_dict().items()}
    optimizer = torch.optim.Adam([p for p in network.parameters() if p.requires_grad], lr=0.1)
    network(torch.rand(2, 3, 32, 32), torch.tensor([0.0, 0.0, 1.0])).mean().backward()
    optimizer.step()
    after = network.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and set(changed) <= set(network.style_parameters()) and "colour.offset" in changed
    assert all(torch.equal(before[k][:2], after[k][:2]) for k in changed)


def _photo_folder(root: Path, count: int = 4) -> Path:
    generator = torch.Generator().manual_seed(1)
    for index in range(count):
        write_image(root / f"{index}.png", torch.rand(3, 48, 40, generator=generator))
    return root


def test_fixed_batch_gives_every_step_the_same_crops(base, tmp_path) -> None:
    style = write_image(tmp_path / "s.png", torch.rand(3, 32, 32))
    folders = {"data": _photo_folder(tmp_path / "photos"), "style": [style]}
    fixed = Personalize(PersonalizeRecipe(base=str(base), size=32, batch_size=2, fixed_batch=True, style_names=["new"]))
    moving = Personalize(PersonalizeRecipe(base=str(base), size=32, batch_size=2, style_names=["new"]))
    fixed_batches, moving_batches = fixed.make_batches(folders), moving.make_batches(folders)
    assert torch.equal(fixed_batches(0)[0], fixed_batches(5)[0])
    assert torch.equal(fixed_batches(0)[0], moving_batches(0)[0]) and not torch.equal(moving_batches(5)[0],
                                                                                      moving_batches(0)[0])
    assert not torch.equal(fixed_batches(-1)[0], fixed_batches(0)[0])  # validation crops are other photos


def test_the_fixed_batch_grows_after_its_warmup_and_its_content_targets_are_computed_once(base, tmp_path) -> None:
    style = write_image(tmp_path / "s.png", torch.rand(3, 32, 32))
    task = Personalize(PersonalizeRecipe(base=str(base), size=32, batch_size=3, fixed_batch=True, warmup_crops=1,
                                               warmup_steps=2, style_names=["new"]))
    batches = task.make_batches({"data": _photo_folder(tmp_path / "photos"), "style": [style]})
    warmup, full = batches(0)[0], batches(2)[0]
    assert batches(1)[0] is warmup and batches(7)[0] is full and len(warmup) == 1 and len(full) == 3
    assert torch.equal(warmup, full[:1]) and len(batches(-1)[0]) == 4  # validation keeps 4 crops
    calls = []
    encode = task.encoder.forward
    task.encoder.forward = lambda *args, **kwargs: calls.append(1) or encode(*args, **kwargs)
    for photos in (warmup, full):
        targets, fresh = task.photo_features(photos), encode(photos.clone(), task.recipe.content_layers)  # 0..1e4
        assert all(torch.allclose(targets[name], fresh[name], rtol=1e-4, atol=0.05) for name in fresh)
    assert task.photo_features(full) is task.photo_features(batches(5)[0]) and not calls
    task.photo_features(batches(-1)[0])  # validation photos are encoded every time
    task.photo_features(batches(-1)[0])
    assert len(calls) == 2


def test_lbfgs_training_encodes_only_its_outputs_once_the_fixed_targets_exist(base, tmp_path) -> None:
    from stylefuse.methods.personalize import personalize_recipe, training_defaults
    from stylefuse.train.loop import Trainer, TrainOptions

    style = write_image(tmp_path / "s.png", torch.rand(3, 32, 32))
    task = Personalize(personalize_recipe(training_defaults("norm-only"), "norm-only", 32, "x", steps=4, base=base))
    batches = task.make_batches({"data": _photo_folder(tmp_path / "photos"), "style": [style]})
    encoded = []
    encode = task.encoder.forward
    task.encoder.forward = lambda images, *rest, **options: encoded.append(len(images)) or encode(images, *rest,
                                                                                                 **options)
    options = TrainOptions(steps=4, lr=1.0, optimizer="lbfgs", decay_from=1.0, ema_decay=None, checkpoint_every=0,
                           sample_every=0, progress=False)
    Trainer(task, batches, options, tmp_path / "run").fit()
    assert encoded == [2, 2, 4, 4]  # one pass over the outputs per step: 2 warm-up crops, then all 4


def test_lbfgs_recipes_grow_their_batch_unless_it_is_too_small_to_grow() -> None:
    from stylefuse.methods.personalize import personalize_recipe, training_defaults

    lbfgs, adam = training_defaults("norm-only"), training_defaults("norm-only", "adam")
    recipe = personalize_recipe(lbfgs, "norm-only", 64, "x")
    assert recipe.fixed_batch and (recipe.batch_size, recipe.warmup_crops, recipe.warmup_steps) == (4, 2, 8)
    small = personalize_recipe(lbfgs, "norm-only", 64, "x", batch_size=2)
    assert small.fixed_batch and (small.warmup_crops, small.warmup_steps) == (None, 0)
    assert personalize_recipe(lbfgs, "norm-only", 64, "x", steps=6).warmup_steps == 3  # at most half the run
    assert not personalize_recipe(adam, "norm-only", 64, "x").fixed_batch
    assert recipe.style_weight == 5.0
    assert personalize_recipe(lbfgs, "norm-only", 64, "x", style_weight=12).style_weight == 12
    with pytest.raises(OptionError, match="style_weight=-1"):
        personalize_recipe(lbfgs, "norm-only", 64, "x", style_weight=-1)


def test_norm_only_lbfgs_lowers_the_loss_of_its_fixed_crops(base, tmp_path) -> None:
    from stylefuse.methods.personalize import training_defaults
    from stylefuse.train.loop import Trainer, TrainOptions

    defaults = training_defaults("norm-only")
    assert defaults.optimizer == "lbfgs" and training_defaults("decoder").optimizer == "adam"
    style = write_image(tmp_path / "s.png", torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(4)))
    torch.manual_seed(0)
    task = Personalize(PersonalizeRecipe(base=str(base), size=32, batch_size=defaults.batch_size, fixed_batch=True,
                                               style_names=["new"]))
    batches = task.make_batches({"data": _photo_folder(tmp_path / "photos"), "style": [style]})
    before = task.generator_loss(batches(0))["total"].item()
    options = TrainOptions(steps=8, lr=defaults.lr, optimizer="lbfgs", decay_from=1.0, ema_decay=None,
                           checkpoint_every=0, sample_every=0, progress=False)
    Trainer(task, batches, options, tmp_path / "run").fit()
    assert task.generator_loss(batches(0))["total"].item() < 0.5 * before  # measured 27.8 -> 4.8


def test_personalize_cli_end_to_end(tmp_path, base, capsys, monkeypatch) -> None:
    generator = torch.Generator().manual_seed(1)
    photos = tmp_path / "photos"
    for index in range(4):
        write_image(photos / f"{index}.png", torch.rand(3, 48, 40, generator=generator))
    styles = [write_image(tmp_path / f"style{i}.png", torch.rand(3, 40, 40, generator=generator)) for i in range(2)]
    out = tmp_path / "mine"
    code, stdout, err = run_cli(["personalize", "--images", styles[0], styles[1], "--base", base, "--name", "dots",
                                 "--data", photos, "--out", out, "--steps", "3", "--size", "32", "--batch-size", "2",
                                 "--validate-every", "1", "--style-weight", "12", "-q"], capsys, monkeypatch)
    assert code == 0, err
    assert read_config(out)["recipe"]["style_weight"] == 12
    trained, total = (int(n.replace(",", "")) for n in re.search(r"training ([\d,]+) of ([\d,]+)", stdout).groups())
    assert trained < 0.05 * total
    assert "estimated time" in stdout and "3 lbfgs steps" in stdout  # norm-only's default optimiser
    assert read_config(out)["parent"] == fingerprint(base)  # what fusion checks ancestry with
    result = tmp_path / "blend.png"
    code, _, err = run_cli(["stylize", photos / "0.png", "--model", out, "--style", "dots:0.5,ink:0.5",
                            "-o", result], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(result).size == (40, 48)
    own, named = tmp_path / "own.png", tmp_path / "named.png"  # the folder's own style is its default
    for target, style in [(own, []), (named, ["--style", "dots"])]:
        code, _, err = run_cli(["stylize", photos / "0.png", "--model", out, *style, "-o", target], capsys, monkeypatch)
        assert code == 0, err
    assert torch.equal(read_image(own).rgb, read_image(named).rgb)


@pytest.mark.parametrize("args, message", [
    (["--freeze", "most"], "unknown --freeze 'most'"),
    (["--name", "ink"], "already has a style named 'ink'"),
    (["--optimizer", "sgd"], "unknown --optimizer 'sgd'"),
])
def test_personalize_errors(tmp_path, base, args, message, capsys, monkeypatch) -> None:
    style = write_image(tmp_path / "s.png", torch.rand(3, 32, 32))
    code, _, err = run_cli(["personalize", "--images", style, "--base", base, "--out", tmp_path / "o", *args],
                           capsys, monkeypatch)
    assert code == 2 and message in err


def test_personalize_a_gan_model_with_freezed(tmp_path, capsys, monkeypatch) -> None:
    from stylefuse.nn.generators import ResnetGenerator

    base = save_model(ResnetGenerator(blocks=1, base=4), tmp_path / "gan", "resnet_generator",
                      dict(blocks=1, base=4), extra={"method": "adversarial_style"})
    generator = torch.Generator().manual_seed(2)
    photos = tmp_path / "photos"
    for index in range(3):
        write_image(photos / f"{index}.png", torch.rand(3, 40, 40, generator=generator))
    style = write_image(tmp_path / "style.png", torch.rand(3, 40, 40, generator=generator))
    out = tmp_path / "mine"
    code, stdout, err = run_cli(["personalize", "--images", style, "--base", base, "--data", photos, "--out", out,
                                 "--steps", "2", "--size", "32", "--batch-size", "2", "--validate-every", "1", "-q"],
                                capsys, monkeypatch)
    assert code == 0, err
    assert "first 2 convolutions frozen (FreezeD)" in stdout and "decoder" in stdout
    assert read_config(out)["parent"] == fingerprint(base)
    code, _, err = run_cli(["stylize", photos / "0.png", "--model", out, "-o", tmp_path / "t.png"], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(["personalize", "--images", style, "--base", base, "--out", tmp_path / "x",
                            "--freeze", "norm-only"], capsys, monkeypatch)
    assert code == 2 and "no conditional norm" in err
    code, _, err = run_cli(["personalize", "--images", style, "--base", base, "--out", tmp_path / "y",
                            "--optimizer", "lbfgs"], capsys, monkeypatch)
    assert code == 2 and "GAN bases train against a discriminator" in err
    code, _, err = run_cli(["personalize", "--images", style, "--base", base, "--out", tmp_path / "z",
                            "--style-weight", "3"], capsys, monkeypatch)
    assert code == 2 and "--style-weight is for the multi-style network" in err


def test_freezed_keeps_the_frozen_discriminator_layers(tmp_path) -> None:
    from stylefuse.methods.adversarial_style import AdversarialStyle, AdversarialStyleRecipe
    from stylefuse.methods.personalize_gan import freeze_lower_layers
    from stylefuse.train.loop import Trainer, TrainOptions

    task = AdversarialStyle(AdversarialStyleRecipe(size=32, batch_size=2, blocks=1, base=4))
    freeze_lower_layers(task.discriminators["D"], 2)
    first = [m for m in task.discriminators["D"].modules() if isinstance(m, torch.nn.Conv2d)][0]
    before = first.weight.clone()
    batch = [torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)]
    trainer = Trainer(task, lambda step: batch, TrainOptions(steps=2, progress=False, checkpoint_every=0,
                                                             sample_every=0), tmp_path)
    trainer.fit()
    assert torch.equal(first.weight, before)
    assert not first.weight.requires_grad
