"""Speech-like noise for KB questions (deterministic for a seed): homophones of content
characters, fillers inserted and punctuation lost, as a transcript would show them; and the
question after the caller's opening words, as the agent console searches it (its last
three utterances)."""

from __future__ import annotations

import random
import re
from collections import defaultdict

from pypinyin import Style, lazy_pinyin

from .text import STOPWORDS

_FILLERS = ("嗯", "那个", "就是", "呃", "这个")
_OPENINGS = (
    ("喂你好", "你好", "哎你好啊", "您好请问是12345吗"),
    ("我姓王", "我是张店区的居民", "我姓刘住在淄川", "我是周村那边的", "我家在临淄", "我是外地来的"),
    ("有个事想问问", "想咨询个事情", "我打电话是想问一下", "麻烦你帮我问个事"),
)
_PUNCT = re.compile(r"[，。？！、,.?!：:；;“”\"'（）()\s]")


class KbNoise:
    def __init__(self, texts: list[str], seed: int = 2026):
        self.random = random.Random(seed)
        self.by_sound: dict[str, list[str]] = defaultdict(list)
        for ch in sorted({c for t in texts for c in t if "\u4e00" <= c <= "\u9fff"}):
            self.by_sound[lazy_pinyin(ch, style=Style.NORMAL)[0]].append(ch)

    def homophones(self, text: str, n: int = 2) -> str:
        """Replace up to n content characters with characters that sound the same."""
        chars = list(text)
        positions = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff" and c not in STOPWORDS]
        self.random.shuffle(positions)
        changed = 0
        for i in positions:
            pool = [c for c in self.by_sound[lazy_pinyin(chars[i], style=Style.NORMAL)[0]] if c != chars[i]]
            if pool:
                chars[i] = self.random.choice(pool)
                changed += 1
                if changed == n:
                    break
        return "".join(chars)

    def spoken(self, text: str) -> str:
        """No punctuation, and two fillers where a caller pauses."""
        words = _PUNCT.sub("", text)
        for _ in range(2):
            at = self.random.randrange(0, len(words) + 1)
            words = words[:at] + self.random.choice(_FILLERS) + words[at:]
        return words

    def in_call(self, text: str) -> str:
        """The spoken question after two of the caller's opening utterances (greeting, who
        and where they are, why they call), with no punctuation."""
        kinds = self.random.sample(range(len(_OPENINGS)), 2)
        opening = "".join(self.random.choice(_OPENINGS[k]) for k in sorted(kinds))
        return opening + self.spoken(text)
