"""``stylefuse export``: a trained model folder as an ONNX or TorchScript file.

The folder loads through :func:`stylefuse.hub.load` like any model; its stylizer describes its network
(:meth:`~stylefuse.methods._base.Stylizer.export_graph`), which is written with dynamic batch, height and
width. ONNX files carry the input multiple and the style names as metadata; ``int8`` applies ONNX
Runtime's dynamic quantisation to the weights.
"""

from __future__ import annotations

import os
from pathlib import Path

from stylefuse.errors import OptionError

FORMATS = ("onnx", "torchscript")


def export_model(model: str | os.PathLike, output: str | os.PathLike, fmt: str = "onnx", int8: bool = False,
                 method: str | None = None, part: str | None = None) -> Path:
    """Export a model folder's network to ``output``, atomically.

    Args:
        model: a model folder (fast, generator or inverter).
        output: the file to write.
        fmt: "onnx" or "torchscript".
        int8: quantise the weights to int8 (ONNX only).
        method: load the folder with this method instead of the recorded one.
        part: a named part of the network instead of the whole (the fast network's ``stylizer``, ``tables``
            or ``predictor``: :meth:`~stylefuse.methods.fast.FastStylizer.export_part`).

    Returns:
        The path written.
    """
    from stylefuse import hub
    from stylefuse.fileutil import atomic_write
    from stylefuse.nn import export

    if fmt not in FORMATS:
        raise OptionError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if int8 and fmt != "onnx":
        raise OptionError("--int8 quantises ONNX models only; add --format onnx")
    stylizer = hub.load(model, method)
    graph = stylizer.export_graph() if part is None else stylizer.export_part(part)
    data = export.onnx_bytes(graph) if fmt == "onnx" else export.torchscript_bytes(graph)
    if int8:
        data = export.quantize_int8(data)
    output = Path(output)
    if output.parent and not output.parent.exists():
        output.parent.mkdir(parents=True)
    return atomic_write(output, lambda target: target.write_bytes(data), durable=True)  # a model

