"""Load and attack ``stylefuse serve`` on loopback; print JSON counts, latencies and the server's peak memory.

    python benchmarks/web_load.py --requests 100 --waves 2

Starts ``stylefuse serve`` on a free 127.0.0.1 port with its home, temporary and working folders inside a fresh
folder, and a Python audit hook that records every file the server opens for writing, creates, renames or
removes. Then, over plain HTTP (Gradio's upload and queue API, no browser):

* load: ``--requests`` concurrent requests (a shipped photo, uploaded each time, a built-in style), ``--waves``
  times; each must complete or be told the queue is full (busy); anything else is a failure;
* attacks, each once: an upload over ``--max-upload-mb``, a pixel bomb (a tiny PNG declaring 100000 x 100000),
  a text file named ``.png``, uploads named ``../../etc/passwd.png``, ``/tmp/abs.png`` and ``a\\0b.png``,
  requests naming files the server has (``/etc/passwd``, ``../../etc/passwd.png``, a NUL byte) instead of an
  upload, a style or a model given as a path, Gatys steps past the cap, a non-numeric slider; each must be
  refused with a message naming the problem, and the server must still answer afterwards.

Finally every path the server wrote must lie in the app's temporary folder, and nothing else may have appeared
in its home, temporary or working folder. Exit status 1 when any check fails. A short version runs in
``make test-slow`` (``tests/frontends/test_web_load.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the pixel-bomb and image makers of the tests
from tests.fuzzing import encode, huge_png, picture  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "src" / "stylefuse" / "data" / "photos" / "rocket.jpg"
API = "/gradio_api"
AUDITED_SERVE = r"""
import os, sys
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
TARGET = {"os.rename": (1, 3), "os.replace": (1, 3), "os.link": (1, 3), "os.symlink": (1, 2),
          "shutil.copyfile": (1, None), "os.mkdir": (0, 2), "os.remove": (0, 1), "os.rmdir": (0, 1),
          "os.truncate": (0, None), "os.chmod": (0, 2), "shutil.rmtree": (0, 1)}
def hook(event, args):
    if event == "open":
        path = args[0] if args[2] & WRITES else None
    elif event in TARGET:
        at, folder_fd = TARGET[event]
        # relative to an open folder (rmtree's walk): covered by the event naming that folder
        path = None if folder_fd is not None and args[folder_fd] not in (None, -1) else args[at]
    else:
        return
    if isinstance(path, (str, bytes, os.PathLike)):
        os.write(log, (event + "\t" + os.path.abspath(os.fsdecode(path)) + "\n").encode("utf-8", "replace"))
