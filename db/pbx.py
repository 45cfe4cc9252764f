"""What the floor's PBX reads from PostgreSQL, written and read by the programs: the seats'
SIP credentials (as digest HA1) and the ACD queue (migration 014)."""

from __future__ import annotations

import hashlib

import asyncpg

from .connect import connection


def ha1(username: str, realm: str, password: str) -> str:
    """The digest credential Kamailio checks (RFC 2617): md5(user:realm:password)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


class PbxStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def set_subscribers(self, domain: str, passwords: dict[str, str]) -> int:
        """The extensions that may register, replacing the domain's previous ones."""
        rows = [(ext, domain, ha1(ext, domain, pw)) for ext, pw in passwords.items()]
        async with connection(self.db) as conn, conn.transaction():
            await conn.execute("DELETE FROM pbx.subscriber WHERE domain = $1", domain)
            await conn.executemany(
                "INSERT INTO pbx.subscriber (username, domain, ha1) VALUES ($1, $2, $3)", rows)
        return len(rows)

    async def waiting(self) -> list[asyncpg.Record]:
        """Callers waiting for a seat, longest first (no numbers: a supervisor reads this)."""
        return await self.db.fetch("SELECT since, offered_seat FROM pbx.waiting ORDER BY since")
