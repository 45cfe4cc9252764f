"""Responsible units (承办单位) and the rules that route a ticket to one, by area and category.

Pure: the rules are read once (from PostgreSQL, see db.reference) and chosen from in memory,
so a seat keeps routing while the database is away.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from common.userfile import read_text

DEFAULT_UNITS = Path(__file__).parent / "data" / "units.toml"


class UnitsConfigError(ValueError):
    """units.toml is malformed; the message names file and entry."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str = "职能部门"


@dataclass(frozen=True)
class RoutingRule:
    """Matches when every condition given matches (None: any)."""

    unit: Unit
    district_code: str | None = None
    town_code: str | None = None
    category_prefix: str | None = None
    priority: int = 0
    order: int = 0  # position in the file: the last tie-breaker

    def matches(self, district: str | None, town: str | None, category: str | None) -> bool:
        return ((self.district_code is None or self.district_code == district)
                and (self.town_code is None or self.town_code == town)
                and (self.category_prefix is None or (category or "").startswith(self.category_prefix)))

    def rank(self) -> tuple:
        """Higher wins: priority, then the longest category prefix, then town, then district."""
        return (self.priority, len(self.category_prefix or ""), self.town_code is not None,
                self.district_code is not None, -self.order)


def route(rules: list[RoutingRule], district: str | None, town: str | None,
          category: str | None) -> Unit | None:
    """The unit a ticket goes to, or None when no rule matches."""
    matching = [r for r in rules if r.matches(district, town, category)]
    return max(matching, key=RoutingRule.rank).unit if matching else None


def parse_units(path: Path = DEFAULT_UNITS) -> tuple[list[Unit], list[RoutingRule]]:
    """Units and routing rules from a TOML file ([[unit]] code/name/kind, [[rule]] unit/
    district/town/category/priority)."""
    try:
        data = tomllib.loads(read_text(path, UnitsConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise UnitsConfigError(f"{path}: not valid TOML: {exc}") from None
    units: dict[str, Unit] = {}
    for n, raw in enumerate(_tables(data, "unit", path), 1):
        code, name, kind = raw.get("code"), raw.get("name"), raw.get("kind", "职能部门")
        if not all(isinstance(v, str) and v.strip() and v.isprintable() for v in (code, name, kind)):
            raise UnitsConfigError(f"{path}: unit #{n} needs a code, a name and a kind as text")
        units[code] = Unit(code, name, kind)
    rules = []
    for n, raw in enumerate(_tables(data, "rule", path), 1):
        unit = units.get(raw.get("unit")) if isinstance(raw.get("unit"), str) else None
        if unit is None:
            raise UnitsConfigError(f"{path}: rule #{n} names unknown unit {raw.get('unit')!r}")
        priority = raw.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise UnitsConfigError(f"{path}: rule #{n} field 'priority' must be a whole number")
        conditions = [raw.get(k) for k in ("district", "town", "category")]
        if any(c is not None and not (isinstance(c, str) and c.isdigit()) for c in conditions):
            raise UnitsConfigError(f"{path}: rule #{n}: district, town and category must be digit codes")
        rules.append(RoutingRule(unit, *conditions, priority, n))
    return list(units.values()), rules


def _tables(data: dict, name: str, path: Path) -> list[dict]:
    tables = data.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UnitsConfigError(f"{path}: '{name}' must be [[{name}]] tables")
    return tables
