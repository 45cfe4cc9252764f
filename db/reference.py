"""Reference data in PostgreSQL: the category taxonomy, units and their routing rules."""

from __future__ import annotations

import asyncpg

from domain.routing import RoutingRule, Unit
from domain.taxonomy import Category

from .connect import connection


class ReferenceStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    # -- taxonomy --------------------------------------------------------------------------------
    async def import_taxonomy(self, categories: list[Category]) -> int:
        async with connection(self.db) as conn, conn.transaction():
            await conn.executemany(
                """INSERT INTO categories (code, name, level, parent_code, path)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
                       parent_code = EXCLUDED.parent_code, path = EXCLUDED.path""",
                [(c.code, c.name, c.level, c.parent_code, c.path) for c in categories])
        return len(categories)

    async def categories(self, level: int | None = None) -> list[Category]:
        rows = await self.db.fetch(
            "SELECT code, name, level, parent_code, path FROM categories "
            "WHERE $1::int IS NULL OR level = $1 ORDER BY level, code", level)
        return [Category(r["code"], r["name"], r["level"], r["parent_code"], r["path"]) for r in rows]

    async def category(self, code: str) -> Category | None:
        r = await self.db.fetchrow(
            "SELECT code, name, level, parent_code, path FROM categories WHERE code = $1", code)
        return Category(r["code"], r["name"], r["level"], r["parent_code"], r["path"]) if r else None

    async def has_categories(self) -> bool:
        return bool(await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM categories)"))

    # -- units and routing -------------------------------------------------------------------------
    async def replace_units(self, units: list[Unit], rules: list[RoutingRule]) -> tuple[int, int]:
        """Insert or update the units and replace all routing rules (in file order)."""
        async with connection(self.db) as conn, conn.transaction():
            await conn.executemany(
                """INSERT INTO units (code, name, kind) VALUES ($1, $2, $3)
                   ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind""",
                [(u.code, u.name, u.kind) for u in units])
            await conn.execute("DELETE FROM routing_rules")
            await conn.executemany(
                """INSERT INTO routing_rules (unit_code, district_code, town_code, category_prefix, priority)
                   VALUES ($1, $2, $3, $4, $5)""",
                [(r.unit.code, r.district_code, r.town_code, r.category_prefix, r.priority)
                 for r in sorted(rules, key=lambda r: r.order)])
        return len(units), len(rules)

    async def units(self) -> list[Unit]:
        return [Unit(r["code"], r["name"], r["kind"])
                for r in await self.db.fetch("SELECT code, name, kind FROM units ORDER BY code")]

    async def routing_rules(self) -> list[RoutingRule]:
        rows = await self.db.fetch(
            """SELECT r.id, r.district_code, r.town_code, r.category_prefix, r.priority,
                      u.code, u.name, u.kind
               FROM routing_rules r JOIN units u ON u.code = r.unit_code ORDER BY r.id""")
        return [RoutingRule(Unit(r["code"], r["name"], r["kind"]), r["district_code"], r["town_code"],
                            r["category_prefix"], r["priority"], r["id"]) for r in rows]
