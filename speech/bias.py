"""Address biasing: re-decode one utterance with a phrase list (a runtime grammar).

Small Vosk models (lookahead graphs, like vosk-model-small-cn-0.22) accept a list of
phrases plus "[unk]" at run time.  `second_pass` decodes the utterance's audio again with
such a list — e.g. the road and compound names of the district heard so far — and returns
both readings, so the address matcher can try both.  Words not in the model's vocabulary
are dropped from the list by Vosk (the Chinese model's words are jieba-like: give phrases
split into words, "松龄 路").
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .recognizer import Final, new_recognizer


@dataclass(frozen=True)
class SecondPass:
    first: str  # the free decode
    biased: str  # the decode restricted to the phrases (and [unk])
    seconds: float  # time the second pass took


def second_pass(model, utterance: Final | np.ndarray, phrases: Iterable[str],
                first: str | None = None) -> SecondPass:
    audio = utterance.audio if isinstance(utterance, Final) else utterance
    text = utterance.text if isinstance(utterance, Final) else (first or "")
    grammar = sorted({p.strip() for p in phrases if p.strip()}) + ["[unk]"]
    started = time.perf_counter()
    recognizer = new_recognizer(model, grammar=grammar)
    recognizer.AcceptWaveform(np.asarray(audio, dtype=np.int16).tobytes())
    biased = json.loads(recognizer.FinalResult()).get("text", "")
    biased = " ".join(w for w in biased.split() if w != "[unk]")
    return SecondPass(text, biased, time.perf_counter() - started)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance / reference length (rapidfuzz's Levenshtein on word lists)."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)
