"""Harder evaluation sets for the address matcher, made from the gazetteer itself.

Why: the dev queries share 40 sentence templates and one way of adding noise; a matcher
tuned on them learns those.  These sets are built differently — other sentences, the
district and town left out more often, no punctuation most of the time, numbers as a
recogniser writes them, village and community names now and then without their 村 / 社区 (as
neighbours say them), a numbering word now and then written as other characters of its
sound (号搂, 单园), and one to three recognition errors anywhere in the address
(dropped, inserted, stuttered, homophone and dialect characters) — and they are split by
address: `build` for developing, `heldout` for judging a change once, at the end.

Every query records the noise it carries, so accuracy can be read per kind of noise.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass

from .gazetteer import Address
from .index import says_nothing
from .noise import NoiseMaker

SPLITS = ("build", "heldout")

# Sentences unlike the dev set's: how callers in Zibo open or wrap an address.
_SENTENCES = (
    "俺家在{a}这两天下水道返味儿", "我是{a}的住户想反映个事", "麻烦你们管管{a}楼下那个烧烤摊",
    "{a}门口井盖没了晚上很危险", "我要投诉{a}的物业不作为", "{a}晚上施工太吵了睡不着觉",
    "你好我这边是{a}", "地址{a}", "{a}", "{a}这里有人私搭乱建", "我住{a}暖气一直不热",
    "就在{a}那个位置路面塌了个坑", "{a}这块儿好几天没来水了", "我们{a}电梯又坏了",
    "位置是{a}你记一下", "{a}有家饭店油烟直排", "帮我查查{a}归哪个网格", "我在{a}看见有人倒渣土",
    "{a}的路灯不亮了好几天了", "{a}附近有个小作坊天天冒黑烟", "喂你好我想反映一下{a}的路面坏了车过不去",
    "{a}那边的下水道堵了麻烦派人来看看", "我家是{a}的暖气费怎么交", "麻烦记一下地址是{a}谢谢",
    "{a}旁边那个工地夜里还在施工", "我们这里是{a}垃圾没人清",
)
_PARTICLES = ("的", "呃", "啊", "嗯", "这", "那")
_STRAY = "一了是在有人不个上来到说们"
_NUM_WORDS = "零一二三四五六七八九"

# Error kinds, and the admin/number variations, as recorded in the `noise` column.
ERRORS = ("drop", "insert", "stutter", "homophone", "dialect")
UNKNOWN_BUILDING_SHARE = 0.06  # building queries whose number the compound lacks (gold: the compound)
EVERYDAY_FORM_SHARE = 0.25  # village and community names said without 村 / 社区
NUMBERING_HOMOPHONE_SHARE = 0.15  # a numbering word (号楼, 单元) written as other characters of its sound
_NUMBERING_HOMOPHONES = {"号楼": ("号搂", "号喽", "好楼", "浩楼"), "单元": ("单园", "担元", "丹元", "单员")}


def _building_no(row: Address) -> int | None:
    number = row.building.rstrip("号楼") or "0"
    return int(number) if number.isdigit() else None


def _compound_code(address_code: str) -> str:
    """A building's compound (its code ends 00 where the building's number was)."""
    return address_code[:-2] + "00"


@dataclass(frozen=True)
class HardQuery:
    query_id: str
    text: str
    gold: str  # address_code or NONE
    level: str
    noise: tuple[str, ...]


def split_of(address_code: str) -> str:
    """Which split an address belongs to: fixed by its code, so sets never share an address."""
    digest = hashlib.sha1(address_code[:15].encode()).digest()  # a compound and its buildings together
    return "heldout" if digest[0] % 5 == 0 else "build"


def spoken_number(value: int, rng: random.Random) -> str:
    """How a caller says a number: 一百四十五, or digit by digit (幺五零二) for long ones."""
    if value >= 100 and rng.random() < 0.4:
        return "".join("幺" if d == "1" and rng.random() < 0.5 else _NUM_WORDS[int(d)]
                       for d in str(value))
    if value < 10:
        return "两" if value == 2 and rng.random() < 0.3 else _NUM_WORDS[value]
    if value < 20:
        return "十" + (_NUM_WORDS[value % 10] if value % 10 else "")
    if value < 100:
        return _NUM_WORDS[value // 10] + "十" + (_NUM_WORDS[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        if rest == 0:
            tail = ""
        elif rest < 10:
            tail = "零" + _NUM_WORDS[rest]
        else:
            tail = ("一" if rest < 20 else "") + spoken_number(rest, rng)
        return _NUM_WORDS[value // 100] + "百" + tail
    return "".join(_NUM_WORDS[int(d)] for d in str(value))


class HardSetMaker:
    def __init__(self, rows: list[Address], seed: int):
        self.rng = random.Random(seed)
        self.noise = NoiseMaker(rows, seed)
        self.noise.random = self.rng
        self.rows = rows
        self.by_code = {r.address_code: r for r in rows}
        names = Counter()
        for r in rows:
            if r.level == "compound":
                names.update({r.compound, *r.aliases})
            elif r.level == "community":
                names[r.community] += 1
        self.name_count = names  # a name used twice in the city needs its district said
        self.building_numbers: dict[str, set[int]] = {}  # compound code → its buildings' numbers
        for r in rows:
            if r.level == "building" and (number := _building_no(r)) is not None:
                self.building_numbers.setdefault(_compound_code(r.address_code), set()).add(number)

    # -- the address as said -----------------------------------------------------------
    def _number(self, value: int, noise: list[str]) -> str:
        if self.rng.random() < 0.7:
            noise.append("spoken_numeral")
            return spoken_number(value, self.rng)
        return str(value)

    def _admin(self, row: Address, unique: bool, noise: list[str]) -> str:
        if unique and self.rng.random() < 0.65:
            noise.append("omit_admin")
            return ""
        district = row.district
        if self.rng.random() < 0.3 and district[-1] in "区县":
            district = district[:-1]
        town = row.town if self.rng.random() < 0.4 else ""
        if not unique and not town and self.rng.random() < 0.5:
            town = row.town
        self._said_admin = [n for n in (district, town) if n]
        return district + town

    def say(self, row: Address, noise: list[str], building: int | None = None) -> tuple[str, list[str]] | None:
        """(address as said, the names in it that errors may hit); `building`: the number
        said for a building row instead of its own."""
        said = self._say(row, noise, building)
        return (said[0], said[1] + self._said_admin) if said else None

    def _say(self, row: Address, noise: list[str], building: int | None = None) -> tuple[str, list[str]] | None:
        self._said_admin = []
        if row.level in ("compound", "building"):
            compound = row if row.level == "compound" else self.by_code.get(_compound_code(row.address_code))
            if compound is None:
                return None
            name = compound.compound
            if compound.aliases and self.rng.random() < 0.25:
                name = self.rng.choice(compound.aliases)
                noise.append("alias")
            unique = self.name_count[name] == 1
            said = self._admin(row, unique, noise) + name
            if row.level == "building" or building is not None:
                number = building if building is not None else (_building_no(row) or 0)
                said += self._number(number, noise) + self.rng.choice(("号楼", "号楼", "栋"))
                if self.rng.random() < 0.4:
                    said += self._number(self.rng.randint(1, 4), noise) + "单元"
            return said, [name]
        if row.level == "door":
            number = int(row.house_no.rstrip("号").split("-")[0])
            return self._admin(row, False, noise) + row.road + self._number(number, noise) + "号", [row.road]
        if row.level == "village_house":
            lo, hi = row.house_range
            unique = self.name_count[row.community] == 1
            name = self._everyday_form(row.community, noise)
            return (self._admin(row, unique, noise) + name
                    + self._number(self.rng.randint(lo, hi), noise) + "号", [name])
        if row.level == "community":
            unique = self.name_count[row.community] == 1
            name = self._everyday_form(row.community, noise)
            return self._admin(row, unique, noise) + name, [name]
        return None

    def _everyday_form(self, name: str, noise: list[str]) -> str:
        """How a neighbour says the place, now and then: 王家庄 for 王家庄村, 莲池花园 for
        莲池花园社区 — only where the shorter form still names something (not 西北, 路口)."""
        for suffix in ("社区", "村"):
            short = name[:-len(suffix)]
            if name.endswith(suffix) and len(short) >= 3 and not says_nothing(short) \
                    and self.rng.random() < EVERYDAY_FORM_SHARE:
                noise.append("everyday_form")
                return short
        return name

    # -- recognition errors ------------------------------------------------------------
    def _error(self, text: str, names: list[str], kind: str) -> str | None:
        targets = [n for n in names if n in text and len(n) >= 2]
        if not targets:
            return None
        name = self.rng.choice(targets)
        at = text.find(name)
        i = self.rng.randrange(len(name))
        if kind == "drop":
            noisy = name[:i] + name[i + 1:]
        elif kind == "insert":
            extra = self.rng.choice(_PARTICLES) if self.rng.random() < 0.5 else self.rng.choice(_STRAY)
            noisy = name[:i + 1] + extra + name[i + 1:]
        elif kind == "stutter":
            noisy = name[:i + 1] + name[i] + name[i + 1:]
        else:
            noisy = self.noise._replace(name, kind)
        if not noisy or noisy in self.noise.known_names:
            return None
        names[names.index(name)] = noisy
        return text[:at] + noisy + text[at + len(name):]

    def _numbering_homophone(self, text: str) -> str:
        """One numbering word heard as characters of its sound (号楼 → 号搂, 单元 → 单园)."""
        found = [(word, at) for word in _NUMBERING_HOMOPHONES for at in range(len(text))
                 if text.startswith(word, at)]
        if not found:
            return text
        word, at = self.rng.choice(found)
        return text[:at] + self.rng.choice(_NUMBERING_HOMOPHONES[word]) + text[at + len(word):]

    @staticmethod
    def _split_numerals(text: str) -> str:
        """三号楼二单元 → 三 号 楼 二 单 元, as a recogniser writes words."""
        out = []
        for ch in text:
            if ch in _NUM_WORDS + "十百千幺两号楼栋单元":
                out.append(f" {ch} ")
            else:
                out.append(ch)
        return " ".join("".join(out).split())

    def _unknown_building(self, row: Address) -> int | None:
        """A building number the row's compound does not have (misremembered, or a digit
        misheard), now and then: the caller's compound is still the answer."""
        if row.level != "building" or self.rng.random() >= UNKNOWN_BUILDING_SHARE:
            return None
        have = self.building_numbers.get(_compound_code(row.address_code), set())
        options = [n for n in range(1, max(have, default=0) + 12) if n not in have]
        return self.rng.choice(options)

    def query(self, row: Address, query_id: str) -> HardQuery | None:
        noise: list[str] = []
        unknown = self._unknown_building(row)
        if unknown is not None:
            row = self.by_code.get(_compound_code(row.address_code), row)
            noise.append("no_such_building")
        said = self.say(row, noise, unknown)
        if said is None:
            return None
        address, names = said
        errors = self.rng.choice((1, 1, 1, 2, 2, 3))
        for kind in self.rng.sample(ERRORS, errors):
            noisy = self._error(address, names, kind)
            if noisy is not None:
                address = noisy
                noise.append(kind)
        if self.rng.random() < NUMBERING_HOMOPHONE_SHARE:
            misheard = self._numbering_homophone(address)
            if misheard != address:
                address = misheard
                noise.append("numbering_homophone")
        if "spoken_numeral" in noise and self.rng.random() < 0.4:
            address = self._split_numerals(address)
            noise.append("split_numeral")
        text = self.rng.choice(_SENTENCES).format(a=address)
        if self.rng.random() < 0.3:
            text = text.replace("，", "").replace("。", "") + "。"
        return HardQuery(query_id, text, row.address_code, row.level, tuple(dict.fromkeys(noise)))

    def make(self, n: int, split: str) -> list[HardQuery]:
        """n queries on addresses of `split`: levels mixed as calls mix them, 10 % invented."""
        pools: dict[str, list[Address]] = {}
        for r in self.rows:
            if split_of(r.address_code) == split:
                pools.setdefault(r.level, []).append(r)
        mix = (("building", 0.33), ("compound", 0.2), ("door", 0.15), ("village_house", 0.12),
               ("community", 0.1))
        out: list[HardQuery] = []
        fakes = self.noise.fake_addresses(n // 10, _SENTENCES)
        for level, share in mix:
            pool = pools.get(level, [])
            made = 0
            while pool and made < round(n * share):
                q = self.query(self.rng.choice(pool), f"{split}-{len(out) + 1:05d}")
                if q is not None:
                    out.append(q)
                    made += 1
        for f in fakes:
            out.append(HardQuery(f"{split}-{len(out) + 1:05d}", f.text, f.gold, "none", ("not_in_gazetteer",)))
        self.rng.shuffle(out)
        return out


def write_tsv(queries: list[HardQuery], path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("query_id\ttext\tgold_address_code\tgold_level\tnoise\n")
        for q in queries:
            fh.write(f"{q.query_id}\t{q.text}\t{q.gold}\t{q.level}\t{','.join(q.noise)}\n")
