"""Responsible units (承办单位) and the rules that route a ticket to one, by area and category.

Pure: the rules are read once (from PostgreSQL, see db.reference) and chosen from in memory,
so a seat keeps routing while the database is away.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

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
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UnitsConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UnitsConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    units: dict[str, Unit] = {}
    for n, raw in enumerate(data.get("unit", []), 1):
        code, name = raw.get("code"), raw.get("name")
        if not isinstance(code, str) or not code or not isinstance(name, str) or not name:
            raise UnitsConfigError(f"{path}: unit #{n} needs a code and a name")
        units[code] = Unit(code, name, raw.get("kind", "职能部门"))
    rules = []
    for n, raw in enumerate(data.get("rule", []), 1):
        unit = units.get(raw.get("unit"))
        if unit is None:
            raise UnitsConfigError(f"{path}: rule #{n} names unknown unit {raw.get('unit')!r}")
        priority = raw.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise UnitsConfigError(f"{path}: rule #{n} field 'priority' must be a whole number")
        rules.append(RoutingRule(unit, raw.get("district"), raw.get("town"), raw.get("category"),
                                 priority, n))
    return list(units.values()), rules
