"""Devices: ``--device auto|cpu|cuda|mps`` (or ``cuda:N``) resolved and checked in one place, and what this
machine offers (``stylefuse info``).

Everything runs in float32 on every device: half precision is only used where it is measured to be safe, which
today is the mixed-precision (AMP) training on CUDA that :mod:`stylefuse.train.loop` already switches on.
"""

from __future__ import annotations

from stylefuse.errors import OptionError
from stylefuse.onnx_runtime import default_threads

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DEVICE_HELP = "auto (cuda if available, else mps, else cpu), cpu, cuda (or cuda:N) or mps."


def resolve_device(name: str = "auto") -> str:
    """The device to run on: ``auto`` becomes ``cuda`` when a CUDA GPU is usable, else ``mps`` when Apple's
    Metal is, else ``cpu``; any other name is checked (:func:`check_device`) and returned as given."""
    if name == "auto":
        import torch

        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _has_mps() else "cpu"
    check_device(name)
    return name


def check_device(name: str):
    """The torch device ``name`` ("cpu", "cuda", "cuda:1", "mps"), refused with one line when this machine
    does not have it."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise OptionError(f"--device {name!r} is not a device; use {', '.join(DEVICE_CHOICES)}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise OptionError(f"--device {name}: no CUDA GPU is usable here; use --device cpu (or auto)")
        if device.index is not None and device.index >= count:
            raise OptionError(f"--device {name}: this machine has {count} CUDA GPU(s) (cuda:0 .. cuda:{count - 1})")
    elif device.type == "mps" and not _has_mps():
        raise OptionError(f"--device {name}: Apple MPS is not available here; use --device cpu (or auto)")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise OptionError(f"--device {name}: stylefuse runs on {', '.join(DEVICE_CHOICES)}")
    return device


def _has_mps() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def device_report() -> list[tuple[str, str]]:
    """(key, value) rows: PyTorch's version and threads, each CUDA GPU (name, memory), MPS, and ONNX Runtime's
    version, providers and threads."""
    import torch

    rows = [("torch", torch.__version__), ("torch threads", str(torch.get_num_threads()))]
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for index in range(count):
        properties = torch.cuda.get_device_properties(index)
        rows.append((f"cuda:{index}", f"{properties.name}, {properties.total_memory / 2**30:.1f} GiB"))
    if not count:
        rows.append(("cuda", "not available" + (f" (torch built for CUDA {torch.version.cuda})"
                                                if torch.version.cuda else " (torch built without CUDA)")))
    rows.append(("mps", "available" if _has_mps() else "not available"))
    rows.append(("device auto", resolve_device("auto")))
    try:
        import onnxruntime
    except ImportError:
        rows.append(("onnxruntime", "not installed (pip install 'stylefuse[onnx]')"))
    else:
        rows += [("onnxruntime", onnxruntime.__version__),
                 ("ort providers", ", ".join(onnxruntime.get_available_providers())),
                 ("ort threads", str(default_threads() or "one per physical core"))]
    return rows
