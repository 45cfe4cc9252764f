"""The in-memory address index: names by sound key, and the rows under each entity."""

from __future__ import annotations

import csv
import pickle
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .gazetteer import COLUMNS, Address, GazetteerError, validate_row
from common.zhtext import SoundKey

from .text import normalize_name

CACHE_VERSION = 7
ROOM_BITS = 17  # a room key is building row << 17 | unit·floor·door (5 digits)
_HOUSE_NO = re.compile(r"^(\d+(?:-\d+)?)号$")
_BUILDING_NO = re.compile(r"^(\d+)号楼$")

# Name kinds, and suffixes whose removal gives the short form callers also say.
DISTRICT, TOWN, COMMUNITY, ROAD, COMPOUND = "district", "town", "community", "road", "compound"
_SHORT_SUFFIXES = {
    DISTRICT: ("区", "县"),
    TOWN: ("街道", "镇", "乡"),
    COMMUNITY: ("社区", "村", "居委会"),
}


_ADDRESS_FIELDS = tuple(f.name for f in fields(Address))
# The words of a staff compound, interchangeable in speech (longest first: 宿舍楼 before 宿舍).
_DORMITORY_WORDS = ("宿舍楼", "家属楼", "家属院", "家属区", "宿舍")
# A short form that is also an everyday word names nothing: 桓公路社区 → 桓公路 is the road,
# 路口村 → 路口 is any junction, 西北村 → 西北 a direction.
_ROAD_END = ("路", "街", "巷", "大道", "胡同")
_DIRECTIONS = set("东西南北中前后左右上下内外里")
_COMMON_WORDS = {"路口", "十字", "十字路", "交叉", "附近", "对面", "中心", "花园", "公园", "广场",
                 "市场", "医院", "学校", "新村", "大街", "小区", "开发区"}


def says_nothing(short: str) -> bool:
    """Whether a short form (suffix dropped) is a road, a direction or an everyday word."""
    return (short.endswith(_ROAD_END) or short in _COMMON_WORDS
            or all(ch in _DIRECTIONS for ch in short))


def house_number(text: str) -> str | None:
    """'145号' → '145', '34-1号' → '34-1'."""
    match = _HOUSE_NO.match(normalize_name(text))
    return match[1] if match else None


@dataclass(frozen=True, slots=True)
class Name:
    """One way of saying an entity: `key` is its sound key, `text` its normalised spelling."""

    key: str
    text: str
    kind: str
    ref: str | int  # district/town/community code, road name, or compound row index
    short: bool  # a short form (suffix dropped): weaker evidence


