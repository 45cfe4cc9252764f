"""The gazetteer in PostgreSQL: import from the standard-address CSV, read back for indexing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Callable

import asyncpg

from .gazetteer import Address, GazetteerError, read_csv

_COLUMNS = ("address_code", "level", "district_code", "district", "town_code", "town",
            "community_code", "community", "grid_code", "grid", "road", "house_no", "compound",
            "building", "full_address", "aliases", "unit_count", "households", "population",
            "org_count")
BATCH = 20_000


@dataclass
class ImportReport:
    source: str
    rows_read: int = 0
    rows_stored: int = 0
    errors: list[GazetteerError] = field(default_factory=list)


def _record(row: Address) -> tuple:
    return (row.address_code, row.level, row.district_code, row.district, row.town_code,
            row.town, row.community_code, row.community, row.grid_code, row.grid, row.road,
            row.house_no, row.compound, row.building, row.full_address, list(row.aliases),
            row.unit_count, row.households, row.population, row.org_count)


async def import_csv(conn: asyncpg.Connection, path: Path, strict: bool = False,
                     on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """Load a standard-address CSV; re-importing updates rows by address_code.

    Invalid rows are reported with their line numbers and skipped; with `strict` the first
    one aborts the import and nothing is stored.
    """
    report = ImportReport(str(path))
    rows = read_csv(path, on_error=None if strict else report.errors.append, on_progress=on_progress)
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE gazetteer_incoming (LIKE gazetteer_addresses INCLUDING DEFAULTS) "
            "ON COMMIT DROP")
        batch: list[tuple] = []
        for row in rows:
            batch.append(_record(row))
            if len(batch) >= BATCH:
                await conn.copy_records_to_table("gazetteer_incoming", records=batch, columns=_COLUMNS)
                report.rows_stored += len(batch)
                batch.clear()
        if batch:
            await conn.copy_records_to_table("gazetteer_incoming", records=batch, columns=_COLUMNS)
            report.rows_stored += len(batch)
        columns = ", ".join(_COLUMNS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "address_code")
        await conn.execute(
            f"INSERT INTO gazetteer_addresses ({columns}) SELECT {columns} FROM gazetteer_incoming "
            f"ON CONFLICT (address_code) DO UPDATE SET {updates}, imported_at = now()")
        report.rows_read = report.rows_stored + len(report.errors)
        await conn.execute(
            "INSERT INTO gazetteer_imports (source, rows_read, rows_stored, errors) VALUES ($1, $2, $3, $4)",
            report.source, report.rows_read, report.rows_stored, len(report.errors))
    return report


async def fingerprint(conn: asyncpg.Connection) -> str:
    """Changes whenever the gazetteer does (row count and the latest import)."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM gazetteer_addresses) AS n, "
        "(SELECT max(id) FROM gazetteer_imports) AS last")
    return f"{row['n']}:{row['last']}"


async def read_rows(conn: asyncpg.Connection) -> AsyncIterator[Address]:
    columns = ", ".join(_COLUMNS)
    async with conn.transaction():
        async for r in conn.cursor(f"SELECT {columns} FROM gazetteer_addresses ORDER BY address_code",
                                   prefetch=10_000):
            yield Address(*(r[c] for c in _COLUMNS[:15]), tuple(r["aliases"]),
                          *(r[c] for c in _COLUMNS[16:]))
