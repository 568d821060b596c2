"""Server-side checks of the web form (``frontends/web_form.py``), without a server: every refusal of
``benchmarks/web_load.py`` at the function level (the served version is ``test_web_load.py``, slow)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from tests.fuzzing import encode, huge_png, picture

from stylefuse.builtin import builtin_style_names
from stylefuse.errors import StylefuseError
from stylefuse.frontends.web import ServeLimits, WebStylist
from stylefuse.frontends.web_form import form_request, read_upload, style_name

LIMITS = ServeLimits(max_upload_bytes=10_000, max_pixels=5000)


@pytest.fixture
def uploads(tmp_path):
    """The app's upload folder with a small valid PNG in it."""
    folder = tmp_path / "gradio"
    (folder / "abc").mkdir(parents=True)
    (folder / "abc" / "ok.png").write_bytes(encode(picture("RGB"), "PNG"))
    return folder


def record(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def refused(message: str, call, *args) -> str:
    with pytest.raises(StylefuseError, match=message) as caught:
        call(*args)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_an_upload_is_decoded_within_the_limits(uploads) -> None:
    image = read_upload(record(uploads / "abc" / "ok.png"), "photo", LIMITS, uploads)
    assert image.shape == (5, 7, 3) and image.dtype == np.uint8
    assert read_upload(None, "photo", LIMITS, uploads) is None


@pytest.mark.parametrize("name, data, message", [
    ("big.png", bytes(10_001), "at most 0.01 MB"),
    ("bomb.png", huge_png(100_000, 100_000), "over the limit"),  # refused from the header, before decoding
    ("bomb.png", huge_png(100, 51), "over the limit"),  # just over max_pixels
    ("text.png", b"not an image\n" * 10, "not an image"),
    ("empty.png", b"", "empty"),
])
def test_bad_uploads_are_refused_naming_the_upload_not_the_stored_file(uploads, name, data, message) -> None:
    (uploads / "abc" / name).write_bytes(data)
    text = refused(message, read_upload, record(uploads / "abc" / name), "painting", LIMITS, uploads)
    assert str(uploads) not in text and "painting" in text


@pytest.mark.parametrize("path", ["/etc/passwd", "../../etc/passwd.png", "abc/../../outside.png", "a\0b.png", "",
                                  42, {"url": "http://127.0.0.1:1/x.png"}])
def test_paths_outside_the_upload_folder_are_refused(uploads, tmp_path, path) -> None:
    (tmp_path / "outside.png").write_bytes(encode(picture("RGB"), "PNG"))
    payload = path if isinstance(path, dict) else record(uploads / path) if path == "abc/../../outside.png" \
        else {"path": path}
    refused("not an uploaded file|not uploaded to this app", read_upload, payload, "photo", LIMITS, uploads)


def test_a_symlink_out_of_the_upload_folder_is_refused(uploads, tmp_path) -> None:
    (tmp_path / "secret.png").write_bytes(encode(picture("RGB"), "PNG"))
    os.symlink(tmp_path / "secret.png", uploads / "abc" / "link.png")
    refused("not uploaded to this app", read_upload, record(uploads / "abc" / "link.png"), "photo", LIMITS, uploads)


@pytest.mark.parametrize("value", ["/etc/passwd", "../../README.md", "photo.jpg", "a/b", "x\0y", 3, "."])
def test_styles_cannot_name_files(value) -> None:
    refused("not a style name", style_name, value)


def test_style_names_pass() -> None:
    assert style_name("starry-night") == "starry-night" and style_name("") is None and style_name(None) is None


@pytest.mark.parametrize("change, message", [
    (dict(blend="lots"), "blend must be a number"),
    (dict(strength=float("nan")), "finite"),
    (dict(strength=None), "strength must be a number"),
    (dict(steps=2.5), "whole number"),
    (dict(keep_colors="yes"), "true or false"),
    (dict(method=["fast"]), "pick a method"),
])
def test_form_values_are_checked(uploads, change, message) -> None:
    form = dict(photo=record(uploads / "abc" / "ok.png"), method="fast", style_a="starry-night", style_b="",
                painting_a=None, painting_b=None, blend=0, strength=1, keep_colors=False, steps=10)
    refused(message, form_request, LIMITS, uploads, *{**form, **change}.values())


@pytest.mark.parametrize("method, steps, message", [
    ("model: /etc", 10, "unknown method"),
    ("/work", 10, "unknown method"),
    ("gatys", 10**6, "steps must be between"),
    ("gatys", 0, "steps must be between"),
])
def test_methods_and_the_gatys_cap_are_enforced_on_the_server(uploads, method, steps, message) -> None:
    paintings = (record(uploads / "abc" / "ok.png"), None)
    request = form_request(LIMITS, uploads, record(uploads / "abc" / "ok.png"), method, "", "", *paintings, 0, 1,
                           False, steps)
    refused(message, WebStylist(LIMITS).run, request)


def test_a_valid_form_runs(uploads) -> None:
    names = builtin_style_names()
    if not names:
        pytest.skip("this installation ships no built-in styles")
    request = form_request(LIMITS, uploads, record(uploads / "abc" / "ok.png"), "fast", names[0], "", None, None,
                           0.0, 1.0, False, 10)
    assert WebStylist(LIMITS).run(request).shape == (5, 7, 3)
