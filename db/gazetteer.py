"""The 一标三实 gazetteer in PostgreSQL: bulk import by address code, read back for indexing.

Rows travel as plain tuples in `COLUMNS` order (the field order of geo.gazetteer.Address), so
this layer does not depend on the matcher's types.
"""

from __future__ import annotations

from typing import AsyncIterator, Iterable

import asyncpg

from .connect import connection

COLUMNS = ("address_code", "level", "district_code", "district", "town_code", "town",
           "community_code", "community", "grid_code", "grid", "road", "house_no", "compound",
           "building", "full_address", "aliases", "unit_count", "households", "population",
           "org_count")
BATCH = 20_000


class GazetteerStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def import_rows(self, rows: Iterable[tuple], source: str, errors: list) -> int:
        """Copy the rows in (insert or update by address_code) in one transaction and log the
        import; `errors` is read after the rows, so a reader that collects bad lines as it goes
        is counted. Returns the rows stored."""
        stored = 0
        async with connection(self.db) as conn, conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE gazetteer_incoming (LIKE gazetteer_addresses INCLUDING DEFAULTS) "
                "ON COMMIT DROP")
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    await conn.copy_records_to_table("gazetteer_incoming", records=batch, columns=COLUMNS)
                    stored += len(batch)
                    batch.clear()
            if batch:
                await conn.copy_records_to_table("gazetteer_incoming", records=batch, columns=COLUMNS)
                stored += len(batch)
            columns = ", ".join(COLUMNS)
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "address_code")
            await conn.execute(
                f"INSERT INTO gazetteer_addresses ({columns}) SELECT {columns} FROM gazetteer_incoming "
                f"ON CONFLICT (address_code) DO UPDATE SET {updates}, imported_at = now()")
            await conn.execute(
                "INSERT INTO gazetteer_imports (source, rows_read, rows_stored, errors) VALUES ($1, $2, $3, $4)",
                source, stored + len(errors), stored, len(errors))
        return stored

    async def fingerprint(self) -> str:
        """Changes whenever the gazetteer does (row count and the latest import)."""
        row = await self.db.fetchrow(
            "SELECT (SELECT count(*) FROM gazetteer_addresses) AS n, "
            "(SELECT max(id) FROM gazetteer_imports) AS last")
        return f"{row['n']}:{row['last']}"

    async def is_empty(self) -> bool:
        return not await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM gazetteer_addresses)")

    async def sample(self, n: int, seed: float = 0.5) -> list[asyncpg.Record]:
        """`n` addresses drawn at random (repeatably for a seed in [-1, 1]), with the codes
        routing reads."""
        async with connection(self.db) as conn, conn.transaction():
            await conn.execute("SELECT setseed($1)", seed)
            return await conn.fetch(
                "SELECT address_code, full_address, district_code, town_code FROM "
                "(SELECT * FROM gazetteer_addresses ORDER BY address_code) a ORDER BY random() LIMIT $1", n)

    async def rows(self) -> AsyncIterator[tuple]:
        """Every address as a tuple in COLUMNS order (aliases as a tuple), streamed."""
        columns = ", ".join(COLUMNS)
        async with connection(self.db) as conn, conn.transaction():
            async for r in conn.cursor(f"SELECT {columns} FROM gazetteer_addresses ORDER BY address_code",
                                       prefetch=10_000):
                yield tuple(tuple(r[c]) if c == "aliases" else r[c] for c in COLUMNS)