@dataclass
class AddressIndex:
    rows: list[Address] = field(default_factory=list)
    sound: SoundKey = field(default_factory=SoundKey)
    names: list[Name] = field(default_factory=list)
    by_start: dict[str, list[int]] = field(default_factory=dict)  # first 2 key chars → names
    by_bigram: dict[str, list[int]] = field(default_factory=dict)  # any key bigram → names
    community_row: dict[str, int] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)  # town → district, community → town
    buildings: dict[int, dict[int, int]] = field(default_factory=dict)  # compound row → no → row
    doors: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    gates: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    village_ranges: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    rooms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted keys
    build_seconds: float = 0.0
    fingerprint: str = ""  # of the gazetteer it was built from (see db.gazetteer.GazetteerStore.fingerprint)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(cls, rows: Iterable[Address], on_progress: Callable[[int], None] | None = None,
              room_codes: Iterable[str] = ()) -> "AddressIndex":
        """Index rows; room rows (level room) are kept only as keys under their building."""
        started = time.perf_counter()
        index = cls()
        room_codes = list(room_codes)
        compound_by_code: dict[str, int] = {}
        pending_buildings: list[tuple[Address, int]] = []
        name_keys: dict[tuple[str, str, str | int], int] = {}

        def add_name(text: str, kind: str, ref: str | int, short: bool = False) -> None:
            norm = normalize_name(text)
            if len(norm) < 2 or (kind, norm, ref) in name_keys:
                return
            name_keys[(kind, norm, ref)] = len(index.names)
            index.names.append(Name(index.sound.key(norm), norm, kind, ref, short))

        def add_with_short(text: str, kind: str, ref: str) -> None:
            add_name(text, kind, ref)
            for suffix in _SHORT_SUFFIXES[kind]:
                if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                    if not says_nothing(text[: -len(suffix)]):
                        add_name(text[: -len(suffix)], kind, ref, short=True)
                    break

        seen_towns: set[str] = set()
        for n, row in enumerate(rows, 1):
            if on_progress and n % 20000 == 0:
                on_progress(n)
            if row.level == "room":
                room_codes.append(row.address_code)
                continue
            i = len(index.rows)
            index.rows.append(row)
            if row.town_code not in seen_towns:
                seen_towns.add(row.town_code)
                index.parents[row.town_code] = row.district_code
                add_with_short(row.district, DISTRICT, row.district_code)
                add_with_short(row.town, TOWN, row.town_code)
            if row.level == "community":
                index.community_row[row.community_code] = i
                index.parents[row.community_code] = row.town_code
                add_with_short(row.community, COMMUNITY, row.community_code)
                for alias in row.aliases:
                    add_name(alias, COMMUNITY, row.community_code)
            elif row.level == "compound":
                compound_by_code[row.address_code] = i
                add_name(row.compound, COMPOUND, i)
                for alias in row.aliases:
                    add_name(alias, COMPOUND, i)
                number = house_number(row.house_no) if row.road else None
                if number:
                    index.gates.setdefault((normalize_name(row.road), number), []).append(i)
            elif row.level == "building":
                pending_buildings.append((row, i))
            elif row.level == "door":
                number = house_number(row.house_no)
                if number:
                    index.doors.setdefault((normalize_name(row.road), number), []).append(i)
            elif row.level == "village_house":
                lo_hi = row.house_range
                if lo_hi:
                    index.village_ranges.setdefault(row.community_code, []).append((*lo_hi, i))
            if row.road:
                add_name(row.road, ROAD, normalize_name(row.road))

        # a staff compound is said with any of its words (农行家属楼 is 农行家属院 and 农行宿舍 to
        # its residents): those forms name it too, unless another compound is really called so
        said_names = {name.text for name in index.names if name.kind == COMPOUND}
        for i in compound_by_code.values():
            text = normalize_name(index.rows[i].compound)
            stem = next((text[:-len(w)] for w in _DORMITORY_WORDS if text.endswith(w)), None)
            if stem is not None and len(stem) >= 2:
                for word in _DORMITORY_WORDS:
                    if stem + word not in said_names:
                        add_name(stem + word, COMPOUND, i)

        for row, i in pending_buildings:
            compound = compound_by_code.get(row.address_code[:-2] + "00")
            match = _BUILDING_NO.match(normalize_name(row.building))
            if compound is not None and match:
                index.buildings.setdefault(compound, {})[int(match[1])] = i
        index._index_rooms(room_codes)
        index._index_names()
        index.build_seconds = time.perf_counter() - started
        return index

    def _index_rooms(self, codes: list[str]) -> None:
        buildings = {self.rows[i].address_code: i for numbers in self.buildings.values()
                     for i in numbers.values()}
        keys = [(buildings[c[:-5]] << ROOM_BITS) | int(c[-5:]) for c in codes if c[:-5] in buildings]
        self.rooms = np.unique(np.array(keys, dtype=np.int64))

    def has_room(self, building_row: int, suffix: str) -> bool:
        """Whether building `building_row` has the room unit·floor·door `suffix` (e.g. 21502)."""
        key = (building_row << ROOM_BITS) | int(suffix)
        at = int(np.searchsorted(self.rooms, key))
        return at < len(self.rooms) and int(self.rooms[at]) == key

    @classmethod
    def from_csv(cls, path: Path, on_error: Callable[[GazetteerError], None] | None = None,
                 on_progress: Callable[[int], None] | None = None) -> "AddressIndex":
        """Build straight from a standard-address CSV.  Room rows take a fast path: only
        their code is kept, checked to be digits under a building code."""
        rows: list[Address] = []
        rooms: list[str] = []
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            at = {name: i for i, name in enumerate(header)}
            missing = [c for c in ("address_code", "level", "full_address") if c not in at]
            if missing:
                raise GazetteerError(1, f"missing column(s): {', '.join(missing)}")
            code_at, level_at = at["address_code"], at["level"]
            for line, record in enumerate(reader, 2):
                if len(record) != len(header):
                    error = GazetteerError(line, f"{len(record)} fields, the header has {len(header)}")
                elif record[level_at] == "room":
                    code = record[code_at]
                    if code.isdigit() and len(code) == 23:
                        rooms.append(code)
                        continue
                    error = GazetteerError(line, f"a room address_code has 23 digits, got {code!r}")
                else:
                    try:
                        rows.append(validate_row({c: record[i] for c, i in at.items() if c in COLUMNS}, line))
                        continue
                    except GazetteerError as exc:
                        error = exc
                if on_error is None:
                    raise error
                on_error(error)
        return cls.build(rows, on_progress, rooms)

    @cached_property
    def _row_of_code(self) -> dict[str, int]:
        """address_code → row (built on first use; rows do not change after build)."""
        return {row.address_code: i for i, row in enumerate(self.rows)}

    def row_by_code(self, code: str) -> Address | None:
        i = self._row_of_code.get(code)
        return self.rows[i] if i is not None else None

    def _index_names(self) -> None:
        starts: dict[str, list[int]] = defaultdict(list)
        bigrams: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(self.names):
            starts[name.key[:2]].append(i)
            for gram in {name.key[j:j + 2] for j in range(len(name.key) - 1)}:
                bigrams[gram].append(i)
        self.by_start = dict(starts)
        self.by_bigram = dict(bigrams)

    # -- cache file -------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        state = {k: v for k, v in self.__dict__.items() if k != "_row_of_code"}
        state["sound"] = self.sound.syllables
        # plain tuples pickle several times faster than dataclass instances
        state["rows"] = list(map(attrgetter(*_ADDRESS_FIELDS), self.rows))
        state["names"] = [(n.key, n.text, n.kind, n.ref, n.short) for n in self.names]
        with open(tmp, "wb") as fh:
            pickle.dump((CACHE_VERSION, state), fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "AddressIndex":
        with open(path, "rb") as fh:
            version, state = pickle.load(fh)
        if version != CACHE_VERSION:
            raise ValueError(f"index cache {path} has version {version}, expected {CACHE_VERSION}")
        state["sound"] = SoundKey(state["sound"])
        state["rows"] = [Address(*t) for t in state["rows"]]
        state["names"] = [Name(*t) for t in state["names"]]
        index = cls.__new__(cls)
        index.__dict__.update(state)
        return index
