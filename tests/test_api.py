"""The Python API: inputs of every kind, style specs, alpha, method choice, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import stylefuse
from stylefuse.api import StyleSpec, normalize_styles, parse_style_argument
from stylefuse.errors import OptionError

FAST = dict(method="gatys", size=40, steps=3, coarse_steps=0, levels=1, style_layers=("relu1_1", "relu2_1"),
            content_layers=("relu2_1",))


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, stylefuse; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.mark.parametrize("args", [["list"], ["--help"], ["stylize", "--help"], ["--version"]])
def test_discovery_does_not_import_torch(args) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom stylefuse.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('torch imported:', 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert result.stdout.strip().endswith("torch imported: False"), result.stderr


def test_public_names_are_visible() -> None:
    assert {"stylize", "load", "METHODS"} <= set(dir(stylefuse))


def test_stylize_accepts_pil_arrays_and_tensors(small_content, small_style) -> None:
    content_pil = Image.fromarray((small_content.permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    style_array = (small_style.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    out = stylefuse.stylize(content_pil, style_array, **FAST)
    assert isinstance(out, Image.Image) and out.size == (40, 30) and out.mode == "RGB"
    out2 = stylefuse.stylize(small_content, [small_style, (small_style, 2.0)], **FAST)
    assert out2.size == (40, 30)


def test_alpha_is_kept(small_content, small_style) -> None:
    rgba = torch.cat([small_content, torch.linspace(0, 1, 64).expand(1, 48, 64)])
    out = stylefuse.stylize(rgba, small_style, **FAST)
    assert out.mode == "RGBA"
    alpha = np.asarray(out)[:, :, 3]
    assert alpha[:, 0].mean() < 20 and alpha[:, -1].mean() > 235


def test_paths_and_weighted_strings(tmp_path, small_content, small_style) -> None:
    stylefuse.write_image(tmp_path / "c.png", small_content)
    stylefuse.write_image(tmp_path / "s.png", small_style)
    out = stylefuse.stylize(tmp_path / "c.png", f"{tmp_path / 's.png'}:0.5", **FAST)
    assert out.size == (40, 30)


def test_style_specs() -> None:
    assert parse_style_argument("a.jpg:0.25") == StyleSpec("a.jpg", 0.25)
    assert parse_style_argument("a.jpg") == StyleSpec("a.jpg", 1.0)
    assert parse_style_argument("C:/x/a.jpg") == StyleSpec("C:/x/a.jpg", 1.0)
    assert [s.weight for s in normalize_styles({"a.jpg": 2, "b.jpg": 1})] == [2.0, 1.0]
    with pytest.raises(OptionError, match="all zero"):
        normalize_styles(["a.jpg:0", "b.jpg:0"])
    with pytest.raises(OptionError, match=">= 0"):
        normalize_styles(["a.jpg:-1"])


def test_unknown_method_and_option(small_content, small_style) -> None:
    with pytest.raises(OptionError, match="unknown method .nope.; known: adain, adversarial_style, conditional, "
                                          "cyclegan, dcgan"):
        stylefuse.stylize(small_content, small_style, method="nope")
    with pytest.raises(OptionError, match="does not take"):
        stylefuse.stylize(small_content, small_style, wibble=3)
    with pytest.raises(OptionError, match="method gatys does not take progress"):
        stylefuse.stylize(small_content, small_style, method="gatys", progress=True)  # wiring is not a user option


def test_bad_weight_is_named(tmp_path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"")
    with pytest.raises(OptionError, match="'abc' is not a number"):
        parse_style_argument(f"{path}:abc")
    with pytest.raises(OptionError, match="'x' is not a number"):
        parse_style_argument("painting.jpg:x")
    assert parse_style_argument("c:/photos/a.jpg").image == "c:/photos/a.jpg"


def test_too_small_result_is_refused(small_style) -> None:
    with pytest.raises(OptionError, match="at least 16 px"):
        stylefuse.stylize(torch.rand(3, 100, 4), small_style, method="gatys", size=64, steps=1)
