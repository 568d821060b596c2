"""The fast network with a style predictor: paintings as styles (cached), blends with named styles, its
training (resumed exactly) and personalisation from the predicted tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylefuse.builtin import STYLES_FOLDER as BUILTIN_FOLDER
from stylefuse.errors import OptionError
from stylefuse.hub import load_model, save_model
from stylefuse.image import ops
from stylefuse.image.io import read_image, write_image
from stylefuse.losses.functional import gram_matrix
from stylefuse.methods.fast import FastStylizer, _load_runner
from stylefuse.methods.fast_arbitrary import ArbitraryFast, ArbitraryRecipe
from stylefuse.methods.personalize import PREDICTED, Personalize, PersonalizeRecipe
from stylefuse.nn.fast_stylizer import FastStylizerNet
from stylefuse.nn.style_predictor import LAYERS
from stylefuse.train.loop import TrainOptions
from tests.helpers import run_cli, save_style_model, stripes_image, wavy_photo

CONFIG = dict(num_styles=2, channels=[8, 8, 16], blocks=2, predictor=dict(hidden=8, bottleneck=4))


@pytest.fixture
def predictor_model(tmp_path: Path) -> Path:
    """A two-style model folder (ink, sun) whose predictor gives every painting its own tables."""
    torch.manual_seed(0)
    network = FastStylizerNet(**CONFIG)
    with torch.no_grad():
        for table in network.style_parameters().values():
            table.add_(torch.randn_like(table))
        for parameter in network.predictor.parameters():
            parameter.normal_(0, 0.05)
    return save_model(network, tmp_path / "model", "fast_stylizer", CONFIG, half=False,
                      extra={"method": "fast", "style_names": ["ink", "sun"]})


@pytest.fixture
def painting() -> torch.Tensor:
    return stripes_image(48)


def _stylizer(folder: Path, backend: str = "torch", cache: Path | None = None) -> FastStylizer:
    _load_runner.cache_clear()
    stylizer = FastStylizer(model=folder, backend=backend)
    stylizer.runner.tables.folder = cache
    return stylizer


def test_a_painting_is_encoded_once_then_its_tables_come_from_the_caches(predictor_model, painting, tmp_path) -> None:
    stylizer = _stylizer(predictor_model, cache=tmp_path / "tables")
    photo = wavy_photo(32, 40)
    first = stylizer.stylize(photo, [painting])
    assert stylizer.runner.predictions == 1 and first.shape == photo.shape
    assert torch.equal(stylizer.stylize(photo, [painting.clone()]), first) and stylizer.runner.predictions == 1
    stylizer.stylize(photo, [painting.flip(-1)])
    assert stylizer.runner.predictions == 2  # another painting is encoded
    fresh = _stylizer(predictor_model, cache=tmp_path / "tables")  # a new process: the folder cache answers
    assert torch.equal(fresh.stylize(photo, [painting]), first) and fresh.runner.predictions == 0


def test_a_blend_of_a_painting_and_a_named_style_mixes_their_tables(predictor_model, painting, tmp_path) -> None:
    stylizer = _stylizer(predictor_model, cache=tmp_path)
    network = stylizer.runner.network
    photo = wavy_photo(32, 32)
    blend = stylizer.stylize(photo, [painting, "sun"], [1.0, 3.0])
    predicted = stylizer.runner.painting_tables(painting)
    sun = network.flatten_tables(network.tables(torch.tensor([[0.0, 1.0]])))
    with torch.no_grad():
        wanted = network.forward_tables(photo[None], network.unflatten_tables(0.25 * predicted + 0.75 * sun))[0]
    assert torch.allclose(blend, wanted, atol=1e-5)
    assert not torch.allclose(blend, stylizer.stylize(photo, ["sun"]), atol=1e-3)
    assert not torch.allclose(blend, stylizer.stylize(photo, [painting]), atol=1e-3)
    assert torch.allclose(stylizer.stylize(photo, ["ink", "sun"], [1, 3]),
                          stylizer.runner.run_tables(photo, stylizer.mixed_tables(["ink", "sun"], [1, 3])), atol=1e-5)


def test_onnxruntime_runs_the_table_path_like_torch(predictor_model, painting, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    photo = wavy_photo(32, 48)
    with_torch = _stylizer(predictor_model, cache=tmp_path).stylize(photo, [painting, "ink"])
    with_onnx = _stylizer(predictor_model, "onnxruntime", cache=tmp_path).stylize(photo, [painting, "ink"])
    assert torch.allclose(with_torch, with_onnx, atol=1e-4)


def test_onnxruntime_predicts_a_paintings_tables_like_torch(predictor_model, painting, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    with_torch = _stylizer(predictor_model, cache=tmp_path / "torch")
    with_onnx = _stylizer(predictor_model, "onnxruntime", cache=tmp_path / "onnx")
    wide = torch.cat([painting, painting.flip(-1)], dim=-1)  # the graph takes any size
    for image in (painting, wide):
        assert torch.allclose(with_torch.runner.painting_tables(image), with_onnx.runner.painting_tables(image),
                              atol=1e-4)
    assert with_torch.runner.predictions == with_onnx.runner.predictions == 2


def test_a_model_without_predictor_refuses_paintings_in_one_line(tmp_path, painting) -> None:
    folder = save_style_model(tmp_path / "old", channels=(8, 8, 16), blocks=1)
    with pytest.raises(OptionError, match="no style predictor"):
        _stylizer(folder).stylize(wavy_photo(32, 32), [painting])


def test_cli_stylizes_with_a_painting_and_blends_it_with_a_named_style(tmp_path, predictor_model, painting, capsys,
                                                                       monkeypatch) -> None:
    _load_runner.cache_clear()
    photo = write_image(tmp_path / "photo.png", wavy_photo(40, 56))
    style = write_image(tmp_path / "painting.png", painting)
    out = tmp_path / "out.png"
    code, _, err = run_cli(["stylize", photo, "--style", style, "--method", "fast", "--model", predictor_model,
                            "-o", out], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(out).rgb.shape == (3, 40, 56)
    blended = tmp_path / "blend.png"
    code, _, err = run_cli(["stylize", photo, "-s", f"{style}:0.5", "-s", "sun:0.5", "--model", predictor_model,
                            "--strength", "0.6", "--preserve-color", "-o", blended],
                           capsys, monkeypatch)
    assert code == 0, err
    assert not torch.allclose(read_image(blended).rgb, read_image(out).rgb, atol=0.02)
    code, _, err = run_cli(["stylize", photo, "-s", f"{style}:0.5", "-s", "sun:0.5", "--method", "gatys",
                            "-o", tmp_path / "x.png"], capsys, monkeypatch)
    assert code == 2 and "mix either named styles or style images" in err


def _training(tmp_path: Path, base: Path, **options) -> tuple[ArbitraryFast, object, dict]:
    generator = torch.Generator().manual_seed(2)
    for index in range(2):
        write_image(tmp_path / "photos" / f"{index}.png", torch.rand(3, 40, 40, generator=generator))
        write_image(tmp_path / "paintings" / f"{index}.png", stripes_image(56).roll(7 * index, -1))
    recipe = ArbitraryRecipe(base=str(base), size=32, batch_size=2, style_size=64, style_crop=40, augmentations=2,
                             hidden=8, bottleneck=4, **options)
    torch.manual_seed(0)
    task = ArbitraryFast(recipe)
    folders = {"data": tmp_path / "photos", "style": tmp_path / "paintings"}
    return task, task.make_batches(folders, seed=0), dict(lr=1e-2, checkpoint_every=2, sample_every=0,
                                                           progress=False, ema_decay=None)


@pytest.mark.slow
def test_training_moves_only_the_predictor_and_resumes_exactly(tmp_path) -> None:
    from stylefuse.methods._trainable import fit_and_export

    base = save_style_model(tmp_path / "base", channels=(8, 8, 16), blocks=1)
    task, batches, settings = _training(tmp_path, base)
    photos, targets, named = batches(0)
    assert photos.shape == (2, 3, 32, 32) and targets.max() < 4 and (named == -1).all()
    network = task.generators["G"]
    with torch.no_grad():
        start = network.flatten_tables(network.predict_tables(task.features[:2]))
        mean = network.flatten_tables(network.tables(torch.full((1, 2), 0.5)))
    assert torch.allclose(start, mean.expand(2, -1), atol=1e-6)  # every painting starts at the named styles' mean
    fit_and_export(task, batches, TrainOptions(steps=4, **settings), tmp_path / "straight")
    task, batches, _ = _training(tmp_path, base)
    fit_and_export(task, batches, TrainOptions(steps=2, **settings), tmp_path / "resumed")
    task, batches, _ = _training(tmp_path, base)
    fit_and_export(task, batches, TrainOptions(steps=4, **settings), tmp_path / "resumed", resume=True)
    straight, document = load_model(tmp_path / "straight")
    resumed, _ = load_model(tmp_path / "resumed")
    assert document["config"]["predictor"]["bottleneck"] == 4 and document["style_names"] == ["ink", "sun"]
    assert all(torch.equal(value, resumed.state_dict()[key]) for key, value in straight.state_dict().items())
    original, _ = load_model(base)
    trained = {key: value for key, value in straight.state_dict().items() if not key.startswith("predictor.")}
    assert all(torch.equal(value, original.state_dict()[key].half().float()) for key, value in trained.items())
    assert not torch.equal(straight.predictor.out.weight, torch.zeros_like(straight.predictor.out.weight))


def test_a_smaller_predictor_size_fine_tunes_the_base_predictor_on_smaller_paintings(tmp_path, predictor_model) -> None:
    task, _, _ = _training(tmp_path, predictor_model, predictor_size=32, keep_predictor=True)
    network, (base, _) = task.generators["G"], load_model(predictor_model)
    assert network.predictor.style_size == 32 and task.recipe.style_size == 64
    assert torch.equal(network.predictor.out.weight, base.predictor.out.weight)  # kept, not reset to the mean
    painting = read_image(tmp_path / "paintings" / "0.png").rgb  # validation: a whole painting, seen at 32 px
    with torch.no_grad():
        seen = network.predictor.batch_features(task.encoder(ops.resize_long_side(painting, 32)[None], LAYERS))[0]
    assert torch.allclose(task.features[task.validation_targets[0]], seen, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(network.predictor.input_shift, base.predictor.input_shift)  # refitted to them
    with pytest.raises(OptionError, match="keep_predictor needs a base with a style predictor"):
        _training(tmp_path, save_style_model(tmp_path / "plain", channels=(8, 8, 16), blocks=1), keep_predictor=True)


def test_personalize_starts_from_the_predicted_tables_when_they_score_best(predictor_model) -> None:
    task = Personalize(PersonalizeRecipe(base=str(predictor_model), size=32, style_names=["new"]))
    network = task.generators["G"]
    photos = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    painting = stripes_image(48)
    with torch.no_grad():  # the target style: one no base style makes, the predictor's output for any painting
        wanted = network.tables(torch.tensor([[2.0, -1.0, 0.0]]))
        network.predictor.start_at(network.flatten_tables(wanted)[0])
        made = network.forward_tables(photos, {name: value.expand(2, *value.shape[1:])
                                               for name, value in wanted.items()})
        features = task.encoder(made, task.recipe.style_layers)
        task._set_new_style([painting])  # the new style's statistics and the predictor's input
    task.style_grams = {name: gram_matrix(value).mean(0, keepdim=True).expand(3, -1, -1)
                        for name, value in features.items()}
    assert task.warm_start(photos) == PREDICTED
    with torch.no_grad():
        assert torch.allclose(network(photos, torch.eye(3)[2].expand(2, -1)), made, atol=1e-5)
        network.predictor.start_at(network.flatten_tables(network.tables(torch.eye(3)[1:2]))[0] + 0.5)
    assert task.warm_start(photos) != PREDICTED  # a worse prediction loses to the base styles


@pytest.mark.skipif(not (BUILTIN_FOLDER / "config.json").is_file(), reason="no built-in model")
def test_the_builtin_network_takes_a_painting_and_blends_it_with_its_styles(tmp_path) -> None:
    import stylefuse

    if load_model(BUILTIN_FOLDER)[0].predictor_config is None:
        pytest.skip("the built-in model has no style predictor")
    painting = write_image(tmp_path / "painting.png", stripes_image(48))
    photo = wavy_photo(48, 64)
    alone = stylefuse.stylize(photo, str(painting), method="fast")
    assert stylefuse.stylize(photo, str(painting)).tobytes() == alone.tobytes()  # fast is the default for a painting
    blend = stylefuse.stylize(photo, [(str(painting), 0.5), ("starry-night", 0.5)])  # a mix defaults to fast
    assert alone.size == blend.size == (64, 48)
    named = stylefuse.stylize(photo, "starry-night")
    assert len({alone.tobytes(), blend.tobytes(), named.tobytes()}) == 3


def test_a_painting_defaults_to_fast_when_the_builtin_network_predicts_paintings(monkeypatch, painting) -> None:
    from stylefuse import api

    specs = api.normalize_styles(painting)
    monkeypatch.setattr(api, "builtin_takes_paintings", lambda: True)
    assert api.method_for(specs) == "fast" and api.method_for(specs, "gatys") == "gatys"
    assert api.method_for(api.normalize_styles("starry-night")) == "fast"
    with pytest.raises(OptionError, match="--levels, --steps: gatys options.*add --method gatys"):
        api.stylize(wavy_photo(32, 32), painting, steps=3, levels=1)
    monkeypatch.setattr(api, "builtin_takes_paintings", lambda: False)  # an installation without the predictor
    assert api.method_for(specs) == "gatys" and api.method_for([]) == "gatys"


def test_export_parts_predict_and_stylize_with_a_painting_like_the_model(predictor_model, painting, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime")
    from stylefuse.frontends.export import export_model

    def run(path: Path, *inputs: torch.Tensor) -> torch.Tensor:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [item.name for item in session.get_inputs()]
        return torch.from_numpy(session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})[0])

    stylizer = _stylizer(predictor_model)
    predictor = export_model(predictor_model, tmp_path / "predictor.onnx", part="predictor")
    stylize = export_model(predictor_model, tmp_path / "tables.onnx", part="tables")
    side = int(ort.InferenceSession(str(predictor)).get_modelmeta().custom_metadata_map["style_size"])
    tables = run(predictor, ops.resize_long_side(painting, side).clamp(0, 1)[None])
    assert torch.allclose(tables, stylizer.runner.painting_tables(painting), atol=1e-4)
    photo = wavy_photo(32, 48)
    assert torch.allclose(run(stylize, photo[None], tables)[0], stylizer.stylize(photo, [painting]), atol=1e-3)
    with pytest.raises(OptionError, match="unknown part"):
        export_model(predictor_model, tmp_path / "x.onnx", part="decoder")
    plain = save_style_model(tmp_path / "plain", [8, 8, 16], 1)
    with pytest.raises(OptionError, match="no style predictor"):
        export_model(plain, tmp_path / "x.onnx", part="predictor")
