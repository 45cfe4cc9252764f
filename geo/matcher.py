"""Match a spoken address (inside a transcript) to standard addresses.

1. The utterance is normalised (`geo.text`) and turned into a sound key.
2. Names of districts, towns, communities, roads and compounds are found in the key:
   exactly (homophones and dialect pairs already share keys), with rapidfuzz's
   partial-ratio alignment for dropped or misheard characters, and — for roads — next to a
   house number that exists on a road with a similar name.
3. Numbers said right after a name pick the building (3号楼), door (145号) or the village
   house range.
4. Each candidate row is scored by the evidence it explains (its own name and number, its
   district/town/community when said) minus what contradicts it (another district said, a
   compound name that continues into another suffix).
5. The learned ranker (`geo.ranker`) reads each of the first candidates' evidence
   (`_features`), orders them by its probability of being right and is confident at
   `CONFIDENT_P`; without it, the hand rule: name evidence of `MIN_SCORE` and no tie.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache

from rapidfuzz import fuzz

from .gazetteer import Address
from .index import COMMUNITY, COMPOUND, DISTRICT, ROAD, TOWN, AddressIndex, house_number
from .ranker import CONFIDENT_P, RERANK, Ranker, RankerFileError
from .text import normalize, normalize_name

_BUILDING_NUM = re.compile(r"(\d+)号楼")
_UNIT_ROOM = re.compile(r"号楼(\d)单元(\d{3,4})")
_HOUSE_NUM = re.compile(r"(\d+(?:-\d+)?)号(?!楼(?![下上前后顶道]))")  # 719号楼下 is a door
_DIGIT_RUN = re.compile(r"\d+")
_DOUBLED_DIGIT = re.compile(r"(\d)\1")


def _house_readings(norm: str) -> list[tuple[int, int, str]]:
    """House numbers said (start, end, number), each also read with one repeated digit said
    once: a stutter on a digit (一一六四号) makes another number. A place found only through
    such a reading is offered, never sure (real written numbers repeat digits too: 康平街100号
    is not 康平街10号)."""
    out = []
    for m in _HOUSE_NUM.finditer(norm):
        out.append((m.start(), m.end(), m[1]))
        for d in _DOUBLED_DIGIT.finditer(m[1]):
            once = m[1][:d.start()] + m[1][d.start() + 1:]
            if not once.startswith("0") and (m.start(), m.end(), once) not in out:
                out.append((m.start(), m.end(), once))
    return out


def _said_number(norm: str, span: tuple[int, int]) -> str:
    """The house number as heard at a span of _house_readings."""
    return _HOUSE_NUM.match(norm, span[0])[1]


# What fuzzy matching ignores: numbers (matched exactly elsewhere) and generic endings,
# which make unrelated names look alike (西苑小区 and 东苑小区 share 苑小区).
_NOT_CORE = re.compile(r"\d+(?:-\d+)?(?:号院|号楼|号)?|[A-Z]")
_GENERIC_END = re.compile(r"(?:小区|花园|家园|生活区|宿舍|家属院|家属楼|公寓|社区|居委会|村委会|村|"
                          r"路|街|大道|巷|胡同|街道|镇)$")
MIN_FUZZY_CORE = 3

# Evidence weights. Those marked (fitted) were fitted by bench/geo_fit.py (coordinate search on
# the build split of self-made noise and of the listing strings, never on dev): first on
# 2026-12-03 14:00 (held-out objective 2.537 → 2.581), again at 18:15 after the number credit,
# the longer-name rule and the first-sound windows (one round, n=2000; see README).
W_COMPOUND, W_COMMUNITY, W_ROAD_NUMBER = 10.0, 8.0, 11.0  # (fitted)
W_BUILDING, W_VILLAGE_NUMBER = 6.0, 4.0
W_SUPPORT = {DISTRICT: 2.0, TOWN: 3.5, COMMUNITY: 3.0, ROAD: 1.5}  # (fitted)
W_CONFLICT = {DISTRICT: 8.0, TOWN: 2.0}  # (fitted)
W_OTHER_SUFFIX = 4.0  # "锦绣府邸" is not 锦绣花园 (alias 锦绣)
W_NUMBER_MISSING = 2.0
W_LONGER_NAME = 4.5  # (fitted) see _score: a name that a longer one goes on from
SHORT_FACTOR = 0.5  # (fitted)
FUZZY_CUTOFF = 70.0
FUZZY_FACTOR = 0.6  # (fitted)
HOMOPHONE_QUALITY = 0.95  # same sound, other characters (by name length below)
SHORT_HOMOPHONE_QUALITY = {2: 0.55, 3: 0.9}  # two sounds alike are often just other words
MIN_SCORE = 7.0  # name evidence below this: no confident match
NUMBER_CREDIT = 3.0  # (fitted) see AddressMatcher._named_enough
CREDIT_MIN_QUALITY = 0.6  # a name heard no worse than this earns the credit (invented 锦绣新城 vs 锦绣华城)
MIN_MARGIN = 0.25  # a tie with another place is not a confident match
BUILDING_GAP = 8  # characters allowed between a compound name and its building number
DOOR_GAP = 1  # a stray sound between a road and its door number (化北路人138号)
W_DOOR_GAP = 1.0
W_STUTTERED_NUMBER = 3.0  # a house number read with a repeated digit said once (1164号 → 164号)
VILLAGE_GAP = 1  # characters allowed between a village name and its house number
ROAD_WINDOW = 6  # characters before a house number searched for a misheard road name

# Words that end a compound or road name: a short or fuzzy compound name that runs on into
# one of these (other than its own) names another place.
# (小区 and 生活区 are left out: callers add them to any name.)
_PLACE_SUFFIXES = ("花园", "家园", "华庭", "雅苑", "名邸", "府邸", "公馆", "新城", "嘉园",
                   "雅居", "花语", "观邸", "佳园", "嘉苑", "佳苑", "丽园", "名苑", "公寓", "宿舍", "大厦", "广场", "家属院",
                   "大道", "路", "街", "巷", "胡同", "苑", "园", "府", "庭", "居", "城", "湾")


def _other_place_word(heard: str, name: str) -> bool:
    """The words heard for an edited name end in a place word the name lacks: another place
    (润泽雅苑 is not 润泽园 with 雅 inside)."""
    return any(heard.endswith(word) and not name.endswith(word) for word in _PLACE_SUFFIXES)


_SAID_AFTER_NAMES = ("小区", "生活区", "家属院")
# and after a village or community name, its committee (老刘家村|村委会, 莲池社区|居委会)
_SAID_AFTER_COMMUNITIES = ("村委会", "居委会", "委会")
_SAID_AFTER = {COMPOUND: _SAID_AFTER_NAMES, COMMUNITY: _SAID_AFTER_COMMUNITIES}

# A compound named like a road (共青团路, 华光路南九巷, 柳泉路南首): said alone it is the road
# as often as the compound, so it is weak evidence unless 小区/院 … follows.
_ROAD_END = ("路", "街", "巷", "大道", "胡同")
_COMPOUND_END = ("小区", "宿舍", "宿舍楼", "家属院", "家属楼", "生活区", "院", "花园", "家园", "公寓",
                 "大厦", "新村", "苑", "园", "庭", "城", "府", "居")
ROAD_LIKE_FACTOR = 0.2  # (fitted)
# words that begin with a road ending but are not one (X路面坏了, X路灯不亮)
_ROAD_WORDS = ("路面", "路灯", "路边", "路上", "路旁", "路过", "路况", "街上", "街边", "街坊", "街道")
# Words after a place that make it a landmark for another place said later
# (中德亚运村西邻尚城名府, 张店-中润华侨城-兴业花园): the later place is the address.
_RELATIONS = ("斜对过", "斜对面", "对过", "对面", "附近", "旁边", "隔壁", "周边", "后面", "前面",
              "后边", "前边", "东邻", "西邻", "南邻", "北邻", "东临", "西临", "南临", "北临", "东侧",
              "西侧", "南侧", "北侧", "以东", "以西", "以南", "以北", "东面", "西面", "南面", "北面",
              "往东", "往西", "往南", "往北", "向东", "向西", "向南", "向北", "东行", "西行", "南行",
              "北行", "-")
# a bare direction after a place (沁园小区南, 银泰城北800米, 世纪花园北门对面, 李寨村正东方向,
# 小方家庄村东南方向, 南崮山南村西南面, 桓台一中西北角)
_DIRECTION_AFTER = re.compile(r"正?[东西南北]{1,2}(?:$|\d|门|方向|跟前|边|角|面)|跟前")
# ... but a place's own gate is the place (X北门的路灯, X南门口): only a relation after the
# gate makes the place a landmark (世纪花园北门对面, X北门往东200米)
_GATE = re.compile(r"的?(?:正?[东西南北]{1,2}门|大门|正门)口?(?:外|处|入口|出口)?的?")
_DISTANCE = re.compile(r"\d+米")  # 北门入口100米处: a hundred metres away


def _after_gate(rest: str) -> str:
    """What follows a place, past its gate if the gate was said; "" when only the gate was."""
    gate = _GATE.match(rest)
    return rest[gate.end():] if gate else rest


def _relation_after(rest: str) -> bool:
    """A relation word or a direction right after a place (X对面, X以北, X西南面, X北门对面)."""
    rest = _after_gate(rest.removeprefix("的"))
    return rest.startswith(_RELATIONS) or bool(_DIRECTION_AFTER.match(rest) or _DISTANCE.match(rest))


LANDMARK_FACTOR = 0.3
# Said with nothing after it, "near X" still places the caller at X (X附近有人烧垃圾); "opposite
# X" or "west of X" does not: X is then only a candidate.
_NEAR = ("附近", "周边", "旁边", "一带", "-")
BESIDE_FACTOR = 0.3  # (fitted)
# Two roads joined by one of these, or followed by a junction word, are an intersection.
_JOINS = ("与", "和", "跟", "同", "及", "-", "交")
_JUNCTIONS = ("交叉口", "交叉路口", "十字路口", "路口", "交汇处", "交汇", "交界处", "交界", "交口", "口")
DROP_QUALITY = {3: 0.6, 4: 0.8}  # a name heard with one character missing, by its length
FIRST_DROP_FACTOR = 0.9  # (fitted)
SHORT_CORE_EDIT = 0.8  # see _edited (fitted)
INSERT_QUALITY = 0.95  # (fitted) a name heard with one extra character inside (a particle, a stray sound)
DROP, INSERT, SUBSTITUTE = "drop", "insert", "substitute"  # the edits _edited tries
EDITS = frozenset((DROP, INSERT, SUBSTITUTE))
DROP_INSERT_QUALITY = 0.6  # a name heard with one sound lost and another inside
SUBSTITUTE_QUALITY = {4: 0.7}  # a name of four or more sounds heard with one sound wrong


@dataclass(frozen=True, slots=True)
class Mention:
    name: int  # index into AddressIndex.names
    start: int
    end: int
    quality: float  # 1 exact characters, 0.95 same sound, lower for fuzzy
    # heard with one character dropped (edit_at: the gap where it is missing) or inserted or
    # replaced (edit_at: that character's middle) — see AddressMatcher._edited; -1: as said
    edit_at: float = -1.0

    @property
    def edited(self) -> bool:
        return self.edit_at >= 0


@dataclass(frozen=True)
class AddressMatch:
    address: Address
    score: float
    confidence: float
    evidence: tuple[str, ...]

    @property
    def level(self) -> str:
        return self.address.level


# Why no answer is sure — it tells the agent what to ask next (console: the address pane).
NAMESAKE = "namesake"  # the first place shares its name with another offered: ask which district/town
NOT_FOUND = "not_found"  # nothing in the gazetteer is like the words: have the address said again
UNSURE = "unsure"  # candidates, none sure: read the first back to the caller
# Below this probability the best candidate is no real match: on self-made sets no fit saw, four in
# five such queries named an address the gazetteer does not have (README, doubts).
NOT_FOUND_P = 0.01
SAID_QUALITY = 0.9  # a name heard as it is spelt or as it sounds (homophones of three sounds or more)


@dataclass(frozen=True)
class MatchResult:
    text: str
    normalized: str
    matches: tuple[AddressMatch, ...]
    confident: bool
    elapsed_ms: float
    intersection: Address | None = None  # 柳泉路与政通路交叉口: two roads, placed by town
    doubt: str = ""  # when not confident: NAMESAKE, NOT_FOUND or UNSURE

    @property
    def best(self) -> AddressMatch | None:
        return self.matches[0] if self.confident else None

    @property
    def candidates(self) -> tuple[Address, ...]:
        """What the agent is offered (three keys): the matches, with the intersection first
        when no place is confident (the two roads are then the best that was said)."""
        rows = [m.address for m in self.matches]
        if self.intersection is not None:
            rows.insert(1 if self.confident else 0, self.intersection)
        return tuple(rows[:3])


@dataclass
class _Scored:
    row: int
    score: float
    anchor: float  # the part of the score that comes from names (confidence rests on it)
    evidence: tuple[str, ...]
    place: tuple[int, int] | None = None  # where the row's own name (or gate) was said
    place_name: int = -1
    heard: float = 0.0  # how well that name was heard (Mention.quality)
    supports: int = 0  # district / town / community / road names said that agree with the row
    conflict: bool = False  # another district or town said
    stuttered: bool = False  # its house number read with a repeated digit said once


@dataclass(frozen=True)
class _Ranking:
    """What the words could mean: the names heard and every candidate row, best score first."""

    norm: str
    mentions: list[Mention]
    scored: list[_Scored]
    junction: tuple[Address, tuple[int, int]] | None
    buildings: list[tuple[int, int, int]]  # building numbers said: (start, end, number)


@dataclass(frozen=True)
class _Aligned:
    """Where a fuzzy name was found in the utterance, and how well it matched (0–100)."""

    dest_start: int
    dest_end: int
    score: float


def _fuzzy_place(core: str, key: str, norm: str) -> _Aligned | None:
    """Where a name's core was heard with errors: the best window that begins with the core's
    first sound (a caller's first sound of a name is rarely lost), a sound shorter, as long or
    a sound longer than the core (one dropped or extra), ended before any number heard (a
    number is not part of a core: 1331号 is not 山城壹号, but a name may end right before one,
    财政住宅楼26号楼), and covering most of the core."""
    best: _Aligned | None = None
    size = len(core)
    start = key.find(core[0])
    while start >= 0:
        digit = _DIGIT_RUN.search(norm, start, start + size + 1)
        limit = digit.start() if digit else len(key)
        # clipped before a number, two lengths can give the same window: it is scored once
        for end in dict.fromkeys(min(start + length, limit) for length in (size, size - 1, size + 1)):
            if end - start < 0.75 * size:
                continue
            score = fuzz.ratio(core, key[start:end])
            if score >= FUZZY_CUTOFF and (best is None or score > best.score):
                best = _Aligned(start, end, score)
        start = key.find(core[0], start + 1)
    return best


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _drop_shadowed(mentions: list[Mention], texts: dict[int, tuple[str, str]], norm: str) -> list[Mention]:
    """Drop a name heard only as part of a longer, clearly heard name (王家庄村 in 北王家庄村),
    and fuzzy matches over a span where a name was heard clearly."""
    # a name guessed through an edit is never strong: it must not hide what was heard as said
    strong = [m for m in mentions if m.quality >= HOMOPHONE_QUALITY and m.end - m.start >= 3 and not m.edited]

    def across(a: Mention, b: Mention) -> bool:
        return a.start < b.start < a.end < b.end or b.start < a.start < b.end < a.end

    # two sounds heard across a longer name said clearly are not a name (敬仲镇|东苇说村: 镇东,
    # a village's short form, is the town's 镇 and the next word's 东), nor is a name only heard
    # alike across one (池上镇|家村: 镇家村 is not 郑家村)
    said = [o for o in strong if o.quality == 1.0]
    alike = SHORT_HOMOPHONE_QUALITY[3]  # a homophone of three sounds or more, not a fuzzy guess
    stray = {id(m) for m in mentions if not m.edited and (m.end - m.start == 2 or alike <= m.quality < 1.0)
             and any(across(m, o) for o in (strong if m.end - m.start == 2 else said))}
    exact = [m for m in mentions if m.quality == 1.0 and id(m) not in stray]

    def said_length(m: Mention) -> int:
        """The name's length with the 小区 / 生活区 said after it (北新街|生活区), not with a
        sound heard inside it."""
        text = texts[m.name][0]
        extra = (m.end - m.start) - len(text)
        said_after = norm[m.end - extra:m.end] in _SAID_AFTER_NAMES + _SAID_AFTER_COMMUNITIES
        return len(text) + extra if extra > 0 and said_after else len(text)

    def goes_on(short: Mention, longer: Mention) -> bool:
        """What was heard after the short name is how the longer name goes on, a sound perhaps
        lost (瑞泉阳光|区 of 瑞泉阳光南区, 龙凤苑|二 of 龙凤苑二期)."""
        rest = texts[longer.name][0].split(texts[short.name][0], 1)[1]
        after = norm[short.end:]
        if after.startswith(_RELATIONS) or _DIRECTION_AFTER.match(after):
            return False  # 中德亚运村东临: a place beside it, not 中德亚运村河东生活区
        return longer.end > short.end and bool(rest) and after[:1] in rest[:2]

    def shadowed(m: Mention) -> bool:
        if id(m) in stray:
            return True
        if m.edited and any(across(m, o) for o in exact):
            return True  # an edit across a name heard exactly (太河镇|桑杭村 is not 和尚房村)
        if m.edited and any(o.name != m.name and o.end - o.start >= 3 and o.start < m.edit_at < o.end
                            for o in exact):
            # the changed character belongs to a name heard as said (于家官村|村委会 is not
            # 于家村村委会 with a 官 inside)
            return True
        for o in strong:
            # a longer name, not a name made longer by a sound it was heard with (镇刘家庄村 is
            # 鲁村镇 then 刘家庄村, not 郑家庄村 with a 刘 inside)
            if o.start <= m.start and m.end <= o.end and said_length(o) > said_length(m) \
                    and o.quality >= m.quality:  # 方家村 said exactly is not hidden by a 韩家村村委会 heard alike
                return True
            if m.quality < HOMOPHONE_QUALITY and not m.edited and m.start <= o.start and o.end <= m.end \
                    and texts[m.name][1] == COMPOUND and texts[o.name][0] in texts[m.name][0] \
                    and texts[o.name] != texts[m.name] and not goes_on(o, m):
                return True  # 中德亚运村 (世纪路) said clearly is not a guess at 中德亚运村河西生活区 (世纪花园)
            if m.edited and m.start <= o.start and o.end < m.end and o.name != m.name \
                    and (gate := _GATE.match(norm, o.end)) and m.end <= gate.end():
                return True  # the clear name's gate (中德亚运村|北门) is not the rest of 中德亚运村北区
            if m.quality < HOMOPHONE_QUALITY and o is not m:
                overlap = min(m.end, o.end) - max(m.start, o.start)
                if overlap >= 0.6 * (m.end - m.start) and (o.end - o.start) >= (m.end - m.start):
                    return True
        return False

    return [m for m in mentions if not shadowed(m)]


MAX_INPUT = 200  # characters: an address is said in far fewer; the cost grows with the text


def _bounded(text) -> str:
    """The last MAX_INPUT characters (where the caller speaks now), as text."""
    return (text if isinstance(text, str) else str(text or ""))[-MAX_INPUT:]


def _road_like(name: str, roads: set[str]) -> bool:
    """共青团路, 华光路南九巷, 柳泉路南首, 洪沟路南二村: a compound named as a road or a part of one."""
    if name.endswith(_ROAD_END) or name in roads:
        return True
    for i in range(2, len(name)):
        if name[:i] in roads:
            rest = _DIGIT_RUN.sub("", name[i:]).replace("号", "")
            return len(rest) <= 3 and not rest.endswith(_COMPOUND_END)
    return False


def _length_factor(n: int) -> float:
    """Longer names are stronger evidence: 2 chars 0.75, 3 chars 0.9, 4 chars 1.0 … 1.2."""
    return {2: 0.75, 3: 0.9}.get(n, min(1.2, 1.0 + 0.05 * (n - 4)))


SHIPPED_RANKER = object()  # AddressMatcher's default: geo/data/ranker.json
log = logging.getLogger(__name__)


def _shipped_ranker() -> Ranker | None:
    """The shipped model; if its file is damaged, the hand rule (a seat keeps its address
    suggestions, and the log says why they are less sure)."""
    try:
        return Ranker.load()
    except RankerFileError as exc:
        log.warning("address ranker not loaded, confidence by the hand rule: %s", exc)
        return None


class AddressMatcher:
    def __init__(self, index: AddressIndex, ranker=SHIPPED_RANKER):
        """`ranker`: the learned candidate ranker (the shipped model by default); None
        decides by the hand rule (MIN_SCORE, MIN_MARGIN), as the weight fitting does."""
        self.index = index
        self.ranker: Ranker | None = _shipped_ranker() if ranker is SHIPPED_RANKER else ranker
        self._compound_of_building: dict[int, tuple[int, int]] = {
            row: (compound, number)
            for compound, numbers in index.buildings.items() for number, row in numbers.items()
        }
        roads_by_number: dict[str, set[str]] = defaultdict(set)
        for road, number in (*index.doors, *index.gates):
            roads_by_number[number].add(road)
        self._roads_by_number = {n: sorted(r) for n, r in roads_by_number.items()}
        self._road_names = {name.ref: i for i, name in enumerate(index.names)
                            if name.kind == ROAD}
        village_suffix = index.sound.key("村")
        self._villages_by_sound: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(index.names):
            if name.kind == COMMUNITY and not name.short and name.text.endswith("村") \
                    and name.ref in index.village_ranges:
                for ch in set(name.key) - {village_suffix}:
                    self._villages_by_sound[ch].append(i)
        # road → the places (district, town, community) of its rows, for intersections
        self._road_places: dict[str, dict[tuple[str, str, str], Address]] = defaultdict(dict)
        for row in index.rows:
            if row.road and row.level in ("door", "compound"):
                self._road_places[normalize_name(row.road)].setdefault(
                    (row.district_code, row.town_code, row.community_code), row)
        road_names = {name.text for name in index.names if name.kind == ROAD}
        self._road_like = {name.ref for name in index.names
                           if name.kind == COMPOUND and _road_like(name.text, road_names)}
        self._editable = {i for i, name in enumerate(index.names)  # see _edited
                          if len(name.key) >= 3 and not name.short
                          and not any(ch.isdigit() for ch in name.text)}
        # the names by their sounds, and (four sounds or more) by their sounds less one: an edit
        # is found even when what was heard shares only common sounds with the name (崔家庄村
        # heard 崔庄村, 韩家村 heard 韩来家村: 庄村 and 家村 end hundreds of names, so the
        # shared-sound shortlist misses them) — see _reached_by_deletions
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._dropped: dict[str, list[int]] = defaultdict(list)
        for n in sorted(self._editable):
            key = index.names[n].key
            self._by_key[key].append(n)
            if len(key) >= 4:
                for variant in dict.fromkeys(key[:i] + key[i + 1:] for i in range(len(key))):
                    self._dropped[variant].append(n)
        self._edit_lengths = sorted({len(v) for v in self._dropped} | {len(k) for k in self._by_key})
        # the first two sounds of every key of the two indexes: where the words start no such pair
        # (nor with one sound skipped) nothing is looked up, which keeps a long text cheap
        self._edit_starts = {k[:2] for k in (*self._by_key, *self._dropped)}
        self._cores: dict[int, str] = {}  # name → sound key of its distinctive core
        self._short_stems: set[int] = set()  # names whose core less 公馆/华庭 … is under 3
        # a leading place name is not distinctive: 张店一中 is 一中 to a caller in 张店
        admin = sorted({name.text for name in index.names if name.kind in (DISTRICT, TOWN)} | {"淄博"},
                       key=len, reverse=True)
        for i, name in enumerate(index.names):
            core = _NOT_CORE.sub("", name.text)
            while (shorter := _GENERIC_END.sub("", core)) != core:  # 齐林家园生活区 → 齐林
                core = shorter
            if name.kind in (COMPOUND, ROAD):
                core = next((core[len(a):] for a in admin if core.startswith(a)), core)
            if not name.short and len(core) >= MIN_FUZZY_CORE:
                self._cores[i] = index.sound.key(core)
            stem = next((core[:-len(x)] for x in _PLACE_SUFFIXES if core.endswith(x)), core)
            if len(stem) < MIN_FUZZY_CORE:
                self._short_stems.add(i)
        cached = lru_cache(maxsize=4096)(self._match)
        self.match = lambda text, k=3: cached(_bounded(text), k)
        self.match_uncached = lambda text, k=3: self._match(_bounded(text), k)

    # -- finding names ------------------------------------------------------------------
    def mentions(self, norm: str, houses: list[tuple[int, int, str]] | None = None) -> list[Mention]:
        index = self.index
        key = index.sound.key(norm)
        found: dict[tuple[int, int], Mention] = {}
        for i in range(len(key) - 1):
            for n in index.by_start.get(key[i:i + 2], ()):
                name = index.names[n]
                if key.startswith(name.key, i):
                    end = i + len(name.key)
                    if norm[i:end] == name.text:
                        quality = 1.0
                    else:
                        quality = SHORT_HOMOPHONE_QUALITY.get(len(name.key), HOMOPHONE_QUALITY)
                    found[(n, i)] = Mention(n, i, end, quality)
        exact_names = {n for n, _ in found}
        # fuzzy: names sharing enough sound bigrams with the utterance
        grams: Counter = Counter()
        for gram in dict.fromkeys(key[i:i + 2] for i in range(len(key) - 1)):  # in order: ties rank alike in every process
            for n in index.by_bigram.get(gram, ()):
                grams[n] += 1
        for n, shared in grams.most_common(300):
            core = self._cores.get(n)
            if n in exact_names or core is None or shared < max(1, (len(core) - 1) // 2):
                continue
            aligned = _fuzzy_place(core, key, norm)
            if aligned is None:
                continue
            name = index.names[n]
            digits = set(_DIGIT_RUN.findall(norm[aligned.dest_start:]))
            if any(run not in digits for run in _DIGIT_RUN.findall(name.text)):
                continue  # 松岭西路161号 is not 松岭西路169号
            found[(n, aligned.dest_start)] = Mention(
                n, aligned.dest_start, aligned.dest_end, FUZZY_FACTOR * aligned.score / 100)
        reached, both = self._reached_by_deletions(key, norm)
        # the shortlist's names are tried for every edit; names only the deletions reached, for
        # the edit that reached them (their other edits would be guesses on common sounds:
        # 是方家村 as 北韩家村 with 北 heard 是)
        edits = {n: EDITS for n, _ in grams.most_common(300)}
        for n, kinds in reached.items():
            edits.setdefault(n, kinds)
        guessed = [m for n, kinds in edits.items() if n not in exact_names
                   for m in self._edited(n, key, norm, kinds)]
        for m in guessed + [m for m in both if m.name not in exact_names]:
            if (m.name, m.start) not in found or found[(m.name, m.start)].quality < m.quality:
                found[(m.name, m.start)] = m
        # roads and villages next to a house number, their names half heard (般街43号, 于村48号)
        for start, _, number in houses or ():
            window_start = max(0, start - ROAD_WINDOW)
            window = key[window_start:start]
            for n in self._near_number(window, number):
                name_key = index.names[n].key
                aligned = fuzz.partial_ratio_alignment(name_key, window, score_cutoff=FUZZY_CUTOFF)
                if aligned is None or aligned.dest_end != len(window) \
                        or window[aligned.dest_start] != name_key[0]:  # first sound kept
                    continue
                begin = window_start + aligned.dest_start
                if (n, begin) not in found:
                    found[(n, begin)] = Mention(n, begin, start, FUZZY_FACTOR * aligned.score / 100)
        texts = {m.name: (index.names[m.name].text, index.names[m.name].kind) for m in found.values()}
        return _drop_shadowed([self._with_suffix(m, norm) for m in found.values()], texts, norm)

    def _edited(self, n: int, key: str, norm: str, kinds: frozenset[str] = EDITS) -> list[Mention]:
        """Name `n` heard with one character dropped, one extra character inside it or — four
        sounds or more — one character heard as another (新时代 → 新代, 齐盛花园 → 齐盛呃花园,
        泰和花园社区 → 泰和花那社区): exact on every other sound."""
        if n not in self._editable:
            return []
        name = self.index.names[n]
        k = name.key
        # 俪园小区 less 园 is 里小区: a two-sound core edited is weak alone, it needs
        # the district or town said with it
        weak = SHORT_CORE_EDIT if n in self._short_stems else 1.0
        out = []
        drop = DROP_QUALITY.get(len(k), 0.85)
        # without the first sound, weaker (光生活区 is also 华光生活区); a three-sound name
        # never loses its last (路口村 is not 路口, the short forms that say nothing are left out)
        for i in range(len(k) - (len(k) == 3)) if DROP in kinds else ():
            at = key.find(k[:i] + k[i + 1:])
            if at >= 0:
                out.append(Mention(n, at, at + len(k) - 1,
                                   weak * drop * (FIRST_DROP_FACTOR if i == 0 else 1.0), edit_at=at + i))
        for i in range(1, len(k)) if INSERT in kinds else ():
            at = key.find(k[:i])
            while at >= 0:
                if key.startswith(k[i:], at + i + 1):
                    if not _other_place_word(norm[at:at + len(k) + 1], name.text):
                        out.append(Mention(n, at, at + len(k) + 1, weak * INSERT_QUALITY, edit_at=at + i + 0.5))
                    break
                at = key.find(k[:i], at + 1)
        if len(k) >= 4 and SUBSTITUTE in kinds:  # one sound heard as another (a drop and an insertion at one place)
            for at, i in self._substituted(k, key):
                if i == len(k) - 1:
                    continue  # the last is the place word: 中德亚运村北门 is not 中德亚运村北区
                if not _other_place_word(norm[at:at + len(k)], name.text):  # 润泽雅园 is not 润泽雅苑
                    out.append(Mention(n, at, at + len(k), weak * SUBSTITUTE_QUALITY.get(len(k), 0.8)
                                       * (FIRST_DROP_FACTOR if i == 0 else 1.0), edit_at=at + i + 0.5))
        return [m for m in out if not any(ch.isdigit() for ch in norm[m.start:m.end])]

    def _reached_by_deletions(self, key: str, norm: str) -> tuple[dict[int, frozenset[str]], list[Mention]]:
        """The names that the heard sounds, or the heard sounds less one inside, are exactly —
        as they are or less one sound: a name heard with a sound lost (崔庄村), with one extra
        inside (韩来家村), and with both (恒说星园 for 恒星花园, 润香来榭居 for 金润香榭居: found
        here, as a mention; a sound replaced in place is `_substituted`'s)."""
        reached: dict[int, set[str]] = defaultdict(set)
        both = []
        starts = self._edit_starts
        as_heard = [key[i:i + 2] in starts for i in range(len(key))]
        one_skipped = [key[i] + key[i + 2:i + 3] in starts for i in range(len(key))]
        for length in self._edit_lengths:
            for begin in range(len(key) - length + 1):
                if not (as_heard[begin] or one_skipped[begin]):
                    continue
                for n in self._dropped.get(key[begin:begin + length], ()) if as_heard[begin] else ():
                    reached[n].add(DROP)
                wider = key[begin:begin + length + 1]
                for extra in range(1, length) if len(wider) > length else ():  # an end: a drop
                    if not (one_skipped[begin] if extra == 1 else as_heard[begin]):
                        continue  # what is left does not start as any key does
                    less = wider[:extra] + wider[extra + 1:]
                    for n in self._by_key.get(less, ()):
                        reached[n].add(INSERT)
                    for n in self._dropped.get(less, ()):
                        if (m := self._lost_and_extra(n, begin, extra, less, norm)) is not None:
                            both.append(m)
        return {n: frozenset(kinds) for n, kinds in reached.items()}, both

    def _lost_and_extra(self, n: int, begin: int, extra: int, less: str, norm: str) -> Mention | None:
        """Name `n` heard at `begin` with the sound at `extra` inside it extra and one of its
        own lost (`less`: the words without the extra sound) — unless the two are one sound
        replaced, or the words run on into another place word (as for one insertion)."""
        name = self.index.names[n]
        k = name.key
        lost = next(i for i in range(len(k)) if k[:i] + k[i + 1:] == less)
        text = norm[begin:begin + len(k)]
        if lost == extra or any(ch.isdigit() for ch in text) or _other_place_word(text, name.text):
            return None
        weak = SHORT_CORE_EDIT if n in self._short_stems else 1.0
        return Mention(n, begin, begin + len(k), weak * DROP_INSERT_QUALITY
                       * (FIRST_DROP_FACTOR if lost == 0 else 1.0), edit_at=begin + extra + 0.5)

    @staticmethod
    def _substituted(k: str, key: str) -> list[tuple[int, int]]:
        """Where `key` holds `k` (four sounds or more) with one sound replaced by another, and
        which: the first two sounds or the last two are then intact, so only where those are
        heard is the name compared."""
        starts = []
        for part, offset in ((k[:2], 0), (k[-2:], len(k) - 2)):
            at = key.find(part)
            while at >= 0:
                starts.append(at - offset)
                at = key.find(part, at + 1)
        found = []
        for begin in dict.fromkeys(starts):
            if 0 <= begin and begin + len(k) <= len(key):
                wrong = [i for i, (a, b) in enumerate(zip(k, key[begin:begin + len(k)])) if a != b]
                if len(wrong) == 1:
                    found.append((begin, wrong[0]))
        return found

    def _with_suffix(self, m: Mention, norm: str) -> Mention:
        """A compound name said with 小区 after it covers the 小区 too (卫生防疫站小区), a
        village's name its 村委会 (老刘家村村委会)."""
        name = self.index.names[m.name]
        for suffix in _SAID_AFTER.get(name.kind, ()):
            if norm.startswith(suffix, m.end) and not name.text.endswith(suffix):
                return replace(m, end=m.end + len(suffix))
        return m

    def _near_number(self, window: str, number: str) -> list[int]:
        """Road and village names that could stand before this house number."""
        index = self.index
        names = [self._road_names[road] for road in self._roads_by_number.get(number, ())
                 if road in self._road_names]
        if number.isdigit():
            value = int(number)
            seen = set()
            for ch in set(window):
                for n in self._villages_by_sound.get(ch, ()):
                    if n not in seen and any(lo <= value <= hi for lo, hi, _ in
                                             index.village_ranges[index.names[n].ref]):
                        seen.add(n)
                        names.append(n)
        return names

    # -- scoring -------------------------------------------------------------------------
    def _ranking(self, norm: str) -> _Ranking:
        """The names heard in the normalised text and every row they could mean, scored and
        in score order."""
        buildings = [(m.start(), m.end(), int(m[1])) for m in _BUILDING_NUM.finditer(norm)]
        houses = _house_readings(norm)
        mentions = self.mentions(norm, houses)
        index = self.index
        by_ref: dict[tuple[str, object], list[Mention]] = defaultdict(list)
        by_kind: dict[str, list[Mention]] = defaultdict(list)
        for m in mentions:
            name = index.names[m.name]
            by_ref[(name.kind, name.ref)].append(m)
            by_kind[name.kind].append(m)

        candidates: set[int] = set()
        for m in by_kind.get(COMPOUND, ()):
            compound = index.names[m.name].ref
            candidates.add(compound)
            for s, _, number in buildings:
                if m.end <= s <= m.end + BUILDING_GAP:
                    row = index.buildings.get(compound, {}).get(number)
                    if row is not None:
                        candidates.add(row)
        for m in by_kind.get(COMMUNITY, ()):
            code = index.names[m.name].ref
            if code in index.community_row:
                candidates.add(index.community_row[code])
            gap = self._village_gap(norm, m.end)
            for s, _, number in houses:
                if m.end <= s <= m.end + gap and number.isdigit():
                    for lo, hi, row in index.village_ranges.get(code, ()):
                        if lo <= int(number) <= hi:
                            candidates.add(row)
        for m in by_kind.get(ROAD, ()):
            road = index.names[m.name].ref
            for s, _, number in houses:
                if m.end <= s <= m.end + DOOR_GAP:
                    candidates.update(index.doors.get((road, number), ()))
                    for compound in index.gates.get((road, number), ()):
                        candidates.add(compound)
                        for _, _, b in buildings:
                            row = index.buildings.get(compound, {}).get(b)
                            if row is not None:
                                candidates.add(row)

        scored = [s for row in candidates
                  if (s := self._score(row, norm, by_ref, by_kind, buildings, houses)) is not None]
        scored.sort(key=lambda s: (-s.score, s.row))
        return _Ranking(norm, mentions, scored, self._intersection(norm, by_kind, houses), buildings)

    def _match(self, text: str, k: int = 3) -> MatchResult:
        started = time.perf_counter()
        norm = normalize(text)
        ranking = self._ranking(norm)
        scored, junction = ranking.scored, ranking.junction
        if self.ranker is not None and scored:
            head = scored[:RERANK]
            p = self.ranker.probability([self._features(ranking, j) for j in range(len(head))])
            order = sorted(range(len(head)), key=lambda j: (-p[j], j))
            scored = [head[j] for j in order] + scored[RERANK:]
            sure = [float(p[j]) for j in order][:k]
            confident = sure[0] >= CONFIDENT_P and not self._namesake(scored)
        else:
            sure = self._rule_confidence(scored[:k])
            confident = bool(scored) and self._named_enough(scored[0], ranking.mentions) and (
                len(scored) < 2 or scored[0].score - self._rival(scored).score >= MIN_MARGIN)
        confident = confident and not scored[0].stuttered and not self._two_sounds_alike(scored[0])
        if junction is not None and confident:
            # the roads place the caller; a compound counts only when named apart from them, or
            # a house number said apart from them (联通路26号（柳泉路与联通路交汇处）)
            start, end = junction[1]
            place = scored[0].place
            numbered = any(e.startswith("门牌:") for e in scored[0].evidence)
            confident = (place[1] <= start or place[0] >= end) \
                and (self.index.names[scored[0].place_name].kind == COMPOUND or numbered)
        room = self._room(scored[0].row, norm) if scored else None
        matches = []
        for rank, s in enumerate(scored[:k]):
            address = room if rank == 0 and room else self.index.rows[s.row]
            confidence = sure[rank] if rank < len(sure) else 0.0
            matches.append(AddressMatch(address, round(s.score, 2), round(confidence, 3), s.evidence))
        return MatchResult(text, norm, tuple(matches), confident,
                           (time.perf_counter() - started) * 1000,
                           junction[0] if junction else None,
                           "" if confident else UNSURE if junction else self._doubt(scored[:k], sure))

    def candidate_features(self, text: str) -> list[tuple[Address, list[float]]]:
        """The first RERANK candidates in score order, each with what the ranker reads about
        it (to fit the ranker: bench/geo_fit.py --ranker)."""
        ranking = self._ranking(normalize(_bounded(text)))
        return [(self.index.rows[s.row], self._features(ranking, j))
                for j, s in enumerate(ranking.scored[:RERANK])]

    @staticmethod
    def _rule_confidence(scored: list[_Scored]) -> list[float]:
        """Without the ranker: a logistic of the name evidence, lowered by a close second."""
        out = []
        for rank, s in enumerate(scored):
            confidence = 1 / (1 + math.exp(-(s.anchor - MIN_SCORE) / 1.5))
            if rank == 0 and len(scored) > 1:  # a close second lowers the first's confidence
                confidence *= 1 / (1 + math.exp(-(s.score - scored[1].score - 0.5) * 2))
            elif rank > 0:
                confidence *= 0.5
            out.append(confidence)
        return out

    def _features(self, ranking: _Ranking, j: int) -> list[float]:
        """What the ranker reads about candidate j (geo.ranker.FEATURES, in that order)."""
        index, scored, norm = self.index, ranking.scored, ranking.norm
        s, top = scored[j], scored[0]
        others = [o for o in scored if o is not s and not self._same_place(o.row, s.row)]
        best_other = max((o.score for o in others), default=s.score - 10)
        best_other_anchor = max((o.anchor for o in others), default=0.0)
        name = index.names[s.place_name]
        row = index.rows[s.row]
        start, end = s.place
        name_before = any(m.quality == 1.0 and m.end == start and m.end - m.start >= 2
                          and index.names[m.name].kind in (COMPOUND, COMMUNITY) for m in ranking.mentions)
        places_heard = {index.names[m.name].ref for m in ranking.mentions
                        if m.quality >= 0.85 and index.names[m.name].kind in (COMPOUND, COMMUNITY)}
        # a building number said after a compound's name: one of its buildings (then the
        # building, not the compound, is the answer) or one it lacks (the compound is)
        said = [v for at, _, v in ranking.buildings if end <= at <= end + BUILDING_GAP]
        owned = row.level == "compound" and any(v in index.buildings.get(s.row, {}) for v in said)
        # a relation after the name makes it a landmark (X对面, X以北, X西南面); "near X" is X
        rest = norm[end:].removeprefix("的")
        related = _relation_after(rest) and not _after_gate(rest).startswith(_NEAR)
        # 书香景园|路阳光名筑: the name is a road's here (not 的路面, 路灯 …)
        road_after = norm.startswith(_ROAD_END, end) and not norm.startswith(_ROAD_WORDS, end)
        heard_text = norm[start:end]
        said_after = next((x for x in _SAID_AFTER.get(name.kind, ())  # 北新街|生活区: not a longer name
                           if heard_text.endswith(x) and not name.text.endswith(x)), "")
        chars = set(name.text)
        # a longer heard name around this one (翠园青莲公社: 青年公社 inside 翡翠园青年公社), or
        # this one around a shorter: the longer usually explains the words better
        spans = [o.place for o in scored[:2 * RERANK] if o.place and not self._same_place(o.row, s.row)
                 and o.row != s.row]
        inside_longer = any(a <= start and end <= b and (a, b) != (start, end) for a, b in spans)
        covers_other = any(start <= a and b <= end and (a, b) != (start, end) for a, b in spans)
        # a road said clearly elsewhere (王舍路植物园, 黄河路西段) that is not this place's own:
        # a village or community heard beside it is then often a landmark of the road's place
        own_road = normalize_name(row.road) if row.road else ""
        road_heard = any(m.quality == 1.0 and index.names[m.name].kind == ROAD
                         and (m.end <= start or m.start >= end)
                         and index.names[m.name].text != own_road for m in ranking.mentions)
        # another place named after this one (华光路南九巷|科苑小区, 博物馆|水资源管理宿舍): in a
        # written chain the last place named is usually the address, the earlier a landmark
        # (how well the best such name was heard; not a short form — 东门 after 江南豪庭 is its
        # gate, not 东门村)
        name_after = max((m.quality for m in ranking.mentions
                          if m.start >= end and m.end - m.start >= 2
                          and index.names[m.name].kind in (COMPOUND, COMMUNITY)
                          and not index.names[m.name].short
                          and index.names[m.name].text != name.text), default=0.0)
        return [
            s.anchor, s.score - s.anchor, min(10.0, s.score - best_other),
            min(10.0, s.anchor - best_other_anchor),
            min(5, sum(1 for o in others if abs(s.score - o.score) < 0.5)),
            top.score - s.score, j == 0,
            s.heard, s.heard == 1.0, 0.85 <= s.heard < 1.0, s.heard < 0.85,
            min(8, len(name.text)), name.kind == COMPOUND, name.kind == COMMUNITY, name.kind == ROAD,
            bool(name.short), s.place_name in self._short_stems, s.row in self._road_like,
            s.supports, s.conflict, row.level in ("building", "village_house", "door"),
            row.level == "building", row.level == "village_house",
            name_before, ranking.junction is not None, min(5, len(places_heard)),
            math.log1p(len(scored)),
            sum(1 for ch in chars if ch in heard_text) / max(1, len(chars)),
            (end - start - len(said_after)) / max(1, len(name.text)),
            related, owned, row.level == "compound" and bool(said) and not owned, road_after,
            inside_longer, covers_other, road_heard, name_after,
        ]

    def _intersection(self, norm: str, by_kind, houses) -> tuple[Address, tuple[int, int]] | None:
        """Two roads said as a junction (A路与B路交叉口, A路B路路口, A路和B路) → the
        intersection placed in the district and town (and community) both roads share,
        with the span it was said in."""
        index = self.index
        roads = sorted((m for m in by_kind.get(ROAD, ()) if m.quality >= HOMOPHONE_QUALITY),
                       key=lambda m: m.start)
        numbered = {s for s, _, _ in houses}
        for a in roads:
            for b in roads:
                if b.start < a.end or b.start > a.end + 1 or b.end in numbered:
                    continue
                ref_a, ref_b = index.names[a.name].ref, index.names[b.name].ref
                joined = norm[a.end:b.start]
                junction = norm[b.end:].startswith(_JUNCTIONS)
                if ref_a == ref_b or not (junction or (joined and joined in _JOINS)):
                    continue
                said = {index.names[m.name].ref for m in by_kind.get(DISTRICT, ())}
                place = self._junction_place(ref_a, ref_b, said)
                if place is not None:
                    return place, (a.start, b.end)
        return None

    def _junction_place(self, road_a: str, road_b: str, districts: set) -> Address | None:
        """Where both roads have rows: the town they share most, and its community when
        only one community has both."""
        a, b = self._road_places.get(road_a, {}), self._road_places.get(road_b, {})
        shared_towns = {k[:2] for k in a} & {k[:2] for k in b}
        if districts:
            shared_towns = {t for t in shared_towns if t[0] in districts} or shared_towns
        if not shared_towns:
            return None
        weight = Counter(k[:2] for k in (*a, *b) if k[:2] in shared_towns)
        town = max(sorted(shared_towns), key=lambda t: weight[t])
        communities = sorted(k for k in a if k[:2] == town and k in b)
        one_community = len(communities) == 1
        row = a[communities[0]] if one_community else next(r for k, r in sorted(a.items()) if k[:2] == town)
        name = f"{road_a}与{road_b}交叉口"
        place = row.district + row.town + (row.community if one_community else "")
        return Address(
            address_code=row.community_code if one_community else row.town_code, level="intersection",
            district_code=row.district_code, district=row.district, town_code=row.town_code,
            town=row.town, community_code=row.community_code if one_community else "",
            community=row.community if one_community else "", grid_code="", grid="",
            road=name, house_no="", compound="", building="", full_address=f"淄博市{place}{name}",
            aliases=())

    def _named_enough(self, best: _Scored, mentions: list[Mention]) -> bool:
        """The words name the place well enough to be sure: the names heard, plus a little for
        a building or house number the place really has (a half-heard name followed by a
        number it owns is rarely a coincidence)."""
        numbered = self.index.rows[best.row].level in ("building", "village_house")
        # not when another name was heard clearly right where this one begins (幸福|里小区 is
        # a 幸福里小区 the gazetteer lacks, not 俪园小区)
        start, _ = best.place
        other_name = any(m.quality == 1.0 and m.end == start and m.end - m.start >= 2
                         and self.index.names[m.name].kind in (COMPOUND, COMMUNITY) for m in mentions)
        # nor for a name heard too poorly (锦绣新城 is not 锦绣华城 14号楼 because 14号楼 exists)
        heard = max((m.quality for m in mentions if m.name == best.place_name and m.start == start), default=0.0)
        credit = NUMBER_CREDIT if numbered and not other_name and heard >= CREDIT_MIN_QUALITY else 0.0
        return best.anchor + credit >= MIN_SCORE

    def _rival(self, scored: list[_Scored]) -> _Scored:
        """The best candidate that is another place (not the top row's compound or building)."""
        for s in scored[1:]:
            if not self._same_place(s.row, scored[0].row):
                return s
        return _Scored(-1, float("-inf"), 0.0, ())

    def _two_sounds_alike(self, s: _Scored) -> bool:
        """Named only by a two-character short form heard as other characters of its sound (商东
        for 山东, 站家 for 昝家): two sounds alike are often just other words, whatever else agrees
        (a repeated digit read once is likewise never sure: see _house_readings)."""
        name = self.index.names[s.place_name]
        return name.short and len(name.text) == 2 and s.heard < 1.0

    def _doubt(self, shown: list[_Scored], sure: list[float]) -> str:
        """Why the first of the shown candidates is not sure (see NAMESAKE …)."""
        if not shown or sure[0] < NOT_FOUND_P:
            return NOT_FOUND
        first = shown[0]
        # only a name said as it is spelt or sounds: one reached through an edit is as often some
        # other place heard badly, and "which district?" is then the wrong question
        said = first.place_name >= 0 and first.heard >= SAID_QUALITY
        name = self.index.names[first.place_name].text if said else None
        if name and any(s.place_name >= 0 and self.index.names[s.place_name].text == name
                        and self.index.rows[s.row].community_code != self.index.rows[first.row].community_code
                        for s in shown[1:]):
            return NAMESAKE
        return UNSURE

    def _namesake(self, scored: list[_Scored]) -> bool:
        """Another place of the same name explains the words exactly as well (two 袁家村 in
        淄川区, both with a house 49): the words cannot pick out one, whatever the model says."""
        first = scored[0]
        name = self.index.names[first.place_name].text
        return any(abs(s.score - first.score) < 1e-6 and self.index.names[s.place_name].text == name
                   and not self._same_place(s.row, first.row) for s in scored[1:])

    def _same_place(self, a: int, b: int) -> bool:
        """A compound and one of its buildings (codes alike but for the last two digits)."""
        code_a, code_b = self.index.rows[a].address_code, self.index.rows[b].address_code
        return code_a[:-2] == code_b[:-2] and code_a.endswith("00") != code_b.endswith("00")

    def _room(self, row_i: int, norm: str) -> Address | None:
        """The room said after the building (2单元1502), when the gazetteer has rooms."""
        row = self.index.rows[row_i]
        if row.level != "building" or not len(self.index.rooms):
            return None
        for match in _UNIT_ROOM.finditer(norm):
            if not norm[:match.start() + 2].endswith(row.building):
                continue
            unit, number = match[1], match[2]
            floor, door = int(number[:-2]), number[-2:]
            room_key = f"{unit}{floor:02d}{door}"
            if self.index.has_room(row_i, room_key):
                said = f"{unit}单元{number}室"
                return replace(row, address_code=row.address_code + room_key, level="room",
                               building=row.building + said, full_address=row.full_address + said)
        return None

    def _said_as_road(self, m: Mention, compound_i: int, norm: str, houses) -> bool:
        """A road-like compound name said as a road: a house number, a relation word
        (以北, 附近) or another road of a junction follows it (共青团路62号, 共青团路以北)."""
        if compound_i not in self._road_like or m.end - m.start > len(self.index.names[m.name].key):
            return False
        rest = norm[m.end:]
        return rest.startswith(_RELATIONS + _JOINS + _JUNCTIONS) or any(s == m.end for s, _, _ in houses)

    def _landmark_factor(self, m: Mention, norm: str, by_kind) -> float:
        """LANDMARK_FACTOR when a relation word follows the place and another place is
        named after it (X附近Y, X西邻Y, 区-X-Y); 1 otherwise."""
        rest = norm[m.end:].removeprefix("的")
        if not _relation_after(rest):
            return 1.0
        said = self.index.names[m.name].text
        later = any(o.start >= m.end and o.quality >= 0.85 and self.index.names[o.name].text != said
                    for kind in (COMPOUND, COMMUNITY) for o in by_kind.get(kind, ()))
        if later:
            return LANDMARK_FACTOR
        return 1.0 if _after_gate(rest).startswith(_NEAR) else BESIDE_FACTOR

    @staticmethod
    def _village_gap(norm: str, end: int) -> int:
        """A village house number follows the name (or its 村 when only the stem was heard),
        perhaps after a particle or a stray sound (苏孔村的220号)."""
        return VILLAGE_GAP + (1 if norm[end:end + 1] in ("村", "存", "春", "椿") else 0)

    def _score(self, row_i, norm, by_ref, by_kind, buildings, houses) -> _Scored | None:
        index = self.index
        row = index.rows[row_i]
        used: list[tuple[int, int]] = []
        evidence: list[str] = []
        anchor = 0.0  # name evidence
        extra = 0.0  # numbers that choose among rows
        stuttered = False

        def weight(m: Mention, base: float) -> float:
            return base * m.quality * (SHORT_FACTOR if index.names[m.name].short else 1.0)

        def best(kind: str, ref, base: float = 1.0, need=None) -> Mention | None:
            options = [m for m in by_ref.get((kind, ref), ())
                       if not _overlaps((m.start, m.end), used) and (need is None or need(m))]
            return max(options, key=lambda m: (weight(m, base), m.end - m.start), default=None)

        def number_at(after: int, numbers, gap: int, value) -> tuple[int, int] | None:
            for s, e, v in numbers:
                if after <= s <= after + gap and value(v):
                    return (s, e)
            return None

        level = row.level
        if level in ("compound", "building"):
            compound_i, building_no = ((row_i, None) if level == "compound"
                                       else self._compound_of_building[row_i])
            compound = index.rows[compound_i]
            end = None
            m = best(COMPOUND, compound_i, W_COMPOUND)
            if m is not None:
                name = index.names[m.name]
                anchor += weight(m, W_COMPOUND) * _length_factor(len(name.text)) * (
                    self._landmark_factor(m, norm, by_kind)
                    * (ROAD_LIKE_FACTOR if self._said_as_road(m, compound_i, norm, houses) else 1.0))
                used.append((m.start, m.end))
                end = m.end
                evidence.append(f"小区:{name.text}")
                rest = norm[m.end:m.end + 3]
                if (m.quality < 1.0 or len(name.text) <= 3) and any(
                        rest.startswith(suffix) and not name.text.endswith(suffix)
                        for suffix in _PLACE_SUFFIXES):
                    anchor -= W_OTHER_SUFFIX  # the caller's name goes on differently
                if number_at(m.end, houses, 0, lambda v: True):
                    anchor -= 3.0  # "华齐街75号": the name is a road here
                if m.quality == 1.0 and any(
                        o.start <= m.start and o.end > m.end and index.names[o.name].ref != compound_i
                        and name.text in index.names[o.name].text for o in by_kind.get(COMPOUND, ())):
                    # what follows the name is heard as more of a longer one (瑞泉阳光区 for
                    # 瑞泉阳光南区, not 瑞泉阳光): the shorter name is not the sure answer
                    anchor -= W_LONGER_NAME
            number = house_number(compound.house_no) if compound.road else None
            gate = best(ROAD, normalize_name(compound.road), W_ROAD_NUMBER,
                        lambda r: number_at(r.end, houses, DOOR_GAP, lambda v: v == number)) if number else None
            if gate is not None:
                span = number_at(gate.end, houses, DOOR_GAP, lambda v: v == number)
                anchor += weight(gate, W_ROAD_NUMBER) * (0.6 if m is not None else 1.0)
                stuttered = _said_number(norm, span) != number
                used += [(gate.start, gate.end), span]
                end = max(end or 0, span[1])
                evidence.append(f"门牌:{compound.road}{compound.house_no}")
            if end is None:
                return None
            main = m or gate
            if building_no is not None:
                span = number_at(end, buildings, BUILDING_GAP, lambda v: v == building_no)
                if span is None:
                    span = next(((s, e) for s, e, v in buildings if v == building_no and s >= end), None)
                    if span is None:
                        return None
                    extra -= 1.0  # said far from the compound name
                extra += W_BUILDING
                used.append(span)
                evidence.append(f"楼栋:{row.building}")
            elif number_at(end, buildings, BUILDING_GAP, lambda v: True):
                extra -= W_NUMBER_MISSING  # a building this compound does not have
        elif level == "door":
            number = house_number(row.house_no)
            m = best(ROAD, normalize_name(row.road), W_ROAD_NUMBER,
                     lambda r: number_at(r.end, houses, DOOR_GAP, lambda v: v == number))
            if m is None:
                return None
            main = m
            anchor += weight(m, W_ROAD_NUMBER)
            span = number_at(m.end, houses, DOOR_GAP, lambda v: v == number)
            if span[0] > m.end:
                extra -= W_DOOR_GAP  # something heard between the road and its number
            stuttered = _said_number(norm, span) != number
            used += [(m.start, m.end), span]
            evidence.append(f"门牌:{row.road}{row.house_no}")
        elif level in ("community", "village_house"):
            if level == "village_house":
                lo, hi = row.house_range

                def in_range(v: str) -> bool:
                    return v.isdigit() and lo <= int(v) <= hi

                def has_number(m: Mention) -> bool:
                    return number_at(m.end, houses, self._village_gap(norm, m.end), in_range) is not None
                m = best(COMMUNITY, row.community_code, W_COMMUNITY, has_number)
            else:
                m = best(COMMUNITY, row.community_code, W_COMMUNITY)
            if m is None:
                return None
            main = m
            anchor += weight(m, W_COMMUNITY) * min(1.0, _length_factor(len(index.names[m.name].text)) + 0.1) \
                * self._landmark_factor(m, norm, by_kind)
            used.append((m.start, m.end))
            evidence.append(f"社区:{row.community}")
            gap = self._village_gap(norm, m.end)
            if level == "village_house":
                extra += W_VILLAGE_NUMBER
                span = number_at(m.end, houses, gap, in_range)
                stuttered = not in_range(_said_number(norm, span))
                used.append(span)
                evidence.append(f"门牌:{row.house_no}")
            elif number_at(m.end, houses, gap, lambda v: True):
                extra -= W_NUMBER_MISSING  # a house number no range holds
        else:
            return None

        # supporting and contradicting evidence
        supports, conflict = 0, False
        support = {DISTRICT: row.district_code, TOWN: row.town_code, COMMUNITY: row.community_code,
                   ROAD: normalize_name(row.road) if row.road else None}
        for kind, ref in support.items():
            if ref is None or (kind == COMMUNITY and level in ("community", "village_house")):
                continue
            m = best(kind, ref, W_SUPPORT[kind])
            if m is not None:
                anchor += weight(m, W_SUPPORT[kind])
                supports += 1
                used.append((m.start, m.end))
                evidence.append(f"{_LABEL[kind]}:{index.names[m.name].text}")
            elif kind in W_CONFLICT:
                for other in by_kind.get(kind, ()):
                    if index.names[other.name].ref != ref and other.quality >= HOMOPHONE_QUALITY \
                            and not _overlaps((other.start, other.end), used):
                        anchor -= W_CONFLICT[kind] * (SHORT_FACTOR if index.names[other.name].short else 1.0)
                        conflict = True
                        break
        extra -= W_STUTTERED_NUMBER * stuttered
        return _Scored(row_i, anchor + extra, anchor, tuple(evidence), (main.start, main.end), main.name,
                       main.quality, supports, conflict, stuttered)


_LABEL = {DISTRICT: "区县", TOWN: "街道", COMMUNITY: "社区", ROAD: "道路"}
