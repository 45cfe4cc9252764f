"""What `hotline db status` shows about the server."""

from __future__ import annotations

import asyncpg

COUNTED = ("seats", "categories", "units", "tickets", "calls", "gazetteer_addresses")


async def server_version(conn: asyncpg.Connection) -> str:
    return await conn.fetchval("SHOW server_version")


async def row_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows in the main tables (names are ours, never user input)."""
    return {name: await conn.fetchval(f"SELECT count(*) FROM {name}") for name in COUNTED}
