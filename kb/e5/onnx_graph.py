"""The e5 encoder as an ONNX graph, with its weight matrices quantised to int8.

Input: token embeddings (word + position + type, looked up in numpy) [batch, tokens, hidden]
and a 0/1 mask [batch, tokens]; output: the masked mean of the last layer [batch, hidden]
(L2-normalise it for cosine similarity).  The weights come from the model file's 4-bit
matrices; ONNX Runtime's dynamic quantisation stores them as int8 per output channel.  With
its fused attention (one op per layer instead of eleven) and int8 kernels a query runs about
four times faster than in the 4-bit engine on one core; the vectors agree with the engine's
to a cosine of ≥ 0.99.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path

import numpy as np

from .model_file import ModelFile

GRAPH_VERSION = 2  # bump when the graph changes: cached graphs are rebuilt


class _Builder:
    def __init__(self):
        from onnx import numpy_helper

        self._from_array = numpy_helper.from_array
        self.nodes: list = []
        self.initialisers: list = []

    def const(self, name: str, value, dtype=np.float32) -> str:
        self.initialisers.append(self._from_array(np.ascontiguousarray(value, dtype=dtype), name))
        return name

    def op(self, kind: str, inputs: list[str], output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(kind, inputs, [output], **attrs))
        return output

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        """x @ weight.T + bias (weight rows are outputs, as in the model file)."""
        product = self.op("MatMul", [x, self.const(name + ".w", weight.T)], name + ".xw")
        return self.op("Add", [product, self.const(name + ".b", bias)], name)

    def layer_norm(self, x: str, weight: np.ndarray, bias: np.ndarray, eps: float, name: str) -> str:
        return self.op("LayerNormalization",
                       [x, self.const(name + ".w", weight), self.const(name + ".b", bias)],
                       name, axis=-1, epsilon=eps)


def float_graph(model: ModelFile):
    """The whole encoder in float32 (onnx ModelProto)."""
    from onnx import TensorProto, helper

    s = model.sizes
    h = s.hidden
    g = _Builder()
    f = model.floats
    x = g.layer_norm("embeddings", f("emb.ln.w", (h,)), f("emb.ln.b", (h,)), s.eps, "emb.ln")
    # self-attention over each text's own tokens (ONNX Runtime's fused op; int8 once quantised)
    g.op("Cast", ["mask"], "mask.index", to=TensorProto.INT32)
    for n in range(s.layers):
        p = f"l{n}."
        qkv_w = np.concatenate([model.matrix(p + t + ".w", h, h) for t in "qkv"])
        qkv_b = np.concatenate([f(p + t + ".b", (h,)) for t in "qkv"])
        context = g.op("Attention",
                       [x, g.const(p + "qkv.w", qkv_w.T), g.const(p + "qkv.b", qkv_b), "mask.index"],
                       p + "ctx", domain="com.microsoft", num_heads=s.heads)
        attended = g.linear(context, model.matrix(p + "ao.w", h, h), f(p + "ao.b", (h,)), p + "ao")
        x = g.layer_norm(g.op("Add", [x, attended], p + "res1"),
                         f(p + "aln.w", (h,)), f(p + "aln.b", (h,)), s.eps, p + "aln")
        inner = g.linear(x, model.matrix(p + "fi.w", s.ffn, h), f(p + "fi.b", (s.ffn,)), p + "fi")
        inner = g.op("Gelu", [inner], p + "gelu")
        out = g.linear(inner, model.matrix(p + "fo.w", h, s.ffn), f(p + "fo.b", (h,)), p + "fo")
        x = g.layer_norm(g.op("Add", [x, out], p + "res2"),
                         f(p + "oln.w", (h,)), f(p + "oln.b", (h,)), s.eps, p + "oln")
    g.const("token_axis", [1], np.int64)
    g.const("feature_axis", [2], np.int64)
    masked = g.op("Mul", [x, g.op("Unsqueeze", ["mask", "feature_axis"], "mask.3d")], "masked")
    total = g.op("ReduceSum", [masked, "token_axis"], "total", keepdims=0)
    count = g.op("ReduceSum", ["mask", "token_axis"], "count", keepdims=1)
    g.op("Div", [total, count], "pooled")
    graph = helper.make_graph(
        g.nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", h]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", h])],
        g.initialisers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20),
                                                         helper.make_opsetid("com.microsoft", 1)])
    onnx_model.ir_version = 9
    return onnx_model


def build_int8(model: ModelFile, target: Path) -> None:
    """Write the int8 graph to `target` (atomically: a half-written file never appears)."""
    import os

    import onnx

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".e5-build-") as tmp, _root_log_kept():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        float_path, int8_path = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        onnx.save(float_graph(model), float_path)
        quantize_dynamic(float_path, int8_path, weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(int8_path, target)


@contextlib.contextmanager
def _root_log_kept():
    """ONNX Runtime's quantiser configures the root logger when imported and logs hints on
    it; keep the application's logging as it was."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
