"""qa.toml: sampling rules and the scorecard rubric, validated with clear errors."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from common.userfile import read_text

CHECKS = ("greeting", "polite", "closing", "address_read_back", "silence", "talk_over")


class QaConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Sampling:
    per_agent: int = 2
    long_call_minutes: float = 10
    silence_ratio: float = 0.4
    first_month_days: int = 30
    daily_cap: int = 120  # calls the inspection team scores in a day (0: no cap)
    random_share: float = 0.5  # of the cap, for random calls; the rest for risk signals


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    points: float
    group: str
    check: str | None  # automatic pre-check, or None for the inspector alone


@dataclass(frozen=True)
class Rubric:
    name: str
    items: tuple[Item, ...]

    @property
    def max_total(self) -> float:
        return sum(i.points for i in self.items)


def load_qa(path: Path) -> tuple[Sampling, Rubric]:
    try:
        data = tomllib.loads(read_text(path, QaConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise QaConfigError(f"{path}: not valid TOML: {exc}") from None
    raw = data.get("sampling", {})
    if not isinstance(raw, dict):
        raise QaConfigError(f"{path}: 'sampling' must be a table [sampling]")
    unknown = set(raw) - set(Sampling.__dataclass_fields__)
    if unknown:
        raise QaConfigError(f"{path}: [sampling] has unknown setting(s) {', '.join(sorted(unknown))}")
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise QaConfigError(f"{path}: [sampling] {key} must be a non-negative number, got {value!r}")
        if key in ("per_agent", "first_month_days", "daily_cap") and not isinstance(value, int):
            raise QaConfigError(f"{path}: [sampling] {key} must be a whole number, got {value!r}")
        if key == "random_share" and value > 1:
            raise QaConfigError(f"{path}: [sampling] random_share must be from 0 to 1, got {value!r}")
    sampling = Sampling(**raw)
    rubric = data.get("rubric") or {}
    groups = rubric.get("group", []) if isinstance(rubric, dict) else None
    if not isinstance(groups, list) or not all(
            isinstance(g, dict) and isinstance(g.get("items", []), list)
            and all(isinstance(i, dict) for i in g.get("items", [])) for g in groups):
        raise QaConfigError(f"{path}: the rubric must be [[rubric.group]] tables with items = [{{…}}, …]")
    items, keys = [], set()
    for group in groups:
        for raw_item in group.get("items", []):
            key, name, points = raw_item.get("key"), raw_item.get("name"), raw_item.get("points")
            check = raw_item.get("check")
            if not isinstance(key, str) or not key or not isinstance(name, str) or not name \
                    or isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 < points < 10_000:
                raise QaConfigError(f"{path}: rubric item {raw_item!r} needs key, name and positive points")
            if key in keys:
                raise QaConfigError(f"{path}: rubric item key {key!r} appears twice")
            if check is not None and (not isinstance(check, str) or check not in CHECKS):
                raise QaConfigError(f"{path}: item {key!r} names unknown check {check!r} ({', '.join(CHECKS)})")
            keys.add(key)
            items.append(Item(key, name, float(points), str(group.get("name", "")), check))
    if not items:
        raise QaConfigError(f"{path}: the rubric has no items")
    return sampling, Rubric(str(rubric.get("name", "质检评分表")), tuple(items))
