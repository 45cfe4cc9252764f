"""Analysers for Chinese KB search: words (jieba), character bigrams, sound bigrams."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

from common.zhtext import FILLERS, SoundKey

jieba.setLogLevel(logging.WARNING)

SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms.txt"
ACTIONS_FILE = Path(__file__).parent / "data" / "actions.txt"
STOPWORDS = frozenset("""
的 了 吗 呢 啊 吧 呀 哦 嘛 我 我们 你 你们 他 她 它 要 想 能 能不能 可以 可不可以 怎么 怎么样
怎样 如何 什么 哪里 哪儿 哪 去 在 有 是 不 没 没有 一下 问 问一下 请问 那个 这个 就是 嗯 呃 还
又 和 跟 给 都 也 到 多久 几 个 拿 带 上 下 里 要不要 是不是 会 得 地 着 过 现在 已经 需要 准备
一个 这边 那边 我家 家里 之前 以后 时候 能否 有没有 咋 啥 喂 你好 您好 谢谢 麻烦 帮 帮忙 一些 那
这 些 么 对 好 吧 请 该 应该 还是 或者 但是 因为 所以 如果 然后
""".split())
_NON_TEXT = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


def _word_table(path: Path) -> list[tuple[str, str]]:
    """`left = right` lines of a word list; `#` starts a comment."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            left, right = (part.strip() for part in line.split("=", 1))
            if left and right:
                pairs.append((left, right))
    return pairs


@lru_cache(maxsize=1)
def synonyms() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_word_table(SYNONYMS_FILE), key=lambda p: -len(p[0])))


@lru_cache(maxsize=1)
def title_actions() -> dict[str, tuple[str, ...]]:
    """Action word in a title → the words by which a caller asks for it."""
    return {action: (action, *cues.split()) for action, cues in _word_table(ACTIONS_FILE)}


def unsaid_actions(actions: tuple[str, ...], said: str) -> int:
    """How many of a title's actions the caller's words give no sign of wanting."""
    table = title_actions()
    return sum(not any(cue in said for cue in table[a]) for a in actions)


def clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    for filler in FILLERS:
        text = text.replace(filler, " ")
    return text


def expand(text: str) -> str:
    """The caller's words followed by the official terms they stand for."""
    extra = [official for word, official in synonyms() if word in text]
    return text + (" " + " ".join(extra) if extra else "")


def words(text: str) -> list[str]:
    return [w for w in jieba.cut_for_search(_NON_TEXT.sub(" ", text))
            if w.strip() and w not in STOPWORDS]


def bigrams(text: str) -> list[str]:
    out = []
    for run in _NON_TEXT.split(text):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


class SoundBigrams:
    """Bigrams of folded pinyin: survive homophone errors of speech recognition."""

    def __init__(self):
        self.key = SoundKey()

    def __call__(self, text: str) -> list[str]:
        out = []
        for run in _NON_TEXT.split(text):
            keyed = self.key.key(run)
            out.extend(keyed[i:i + 2] for i in range(len(keyed) - 1))
        return out
