"""The web app's logic (no browser, no Gradio needed) and the `serve` command's errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from tests.helpers import save_style_model, wavy_photo
from tests.test_cli import run_cli

from stylefuse.builtin import builtin_style_names
from stylefuse.errors import StylefuseError
from stylefuse.frontends.web import Request, ServeLimits, WebStylist


@pytest.fixture
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((30, 40, 3)) * 255).astype(np.uint8)


@pytest.fixture
def names() -> list[str]:
    names = builtin_style_names()
    if len(names) < 2:
        pytest.skip("this installation ships no built-in styles")
    return names


def test_builtin_style_blend_strength_and_colours(photo, names) -> None:
    stylist = WebStylist()
    one = stylist.run(Request(photo, "fast", (names[0], None)))
    assert one.shape == photo.shape and one.dtype == np.uint8 and np.abs(one.astype(int) - photo).mean() > 5
    mixed = stylist.run(Request(photo, "fast", (names[0], names[1]), blend=0.5))
    assert np.abs(mixed.astype(int) - one).mean() > 1
    weak = stylist.run(Request(photo, "fast", (names[0], None), strength=0.2, keep_colors=True))
    assert np.abs(weak.astype(int) - photo).mean() < np.abs(one.astype(int) - photo).mean()


def test_uploaded_painting_and_model_folder(tmp_path, photo) -> None:
    stylist = WebStylist(models=[save_style_model(tmp_path / "mine", [8, 16, 32], 1)])
    assert "model: mine" in stylist.methods() and "adain" in stylist.methods()
    painting = (np.random.default_rng(1).random((32, 32, 3)) * 255).astype(np.uint8)
    assert stylist.run(Request(photo, "adain", paintings=(painting, None))).shape == photo.shape
    assert stylist.run(Request(photo, "model: mine", ("ink", None))).shape == photo.shape


def test_fast_takes_an_uploaded_painting_in_place_of_the_builtin_style(photo, names) -> None:
    stylist = WebStylist()
    painting = np.zeros((64, 64, 3), np.uint8)
    painting[::8] = (250, 40, 20)  # red stripes
    named = stylist.run(Request(photo, "fast", (names[0], None)))
    painted = stylist.run(Request(photo, "fast", (names[0], None), paintings=(painting, None)))
    assert painted.shape == photo.shape and np.abs(painted.astype(int) - named).mean() > 2
    half = stylist.run(Request(photo, "fast", (names[0], names[1]), paintings=(painting, None), blend=0.5))
    assert np.abs(half.astype(int) - painted).mean() > 1  # the second built-in style is mixed in


@pytest.mark.parametrize("request_, message", [
    (dict(photo=None), "no photo"),
    (dict(method="adain"), "needs a painting"),
    (dict(method="gatys", paintings=(np.zeros((8, 8, 3), np.uint8), None), steps=101), "steps must be between"),
    (dict(method="wizard"), "unknown method"),
    (dict(photo=np.zeros((100, 100, 3), np.uint8)), "at most 5000"),
    (dict(blend=2.0), "between 0 and 1"),
])
def test_limits_and_mistakes_are_one_line_errors(photo, names, request_, message) -> None:
    stylist = WebStylist(ServeLimits(max_pixels=5000, gatys_steps=100))
    fields = {"photo": photo, "styles": (names[0], None), **request_}
    with pytest.raises(StylefuseError, match=message) as caught:
        stylist.run(Request(**fields))
    assert "\n" not in str(caught.value)


def test_serve_without_gradio_says_how_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio raises ImportError
    code, _, err = run_cli(["serve", "--port", "1"], capsys, monkeypatch)
    assert code == 2 and "pip install 'stylefuse[web]'" in err and len(err.strip().splitlines()) == 1


def test_bad_limits_and_model_folders_are_refused(tmp_path, capsys, monkeypatch) -> None:
    with pytest.raises(StylefuseError, match="concurrency"):
        ServeLimits(concurrency=0)
    code, _, err = run_cli(["serve", "--model", tmp_path / "nothing"], capsys, monkeypatch)
    assert code == 2 and "not a model folder" in err


def test_page_builds(names) -> None:
    pytest.importorskip("gradio")
    from stylefuse.frontends.web import build_app

    app = build_app(WebStylist())
    ids = {getattr(block, "elem_id", None) for block in app.blocks.values()}
    assert {"photo", "method", "style_a", "painting_a", "blend", "strength", "run", "result"} <= ids


def test_exported_files_are_offered_like_model_folders(tmp_path, photo) -> None:
    pytest.importorskip("onnxruntime")
    from stylefuse.frontends.export import export_model

    exported = export_model(save_style_model(tmp_path / "mine", [8, 16, 32], 1), tmp_path / "mine.onnx")
    stylist = WebStylist(models=[exported])
    out = stylist.run(Request(photo, "model: mine.onnx", ("sun", None)))
    assert out.shape == photo.shape and np.abs(out.astype(int) - photo).mean() > 5


def test_loaded_stylizers_are_kept_across_requests(tmp_path, photo, names) -> None:
    stylist = WebStylist(models=[save_style_model(tmp_path / "mine", [8, 16, 32], 1)], cache_size=2)
    first = stylist.run(Request(photo, "model: mine", ("ink", None)))
    again = stylist.run(Request(photo, "model: mine", ("sun", "ink"), blend=0.5, strength=0.5))
    assert stylist.stylizers.builds == 1 and not np.array_equal(first, again)  # one load, other styles
    stylist.run(Request(photo, "fast", (names[0], None)))
    stylist.run(Request(photo, "model: mine", ("ink", None)))
    assert stylist.stylizers.builds == 2
    painting = (np.random.default_rng(1).random((32, 32, 3)) * 255).astype(np.uint8)
    stylist.run(Request(photo, "adain", paintings=(painting, None)))  # the oldest (fast) makes room
    assert len(stylist.stylizers) == 2
    stylist.run(Request(photo, "fast", (names[0], None)))
    assert stylist.stylizers.builds == 4


def test_shared_stylizers_serve_concurrent_requests(photo, names) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stylist = WebStylist()
    request = Request(photo, "fast", (names[0], names[1]), blend=0.3)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(stylist.run, [request] * 8))
    assert all(np.array_equal(result, results[0]) for result in results)
    assert len(stylist.stylizers) == 1 and stylist.stylizers.builds <= 4


def test_two_styles_by_colour_regions_or_by_mask(photo, names) -> None:
    from stylefuse import api
    from stylefuse.image.io import as_picture, quantize

    stylist = WebStylist()
    photo = (wavy_photo(64, 96).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    first, second = (stylist.run(Request(photo, "fast", (name, None))).astype(int) for name in names[:2])
    by_colour = stylist.run(Request(photo, "fast", (names[0], names[1]), regions="by colour"))
    direct = api.prepare([names[0], names[1]], "fast", regions="auto:2").run(as_picture(photo)).rgb
    assert np.array_equal(by_colour, quantize(direct.permute(1, 2, 0)))  # what `--regions auto:2` makes
    assert min(np.abs(by_colour - first).mean(), np.abs(by_colour - second).mean()) > 1
    mask = np.zeros_like(photo)
    mask[:, 48:] = 255  # the first style on the right
    by_mask = stylist.run(Request(photo, "fast", (names[0], names[1]), regions="mask", mask=mask)).astype(int)
    assert np.abs(by_mask[:, -12:] - first[:, -12:]).mean() < np.abs(by_mask[:, -12:] - second[:, -12:]).mean()
    assert np.abs(by_mask[:, :12] - second[:, :12]).mean() < np.abs(by_mask[:, :12] - first[:, :12]).mean()
    for request, message in [(Request(photo, "fast", (names[0], None), regions="by colour"), "give two styles"),
                             (Request(photo, "fast", (names[0], names[1]), regions="mask"), "no mask"),
                             (Request(photo, "fast", (names[0], None), regions="stripes"), "unknown regions")]:
        with pytest.raises(StylefuseError, match=message):
            stylist.run(request)


def test_identical_results_are_stored_as_different_files() -> None:
    processing = pytest.importorskip("gradio.processing_utils")
    from io import BytesIO

    from PIL import Image

    from stylefuse.frontends.web import _numbered

    pixels = (np.arange(24 * 32 * 3) % 251).astype(np.uint8).reshape(24, 32, 3)
    first, second = (processing.encode_pil_to_bytes(_numbered(pixels, n), "png") for n in (1, 2))
    assert first != second  # Gradio names a result by the hash of these bytes
    assert np.array_equal(np.asarray(Image.open(BytesIO(second)).convert("RGB")), pixels)
