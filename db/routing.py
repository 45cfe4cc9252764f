"""Responsible units and the rules that route a ticket to one (by area and category)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

DEFAULT_UNITS = Path(__file__).parent / "data" / "units.toml"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str


async def load_units(conn: asyncpg.Connection, path: Path = DEFAULT_UNITS) -> tuple[int, int]:
    """Replace units' names and all routing rules from a TOML file; return (units, rules)."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    units = data.get("unit", [])
    rules = data.get("rule", [])
    codes = {u["code"] for u in units}
    for n, rule in enumerate(rules, 1):
        if rule.get("unit") not in codes:
            raise ValueError(f"{path}: rule #{n} names unknown unit {rule.get('unit')!r}")
    async with conn.transaction():
        await conn.executemany(
            """INSERT INTO units (code, name, kind) VALUES ($1, $2, $3)
               ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind""",
            [(u["code"], u["name"], u.get("kind", "职能部门")) for u in units],
        )
        await conn.execute("DELETE FROM routing_rules")
        await conn.executemany(
            """INSERT INTO routing_rules (unit_code, district_code, town_code, category_prefix, priority)
               VALUES ($1, $2, $3, $4, $5)""",
            [(r["unit"], r.get("district"), r.get("town"), r.get("category"), r.get("priority", 0))
             for r in rules],
        )
    return len(units), len(rules)


async def route(conn, district_code: str | None, town_code: str | None,
                category_code: str | None) -> Unit | None:
    """The unit a ticket goes to: highest priority, then longest category prefix, then town, district."""
    row = await conn.fetchrow(
        """SELECT u.code, u.name FROM routing_rules r JOIN units u ON u.code = r.unit_code
           WHERE (r.district_code IS NULL OR r.district_code = $1)
             AND (r.town_code IS NULL OR r.town_code = $2)
             AND (r.category_prefix IS NULL OR starts_with(coalesce($3, ''), r.category_prefix))
           ORDER BY r.priority DESC, length(coalesce(r.category_prefix, '')) DESC,
                    (r.town_code IS NOT NULL) DESC, (r.district_code IS NOT NULL) DESC, r.id
           LIMIT 1""",
        district_code, town_code, category_code)
    return Unit(row["code"], row["name"]) if row else None
