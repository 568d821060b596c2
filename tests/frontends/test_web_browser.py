"""`stylefuse serve` in a real browser: the system Chromium driven by Playwright (slow; `make test-slow`)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from PIL import Image

from stylefuse.builtin import builtin_style_names

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
PHOTO = REPO / "src" / "stylefuse" / "data" / "photos" / "coffee.jpg"


def chromium() -> str:
    """The system Chromium (Debian's ``chromium`` package); never a downloaded browser."""
    path = os.environ.get("STYLEFUSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no system Chromium (apt-get install chromium, or set STYLEFUSE_CHROMIUM)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served(NamedTuple):
    url: str
    folder: Path
    pid: int


@pytest.fixture
def server():
    """A `stylefuse serve` process on a free loopback port (url, its temporary folder, process id)."""
    pytest.importorskip("gradio")
    if len(builtin_style_names()) < 2:
        pytest.skip("this installation ships no built-in styles")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), GRADIO_ANALYTICS_ENABLED="False")
    process = subprocess.Popen([sys.executable, "-m", "stylefuse", "serve", "--port", str(free_port())], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("stylefuse serve: http://127.0.0.1:"), line + process.stdout.read()
        url, folder = line.split()[2], Path(line.split("files under ")[1].split(";")[0])
        yield Served(url, folder, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not folder.exists(), "the app's temporary folder outlives it"


def test_upload_pick_style_and_run_in_chromium(server, tmp_path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    url, folder, _ = server
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            page.locator("#photo input[type=file]").set_input_files(str(PHOTO))
            page.wait_for_selector("#photo img")
            page.locator("#style_a input").click()
            page.get_by_role("option", name=builtin_style_names()[1]).click()
            page.locator("#run").click()
            page.wait_for_selector("#result img", timeout=120_000)
            source = page.locator("#result img").get_attribute("src")
            response = page.request.get(source)
            assert response.ok, source
            body = response.body()
            page.screenshot(path=str(tmp_path / "serve.png"), full_page=True)
        finally:
            browser.close()
    assert source.startswith(url) and str(folder) in source  # results are written under the app's folder
    result = Image.open(io.BytesIO(body)).convert("RGB")
    photo = Image.open(PHOTO).convert("RGB")
    assert result.size == photo.size
    assert np.abs(np.asarray(result, dtype=np.int16) - np.asarray(photo, dtype=np.int16)).mean() > 10
    assert (tmp_path / "serve.png").stat().st_size > 10_000


def test_fifty_concurrent_requests_complete_or_are_told_busy(server) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    from concurrent.futures import ThreadPoolExecutor

    url, _, pid = server
    client = gradio_client.Client(url, verbose=False)
    photo = gradio_client.handle_file(str(REPO / "src" / "stylefuse" / "data" / "photos" / "rocket.jpg"))
    style = builtin_style_names()[0]

    def one(_: int) -> str:
        try:
            client.predict(photo, "fast", style, "", None, None, 0, 1, False, 10, "blend", None,
                           api_name="/stylize")
            return "done"
        except Exception as exc:  # noqa: BLE001 - what the client reports is the point of the test
            return "busy" if "Queue is full" in str(exc) else f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(one, range(50)))
    assert set(answers) <= {"done", "busy"}, {a for a in answers if a not in ("done", "busy")}
    assert answers.count("done") >= 2
    peak_kb = int(Path(f"/proc/{pid}/status").read_text().split("VmHWM:")[1].split()[0])
    assert peak_kb < 3_000_000, f"the server peaked at {peak_kb / 1e6:.1f} GB"