sys.addaudithook(hook)
from stylefuse.cli import main
main(sys.argv[2:])
"""
"""``python -c`` program: the audit hook, then ``stylefuse`` with the remaining arguments."""


class Server(NamedTuple):
    url: str
    folder: Path
    process: subprocess.Popen
    audit: Path
    sandbox: Path
    start_seconds: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(sandbox: Path, serve_args: list[str]) -> Server:
    """``stylefuse serve`` under the audit hook, home, TMPDIR and working folder inside ``sandbox``."""
    for name in ("home", "tmp", "cwd", "cache"):
        (sandbox / name).mkdir(parents=True)
    audit = sandbox / "audit.log"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HOME=str(sandbox / "home"), TMPDIR=str(sandbox / "tmp"),
               STYLEFUSE_CACHE=str(sandbox / "cache"),
               GRADIO_ANALYTICS_ENABLED="False", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    for inherited in ("GRADIO_TEMP_DIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "XDG_CACHE_HOME"):
        env.pop(inherited, None)  # the app chooses its own; torch sets the inductor one in any process that compiled
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", AUDITED_SERVE, str(audit), "serve", "--port", str(free_port()),
                                *serve_args], env=env, cwd=sandbox / "cwd", stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    if not line.startswith("stylefuse serve: http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"the server did not start: {line}{process.stdout.read()}")
    threading.Thread(target=process.stdout.read, daemon=True).start()  # drain: a full pipe would block it
    url, folder = line.split()[2].rstrip("/"), Path(line.split("files under ")[1].split(";")[0])
    return Server(url, folder, process, audit, sandbox, time.perf_counter() - started)


class Client:
    """Gradio's HTTP API, by hand (uploads and the queue), so that attacks can send what no page would."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url + API
        self.http = httpx.Client(timeout=300)
        dependencies = self.http.get(url + "/config").json()["dependencies"]
        self.fn_index = next(i for i, d in enumerate(dependencies) if d.get("api_name") == "stylize")

    def upload(self, name: str, data: bytes) -> tuple[int, str]:
        """(status, the stored path or the server's message)."""
        answer = self.http.post(self.url + "/upload", files=[("files", (name, data, "application/octet-stream"))])
        return answer.status_code, answer.json()[0] if answer.status_code == 200 else answer.text

    def stylize(self, photo: Any, method: str = "fast", style: Any = "starry-night", painting: Any = None,
                steps: Any = 10, strength: Any = 1) -> tuple[str, str]:
        """("done", "") | ("busy", message) | ("refused", message): the queue's answer to one request."""
        session = uuid.uuid4().hex
        form = [_file(photo), method, style, "", _file(painting), None, 0, strength, False, steps, "blend", None]
        joined = self.http.post(self.url + "/queue/join", json={"data": form, "fn_index": self.fn_index,
                                                                 "session_hash": session, "trigger_id": None,
                                                                 "event_data": None})
        if joined.status_code == 503 and "Queue is full" in joined.text:
            return "busy", joined.json().get("detail", joined.text)
        if joined.status_code != 200:
            return "refused", f"HTTP {joined.status_code}: {joined.text[:200]}"
        with self.http.stream("GET", self.url + "/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return "done", ""
                    return "refused", str(output.get("error"))
        return "failed", "the stream ended without an answer"


def _file(path: Any) -> Any:
    return path if path is None or isinstance(path, dict) else {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split(f"{field}:")[1].split()[0])


def load(client: Client, requests: int, pid: int) -> dict[str, Any]:
    """``requests`` concurrent requests (each uploads the photo); counts, latencies and RSS samples."""
    data = PHOTO.read_bytes()
    peak = [rss_kb(pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak.append(rss_kb(pid))

    def one(_: int) -> tuple[str, str, float]:
        started = time.perf_counter()
        try:
            status, path = client.upload(PHOTO.name, data)
            answer = client.stylize(path) if status == 200 else ("failed", f"upload: HTTP {status}: {path}")
        except Exception as exc:  # noqa: BLE001 - any client-side error is a failure to count
            answer = ("failed", f"{type(exc).__name__}: {exc}")
        return (*answer, time.perf_counter() - started)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(requests) as pool:
        answers = list(pool.map(one, range(requests)))
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    done = sorted(t for outcome, _, t in answers if outcome == "done")
    busy = sorted(t for outcome, _, t in answers if outcome == "busy")
    odd = [f"{outcome}: {message}"[:200] for outcome, message, _ in answers if outcome not in ("done", "busy")]
    return {"requests": requests, "handled": len(done), "busy": len(busy), "failed": len(odd),
            "first_failures": odd[:3], "seconds": round(seconds, 1),
            "handled_p50_s": _percentile(done, 50), "handled_p95_s": _percentile(done, 95),
            "busy_p50_s": _percentile(busy, 50), "rss_end_mb": round(rss_kb(pid) / 1024),
            "rss_peak_mb": round(max(peak) / 1024), "latencies_s": done}


def _percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2) if len(values) > 1 \
        else round(values[0], 2)


def attacks(client: Client, max_upload_bytes: int, folder: Path) -> dict[str, dict[str, Any]]:
    """Each attack once: {name: {"outcome", "message", "ok"}}; ``ok`` when refused with the expected words."""
    png = encode(picture("RGB"), "PNG")
    results: dict[str, dict[str, Any]] = {}

    def expect(name: str, answer: tuple[Any, str], words: str) -> None:
        outcome, message = answer
        refused = outcome in ("refused", 413)
        results[name] = {"outcome": outcome, "message": str(message)[:160],
                         "ok": refused and words.lower() in str(message).lower()}

    def uploaded(name: str, data: bytes) -> str:
        status, path = client.upload(name, data)
        if status != 200:
            raise RuntimeError(f"upload of {name!r} failed: {status} {path}")
        return path

    expect("oversize upload", client.upload("big.png", b"\0" * (max_upload_bytes + 1)), "maximum allowed size")
    expect("pixel bomb", client.stylize(uploaded("bomb.png", huge_png(100_000, 100_000))), "over the limit")
    expect("pixel bomb as painting", client.stylize(uploaded("ok.png", png), "adain", "",
                                                    uploaded("bomb.png", huge_png(30_000, 30_000))), "over the limit")
    expect("not an image", client.stylize(uploaded("text.png", b"hello, not an image\n" * 50)), "not an image")
    for name in ("../../etc/passwd.png", "/tmp/abs.png", "a\0b.png"):
        stored = uploaded(name, png)  # the name is reduced to a file name inside the app's folder
        answer = client.stylize(stored)
        inside = Path(stored).resolve().is_relative_to(folder.resolve())
        results[f"upload named {name!r}"] = {"outcome": answer[0], "stored_as": Path(stored).name,
                                            "ok": inside and answer[0] == "done"}
    for path in ("/etc/passwd", "../../etc/passwd.png", "/tmp/x\0.png", str(PHOTO)):
        expect(f"photo path {path!r}", client.stylize(path), "null byte" if "\0" in path else "not uploaded")
    photo = uploaded("ok.png", png)
    expect("style as a path", client.stylize(photo, style=str(PHOTO)), "not a style name")
    expect("style as a file name", client.stylize(photo, style="../../etc/passwd"), "not a style name")
    expect("model path outside", client.stylize(photo, method="model: /etc"), "unknown method")
    expect("method as a folder", client.stylize(photo, method=str(REPO / "src" / "stylefuse" / "weights")),
           "unknown method")
    expect("gatys steps past the cap", client.stylize(photo, "gatys", "", uploaded("p.png", png), steps=10**6),
           "steps must be between")
    expect("strength not a number", client.stylize(photo, strength="lots"), "must be a number")
    results["still serving"] = {"outcome": client.stylize(photo)[0]}
    results["still serving"]["ok"] = results["still serving"]["outcome"] == "done"
    return results


def written_outside(server: Server) -> tuple[list[str], list[str]]:
    """(paths the server wrote outside its temporary folder and stylefuse's weight cache, per the audit log or
    found as new files in its sandbox; the files it added to the weight cache)."""
    app, cache = server.folder.resolve(), (server.sandbox / "cache").resolve()
    events = [line.partition("\t")[::2] for line in server.audit.read_text(encoding="utf-8").splitlines()]
    # Python's tempfile probes the temporary folder with a file it removes at once, before it makes the app's
    removed = {path for event, path in events if event == "os.remove"}
    probes = {path for event, path in events if event == "open" and path in removed
              and Path(path).parent == (server.sandbox / "tmp")}
    outside = set()
    for event, path in events:
        resolved = Path(path).resolve()
        if not (resolved.is_relative_to(app) or resolved.is_relative_to(cache) or path in probes or
                path == "/dev/null"):
            outside.add(f"{event} {path}")
    for name in ("home", "tmp", "cwd"):
        for path in (server.sandbox / name).rglob("*"):
            if path.is_file() and not path.resolve().is_relative_to(app):
                outside.add(f"new file {path}")
    return sorted(outside), sorted(str(path.relative_to(cache)) for path in cache.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="concurrent requests of a wave")
    parser.add_argument("--waves", type=int, default=2, help="waves of concurrent requests (RSS must not grow)")
    parser.add_argument("--queue-size", type=int, default=16, help="the server's --queue-size")
    parser.add_argument("--concurrency", type=int, default=1, help="the server's --concurrency")
    parser.add_argument("--max-upload-mb", type=float, default=2.0, help="the server's --max-upload-mb")
    parser.add_argument("--no-attacks", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="stylefuse-web-load-") as sandbox:
        server = start(Path(sandbox), ["--queue-size", str(args.queue_size), "--concurrency", str(args.concurrency),
                                       "--max-upload-mb", str(args.max_upload_mb)])
        try:
            client = Client(server.url)
            result["server_start_s"] = round(server.start_seconds, 1)
            result["rss_idle_mb"] = round(rss_kb(server.process.pid) / 1024)
            result["waves"] = [load(client, args.requests, server.process.pid) for _ in range(args.waves)]
            if not args.no_attacks:
                result["attacks"] = attacks(client, int(args.max_upload_mb * 1e6), server.folder)
            result["peak_rss_mb"] = round(rss_kb(server.process.pid, "VmHWM") / 1024)
        finally:
            server.process.terminate()
            server.process.wait(timeout=60)
        result["folder_removed_at_exit"] = not server.folder.exists()
        result["written_outside"], result["weight_cache_writes"] = written_outside(server)
    waves, attacked = result["waves"], list(result.get("attacks", {}).values())
    latencies = sorted(t for wave in waves for t in wave.pop("latencies_s"))
    result.update(handled_p50_s=_percentile(latencies, 50), handled_p95_s=_percentile(latencies, 95))
    result.update(handled=sum(w["handled"] for w in waves), busy=sum(w["busy"] for w in waves),
                  refused_invalid=sum(a["outcome"] in ("refused", 413) for a in attacked),
                  failed=sum(w["failed"] for w in waves) + sum(not a["ok"] for a in attacked))
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["failed"] or result["written_outside"] or not result["folder_removed_at_exit"] else 0)


if __name__ == "__main__":
    main()
