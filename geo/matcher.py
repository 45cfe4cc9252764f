"""Match a spoken address (inside a transcript) to standard addresses.

1. The utterance is normalised (`geo.text`) and turned into a sound key.
2. Names of districts, towns, communities, roads and compounds are found in the key:
   exactly (homophones and dialect pairs already share keys) or, for ASR deletions and
   substitutions, with rapidfuzz's partial-ratio alignment on the key.
3. Numbers said after a name pick the building (3号楼), door (145号) or village house range.
4. Each candidate row is scored by the evidence it explains (its own name and number, its
   district/town/community when said) minus what contradicts it (another district said).
   The best rows are returned, or "no confident match" below a calibrated threshold.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from .gazetteer import Address
from .index import COMMUNITY, COMPOUND, DISTRICT, ROAD, TOWN, AddressIndex
from .text import normalize

_BUILDING_NUM = re.compile(r"(\d+)号楼")
_HOUSE_NUM = re.compile(r"(\d+(?:-\d+)?)号(?!楼)")

# Evidence weights (tuned on the dev set and on noisy variants of it; see README).
W_COMPOUND, W_COMMUNITY, W_ROAD_NUMBER, W_BUILDING, W_VILLAGE_NUMBER = 10.0, 8.0, 11.0, 6.0, 4.0
W_SUPPORT = {DISTRICT: 2.0, TOWN: 2.5, COMMUNITY: 3.0, ROAD: 1.5}
W_CONFLICT = {DISTRICT: 3.0, TOWN: 2.0}
SHORT_FACTOR = 0.7
FUZZY_CUTOFF = 70.0
FUZZY_FACTOR = 0.9
HOMOPHONE_QUALITY = 0.95  # same sound, other characters (by name length below)
SHORT_HOMOPHONE_QUALITY = {2: 0.55, 3: 0.85}  # two sounds alike are often just other words
MIN_SCORE = 7.0  # below this: no confident match
BUILDING_GAP = 8  # characters allowed between a compound name and its building number
_DIGIT_RUN = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Mention:
    name: int  # index into AddressIndex.names
    start: int
    end: int
    quality: float  # 1 exact characters, 0.95 same sound, lower for fuzzy


@dataclass(frozen=True)
class AddressMatch:
    address: Address
    score: float
    confidence: float
    evidence: tuple[str, ...]

    @property
    def level(self) -> str:
        return self.address.level


@dataclass(frozen=True)
class MatchResult:
    text: str
    normalized: str
    matches: tuple[AddressMatch, ...]
    elapsed_ms: float

    @property
    def confident(self) -> bool:
        return bool(self.matches) and self.matches[0].score >= MIN_SCORE

    @property
    def best(self) -> AddressMatch | None:
        return self.matches[0] if self.confident else None


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _drop_contained(mentions: list[Mention]) -> list[Mention]:
    """Drop a name said only as part of a longer name heard clearly (王家庄村 in 北王家庄村)."""
    strong = [m for m in mentions if m.quality >= HOMOPHONE_QUALITY and m.end - m.start >= 3]

    def shadowed(m: Mention) -> bool:
        for o in strong:
            if o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start):
                return True
            if m.quality < HOMOPHONE_QUALITY and o is not m:  # fuzzy where a name was heard clearly
                overlap = min(m.end, o.end) - max(m.start, o.start)
                if overlap >= 0.6 * (m.end - m.start) and (o.end - o.start) >= (m.end - m.start):
                    return True
        return False

    return [m for m in mentions if not shadowed(m)]


class AddressMatcher:
    def __init__(self, index: AddressIndex):
        self.index = index
        self._compound_of_building: dict[int, tuple[int, int]] = {
            row: (compound, number)
            for compound, numbers in index.buildings.items() for number, row in numbers.items()
        }
        self.match = lru_cache(maxsize=4096)(self._match)

    # -- finding names ------------------------------------------------------------------
    def mentions(self, norm: str) -> list[Mention]:
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
        for gram in {key[i:i + 2] for i in range(len(key) - 1)}:
            for n in index.by_bigram.get(gram, ()):
                grams[n] += 1
        for n, shared in grams.most_common(300):
            name = index.names[n]
            if n in exact_names or name.short or len(name.key) < 3 \
                    or shared < max(1, (len(name.key) - 1) // 2):
                continue
            aligned = fuzz.partial_ratio_alignment(name.key, key, score_cutoff=FUZZY_CUTOFF)
            if aligned is None:
                continue
            segment = set(_DIGIT_RUN.findall(norm[aligned.dest_start:aligned.dest_end]))
            if any(run not in segment for run in _DIGIT_RUN.findall(name.text)):
                continue  # 松岭西路161号 is not 松岭西路169号
            found[(n, aligned.dest_start)] = Mention(
                n, aligned.dest_start, aligned.dest_end, FUZZY_FACTOR * aligned.score / 100)
        return _drop_contained(list(found.values()))

    # -- scoring -------------------------------------------------------------------------
    def _match(self, text: str, k: int = 3) -> MatchResult:
        started = time.perf_counter()
        norm = normalize(text)
        mentions = self.mentions(norm)
        index = self.index
        by_ref: dict[tuple[str, object], list[Mention]] = defaultdict(list)
        by_kind: dict[str, list[Mention]] = defaultdict(list)
        for m in mentions:
            name = index.names[m.name]
            by_ref[(name.kind, name.ref)].append(m)
            by_kind[name.kind].append(m)
        buildings = [(m.start(), m.end(), int(m[1])) for m in _BUILDING_NUM.finditer(norm)]
        houses = [(m.start(), m.end(), m[1]) for m in _HOUSE_NUM.finditer(norm)]

        def number_after(m: Mention, numbers, gap: int = 0):
            return [(s, e, v) for s, e, v in numbers if m.end <= s <= m.end + gap]

        candidates: set[int] = set()
        for m in by_kind.get(COMPOUND, ()):
            compound = index.names[m.name].ref
            candidates.add(compound)
            for _, _, number in number_after(m, buildings, BUILDING_GAP):
                row = index.buildings.get(compound, {}).get(number)
                if row is not None:
                    candidates.add(row)
        for m in by_kind.get(COMMUNITY, ()):
            code = index.names[m.name].ref
            if code in index.community_row:
                candidates.add(index.community_row[code])
            for _, _, number in number_after(m, houses, _village_gap(norm, m.end)):
                if number.isdigit():
                    for lo, hi, row in index.village_ranges.get(code, ()):
                        if lo <= int(number) <= hi:
                            candidates.add(row)
        for m in by_kind.get(ROAD, ()):
            road = index.names[m.name].ref
            for _, _, number in number_after(m, houses):
                candidates.update(index.doors.get((road, number), ()))
                for compound in index.gates.get((road, number), ()):
                    candidates.add(compound)
                    for _, _, b in buildings:
                        row = index.buildings.get(compound, {}).get(b)
                        if row is not None:
                            candidates.add(row)

        scored = []
        for row in candidates:
            result = self._score(row, norm, by_ref, by_kind, buildings, houses)
            if result is not None:
                scored.append((result[0], row, result[1]))
        scored.sort(key=lambda t: (-t[0], t[1]))
        matches = []
        top = scored[0][0] if scored else 0.0
        for rank, (score, row, evidence) in enumerate(scored[:k]):
            margin = top - scored[1][0] if rank == 0 and len(scored) > 1 else (5.0 if rank == 0 else 0.0)
            confidence = 1 / (1 + math.exp(-(score - MIN_SCORE) / 1.5))
            confidence *= 1 / (1 + math.exp(-(margin - 0.5) * 2)) if rank == 0 else 0.5
            matches.append(AddressMatch(index.rows[row], round(score, 2), round(confidence, 3), evidence))
        return MatchResult(text, norm, tuple(matches), (time.perf_counter() - started) * 1000)

    def _score(self, row_i, self_norm, by_ref, by_kind, buildings, houses):
        index = self.index
        row = index.rows[row_i]
        used: list[tuple[int, int]] = []
        evidence: list[str] = []
        score = 0.0

        def best(kind: str, ref) -> Mention | None:
            options = [m for m in by_ref.get((kind, ref), ()) if not _overlaps((m.start, m.end), used)]
            return max(options, key=lambda m: (m.quality, m.end - m.start), default=None)

        def weight(m: Mention, base: float) -> float:
            return base * m.quality * (SHORT_FACTOR if index.names[m.name].short else 1.0)

        def number_at(after: int, numbers, gap: int, value) -> tuple[int, int] | None:
            for s, e, v in numbers:
                if after <= s <= after + gap and value(v):
                    return (s, e)
            return None

        level = row.level
        if level in ("compound", "building"):
            compound_i, building_no = (row_i, None) if level == "compound" else self._compound_of_building[row_i]
            compound = index.rows[compound_i]
            m = best(COMPOUND, compound_i)
            anchor = None
            if m is not None:
                score += weight(m, W_COMPOUND) + 0.3 * min(len(index.names[m.name].text) - 2, 4)
                used.append((m.start, m.end))
                anchor = m.end
                evidence.append(f"小区:{index.names[m.name].text}")
            gate_road = best(ROAD, _norm_road(compound.road)) if compound.road else None
            if gate_road is not None:
                number = _house_no(compound.house_no)
                span = number_at(gate_road.end, houses, 0, lambda v: v == number)
                if span:
                    score += weight(gate_road, W_ROAD_NUMBER) * (0.6 if m is not None else 1.0)
                    used += [(gate_road.start, gate_road.end), span]
                    anchor = max(anchor or 0, span[1])
                    evidence.append(f"门牌:{compound.road}{compound.house_no}")
            if anchor is None:
                return None
            if building_no is not None:
                span = number_at(anchor, buildings, BUILDING_GAP, lambda v: v == building_no)
                if span is None:
                    span = next(((s, e) for s, e, v in buildings if v == building_no and s >= anchor), None)
                    if span is None:
                        return None
                    score -= 1.0  # said far from the compound name
                score += W_BUILDING
                used.append(span)
                evidence.append(f"楼栋:{row.building}")
            elif number_at(anchor, buildings, BUILDING_GAP, lambda v: True):
                score -= 2.0  # a building was said that this compound does not have
            if m is not None and anchor == m.end and number_at(m.end, houses, 0, lambda v: True):
                score -= 3.0  # "华齐街75号": the name is used as a road here
        elif level == "door":
            m = best(ROAD, _norm_road(row.road))
            if m is None:
                return None
            number = _house_no(row.house_no)
            span = number_at(m.end, houses, 0, lambda v: v == number)
            if span is None:
                return None
            score += weight(m, W_ROAD_NUMBER)
            used += [(m.start, m.end), span]
            evidence.append(f"门牌:{row.road}{row.house_no}")
        elif level in ("community", "village_house"):
            m = best(COMMUNITY, row.community_code)
            if m is None:
                return None
            score += weight(m, W_COMMUNITY)
            used.append((m.start, m.end))
            evidence.append(f"社区:{row.community}")
            if level == "village_house":
                lo, hi = row.house_range
                span = number_at(m.end, houses, _village_gap(self_norm, m.end),
                                 lambda v: v.isdigit() and lo <= int(v) <= hi)
                if span is None:
                    return None
                score += W_VILLAGE_NUMBER
                used.append(span)
                evidence.append(f"门牌:{row.house_no}")
            elif number_at(m.end, houses, _village_gap(self_norm, m.end), lambda v: True):
                score -= 2.0  # a house number was said but no range holds it
        else:
            return None

        # supporting and contradicting evidence
        support = {DISTRICT: row.district_code, TOWN: row.town_code, COMMUNITY: row.community_code,
                   ROAD: _norm_road(row.road) if row.road else None}
        for kind, ref in support.items():
            if ref is None or (kind == COMMUNITY and level in ("community", "village_house")):
                continue
            m = best(kind, ref)
            if m is not None:
                score += weight(m, W_SUPPORT[kind])
                used.append((m.start, m.end))
                evidence.append(f"{_LABEL[kind]}:{index.names[m.name].text}")
            elif kind in W_CONFLICT:
                for other in by_kind.get(kind, ()):
                    if index.names[other.name].ref != ref and other.quality >= HOMOPHONE_QUALITY \
                            and not _overlaps((other.start, other.end), used):
                        score -= W_CONFLICT[kind] * (SHORT_FACTOR if index.names[other.name].short else 1.0)
                        break
        return score, tuple(evidence)


def _village_gap(norm: str, end: int) -> int:
    """A village house number follows the name, or its 村 when only the stem was matched."""
    return 1 if norm[end:end + 1] == "村" else 0


_LABEL = {DISTRICT: "区县", TOWN: "街道", COMMUNITY: "社区", ROAD: "道路"}


@lru_cache(maxsize=65536)
def _norm_road(road: str) -> str:
    from .text import normalize_name
    return normalize_name(road)


@lru_cache(maxsize=65536)
def _house_no(text: str) -> str | None:
    from .index import house_number
    return house_number(text)
