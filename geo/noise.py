"""Speech-recognition-like noise for robustness evaluation (deterministic for a seed).

Variants of a query whose gold row is known: a character of the spoken name replaced by a
homophone (松龄路 → 松林路 … same toneless pinyin), by a dialect twin (n/l, f/h, z/zh, c/ch,
s/sh, an/ang, en/eng, in/ing), or dropped; and queries about addresses the gazetteer does
not have (gold NONE), made from real-sounding invented names.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from .gazetteer import Address
from common.zhtext import SoundKey, fold_syllable

from .text import normalize_name

NOISE_KINDS = ("homophone", "dialect", "drop")
_TEMPLATES = ("{a}的路灯坏了好几天了", "我想问一下{a}属于哪个社区管", "{a}有辆车停了一个多月没人管",
              "你好，我想反映一下{a}的垃圾没人清", "{a}停水了，也没提前通知", "喂，地址是{a}")
_FAKE_HEADS = ("锦绣", "翡翠", "御景", "紫荆", "润泽", "春晖", "鸿运", "瑞祥", "云栖", "沁心",
               "星光", "枫林", "海棠", "金穗", "凤栖", "望湖", "清溪", "松涛", "麒麟", "玉兰")
_FAKE_TAILS = ("华庭", "雅苑", "名邸", "公馆", "新城", "嘉园", "府邸", "雅居", "花语", "观邸")
_FAKE_ROADS = ("琥珀路", "翡翠大道", "紫薇街", "锦鲤巷", "青鸾路", "白鹭街", "银杏大道", "芙蓉巷")


@dataclass(frozen=True)
class NoisyQuery:
    query_id: str
    text: str
    gold: str  # address_code or "NONE"
    noise: str


def _syllable(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL)[0]


class NoiseMaker:
    def __init__(self, rows: list[Address], seed: int = 12345):
        self.random = random.Random(seed)
        self.by_sound: dict[str, list[str]] = defaultdict(list)  # raw syllable → chars
        self.by_fold: dict[str, list[str]] = defaultdict(list)  # folded syllable → chars
        chars = sorted({ch for r in rows for ch in r.compound + r.community + r.road
                        if "\u4e00" <= ch <= "\u9fff"})
        for ch in chars:
            syllable = _syllable(ch)
            self.by_sound[syllable].append(ch)
            self.by_fold[fold_syllable(syllable)].append(ch)
        self.known_names = {n for r in rows for n in (r.compound, r.community, r.road, *r.aliases) if n}
        self.sound = SoundKey()
        self.known_sounds = {self.sound.key(normalize_name(n)) for n in self.known_names}

    def sounds_known(self, name: str) -> bool:
        """True when the name, or three or more sounds of it, sound like a real name."""
        key = self.sound.key(normalize_name(name))
        return any(key[i:j] in self.known_sounds
                   for i in range(len(key)) for j in range(i + 3, len(key) + 1))

    def _replace(self, name: str, kind: str) -> str | None:
        positions = [i for i, ch in enumerate(name) if "\u4e00" <= ch <= "\u9fff"]
        self.random.shuffle(positions)
        for i in positions:
            syllable = _syllable(name[i])
            if kind == "homophone":
                pool = [c for c in self.by_sound[syllable] if c != name[i]]
            else:  # dialect: folds to the same key, but is said differently
                pool = [c for c in self.by_fold[fold_syllable(syllable)] if _syllable(c) != syllable]
            if pool:
                return name[:i] + self.random.choice(pool) + name[i + 1:]
        return None

    def corrupt(self, text: str, name: str, kind: str) -> str | None:
        """Apply one error of `kind` to the first occurrence of `name` in `text`."""
        at = text.find(name)
        if at < 0 or len(name) < 3:
            return None
        if kind == "drop":
            i = self.random.randrange(1, len(name))  # callers rarely lose the first sound
            noisy = name[:i] + name[i + 1:]
        else:
            noisy = self._replace(name, kind)
        if noisy is None or noisy in self.known_names:
            return None
        return text[:at] + noisy + text[at + len(name):]

    def fake_addresses(self, n: int, templates: tuple[str, ...] = _TEMPLATES) -> list[NoisyQuery]:
        """Queries about compounds and roads that do not exist (gold NONE)."""
        out = []
        while len(out) < n:
            if self.random.random() < 0.6:
                name = self.random.choice(_FAKE_HEADS) + self.random.choice(_FAKE_TAILS)
                address = name + (f"{self.random.randint(1, 30)}号楼" if self.random.random() < 0.5 else "")
            else:
                name = self.random.choice(_FAKE_ROADS)
                address = f"{name}{self.random.randint(1, 400)}号"
            if name in self.known_names or self.sounds_known(name):
                continue
            text = self.random.choice(templates).format(a=address)
            out.append(NoisyQuery(f"none-{len(out) + 1:04d}", text, "NONE", "not_in_gazetteer"))
        return out


def noisy_queries(index, queries: list, seed: int = 7) -> dict[str, list]:
    """Noisy variants of evaluation queries (geo.evaluate.Query), by kind, plus 200
    invented addresses (gold NONE).  A query whose gold name is not in its text is skipped."""
    from .evaluate import NONE, Query

    maker = NoiseMaker(index.rows, seed)
    sets: dict[str, list] = {}
    for kind in NOISE_KINDS:
        out = []
        for q in queries:
            row = index.row_by_code(q.gold)
            if row is None:
                continue
            parent = index.row_by_code(q.gold[:-2] + "00") if row.level == "building" else None
            names = [n for n in (row.compound, *(parent.aliases if parent else row.aliases),
                                 row.road, row.community) if n and n in q.text]
            text = maker.corrupt(q.text, names[0], kind) if names else None
            if text:
                out.append(Query(f"{q.query_id}-{kind}", text, q.gold))
        sets[kind] = out
    sets["not_in_gazetteer"] = [Query(f.query_id, f.text, NONE) for f in maker.fake_addresses(200)]
    return sets
