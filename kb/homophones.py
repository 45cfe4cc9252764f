"""The knowledge base's own words that a caller's homophones stand for.

Speech recognition writes what it heard: 公正处 for 公证处, 养老保显 for 养老保险.  A run of two to
four characters that is not a word of the knowledge base's titles and question variants but
sounds like one (the folded pinyin of the sound bigrams, so n/l, z/zh … count as the same) is
taken to mean that word.  The words found are searched *beside* the caller's words, never
instead of them, and only by the word views: a wrong guess (是怎 → 市政) adds a weak term, while
the sentence vectors still read exactly what was said.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable, Iterable

import jieba

from .text import STOPWORDS

LENGTHS = (4, 3, 2)  # longest first
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


class HomophoneWords:
    def __init__(self, texts: Iterable[str], sound_key: Callable[[str], str]):
        counts = Counter(w for text in texts for run in _HAN_RUN.findall(text)
                         for w in jieba.cut(run) if LENGTHS[-1] <= len(w) <= LENGTHS[0])
        self.words = frozenset(counts)
        self._sound_key = sound_key
        self._by_sound: dict[str, str] = {}
        for word, _ in counts.most_common():  # the commonest word keeps a shared sound
            self._by_sound.setdefault(sound_key(word), word)

    def __call__(self, text: str) -> list[str]:
        """Knowledge-base words the text's sound-alike runs stand for, in order."""
        found = []
        for run in _HAN_RUN.findall(text):
            i = 0
            while i < len(run):
                i += self._step(run, i, found)
        return found

    def _step(self, run: str, i: int, found: list[str]) -> int:
        """How far to move on from `run[i]`: past the longest KB word or sound-alike there
        (appending the word a sound-alike stands for to `found`), else one character."""
        for n in LENGTHS:
            part = run[i:i + n]
            if len(part) < n:
                continue
            if part in self.words:
                return n
            word = self._by_sound.get(self._sound_key(part))
            if word is not None and part not in STOPWORDS:
                found.append(word)
                return n
        return 1
