"""Feed-forward networks as portable graphs: ONNX (for ONNX Runtime) and TorchScript.

A stylizer that can be exported describes its network with an :class:`ExportGraph` (the module, example
inputs, names, which axes are dynamic); :func:`onnx_bytes` and :func:`torchscript_bytes` turn it into a
file's bytes. The same export serves ``stylefuse export`` and the fast stylizer's ONNX Runtime backend.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

OPSET = 17


@dataclass
class ExportGraph:
    """A network ready to export.

    Attributes:
        module: ``forward(*inputs) -> image``; images are (B, 3, H, W) in [0, 1].
        inputs: example inputs, in the order of ``forward``'s arguments.
        input_names: one name per input; the first one is the image.
        dynamic_axes: {input name: {axis: axis name}} (batch, height, width).
        multiple: height and width of the image must be multiples of this (the network's stride).
        metadata: strings written into the ONNX file's metadata (style names, method, ...).
        output_name, output_axes: the output's name and dynamic axes (None: those of an image).
    """

    module: nn.Module
    inputs: tuple[torch.Tensor, ...]
    input_names: tuple[str, ...]
    dynamic_axes: dict[str, dict[int, str]]
    multiple: int = 1
    metadata: dict[str, str] = field(default_factory=dict)
    output_name: str = "stylized"
    output_axes: dict[int, str] | None = None


IMAGE_AXES = {0: "batch", 2: "height", 3: "width"}
"""The dynamic axes of an image input (B, 3, H, W)."""


def onnx_bytes(graph: ExportGraph) -> bytes:
    """The graph as an ONNX model (opset :data:`OPSET`, dynamic axes as declared, metadata attached)."""
    import onnx

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the exporter's notes on instance norm and slicing concern training
        warnings.simplefilter("ignore")
        torch.onnx.export(graph.module.cpu().eval(), graph.inputs, buffer, dynamo=False,
                          input_names=list(graph.input_names), output_names=[graph.output_name],
                          opset_version=OPSET,
                          dynamic_axes={**graph.dynamic_axes, graph.output_name: graph.output_axes or IMAGE_AXES})
    model = onnx.load_from_string(buffer.getvalue())
    for key, value in {"multiple": str(graph.multiple), **graph.metadata}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model.SerializeToString()


def torchscript_bytes(graph: ExportGraph) -> bytes:
    """The graph traced to TorchScript (convolutions and pointwise maths follow any input size); PyTorch
    marks TorchScript deprecated, but it is what C++ and mobile runtimes load today."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.freeze(torch.jit.trace(graph.module.cpu().eval(), graph.inputs, check_trace=False))
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={"multiple": str(graph.multiple)})
    return buffer.getvalue()


def quantize_int8(model: bytes) -> bytes:
    """Dynamic int8 quantisation of an ONNX model's weights (ONNX Runtime's ``quantize_dynamic``:
    weights stored as int8, activations quantised on the fly)."""
    import logging
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs a warning per integer tensor it leaves alone (pad sizes)
    try:
        with tempfile.TemporaryDirectory() as folder:
            source, target = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
            source.write_bytes(model)
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
            return target.read_bytes()
    finally:
        root.setLevel(level)
