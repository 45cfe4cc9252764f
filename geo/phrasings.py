"""Everyday phrasings of real addresses, without recognition errors: a check set.

Why: the hard sets corrupt names; they do not say addresses the way neighbours do, and each
such way the matcher had never met was a hole found by hand (王家庄 for 王家庄村 answered
11 % of the time, a building said 3号搂 never).  Each form here is one of those ways, said
clean, about a place whose name the city has once — so a confident right answer is the
only right one — and scored per form by `bench/geo.py` (and on a sample by the tests).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from .gazetteer import Address
from .index import says_nothing

_SENTENCES = ("我家在{a}这边路灯不亮", "我是{a}的，想反映个事", "{a}这里垃圾好几天没人清", "地址是{a}")
_DORMS = (("宿舍楼", "宿舍"), ("家属楼", "家属院"), ("家属院", "宿舍"), ("宿舍", "家属院"))


@dataclass(frozen=True)
class PhrasedQuery:
    query_id: str
    text: str
    gold: str  # address_code
    form: str


def _village_short(row: Address) -> str | None:
    short = row.community[:-1]
    return short if row.community.endswith("村") and len(short) >= 3 and not says_nothing(short) else None




class PhrasingSetMaker:
    def __init__(self, rows: list[Address], seed: int = 2026):
        self.rng = random.Random(seed)
        self.rows = rows
        self.names = names = Counter()
        for r in rows:
            if r.level == "compound":
                names.update({r.compound, *r.aliases})
            elif r.level == "community":
                names[r.community] += 1
        self.by_code = {r.address_code: r for r in rows}

        def unique(r: Address) -> bool:
            return names[r.community if r.level == "community" else r.compound] == 1

        self.villages = [r for r in rows if r.level == "community" and r.community.endswith("村") and unique(r)]
        self.communities = [r for r in rows if r.level == "community" and r.community.endswith("社区") and unique(r)]
        self.compounds = [r for r in rows if r.level == "compound" and unique(r)]
        self.buildings = [r for r in rows if r.level == "building" and r.building.endswith("号楼")
                          and r.building[:-2].isdigit() and unique(r)]

    def _compound(self, building: Address) -> Address | None:
        return self.by_code.get(building.address_code[:-2] + "00")

    def _dorm_swapped(self, row: Address) -> str | None:
        """财政局宿舍 said 财政局家属院 — unless that is another place's name."""
        for written, said in _DORMS:
            if row.compound.endswith(written):
                other = row.compound[:-len(written)] + said
                return None if self.names[other] else other
        return None

    def forms(self) -> dict[str, tuple[list[Address], Callable[[Address], str | None]]]:
        """Each form: the rows it can be said of, and how (None: not of this row)."""
        rng = self.rng

        def building(r: Address, unit_word: str = "单元", building_word: str = "号楼") -> str:
            return f"{self._compound(r).compound}{r.building[:-2]}{building_word}{rng.randint(1, 4)}{unit_word}"

        return {
            "village_without_cun": (self.villages, _village_short),
            "village_with_committee": (self.villages, lambda r: r.community + "村委会旁边"),
            "village_group": (self.villages, lambda r: r.community + rng.choice(("三组", "二队", "东头"))),
            "town_then_village": (self.villages, lambda r: r.town + r.community),
            "community_committee": (self.communities, lambda r: r.community + "居委会"),
            "compound_with_xiaoqu": (self.compounds, lambda r: None if r.compound.endswith(("小区", "村"))
                                     else r.compound + "小区"),
            "compound_gate": (self.compounds, lambda r: r.compound + rng.choice(("北门", "南门口", "东门", "大门口"))),
            "dormitory_word_swapped": (self.compounds, self._dorm_swapped),
            "building_and_unit": (self.buildings, building),
            "building_word_misheard": (self.buildings, lambda r: building(r, building_word=rng.choice(
                ("号搂", "号喽", "好楼")))),
            "unit_word_misheard": (self.buildings, lambda r: building(r, unit_word=rng.choice(("单园", "担元")))),
        }

    def make(self, per_form: int) -> list[PhrasedQuery]:
        out: list[PhrasedQuery] = []
        for form, (rows, say) in self.forms().items():
            pool = list(rows)
            self.rng.shuffle(pool)
            made = 0
            for row in pool:
                if made == per_form:
                    break
                if row.level == "building" and self._compound(row) is None:
                    continue
                said = say(row)
                if said is None:
                    continue
                text = self.rng.choice(_SENTENCES).format(a=said)
                out.append(PhrasedQuery(f"{form}-{made + 1:04d}", text, row.address_code, form))
                made += 1
        return out
