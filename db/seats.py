"""Seats in PostgreSQL: the floor's seats, state changes (seat events) and heartbeats.

Every state change is a row in `seat_events` (append-only; its trigger sends NOTIFY
seat_events for the wallboard).  Which changes are allowed is `domain.seats`.
"""

from __future__ import annotations

import datetime as dt
import os

import asyncpg

from domain.seats import Seat, SeatStateError
from domain.vocabulary import SeatState

from .connect import connection


class SeatStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def sync(self, seats: list[Seat]) -> int:
        """Insert or update every seat of seats.toml; return how many were written."""
        async with connection(self.db) as conn:
            async with conn.transaction():
                # floor places may be swapped between seats: check uniqueness at commit
                await conn.execute("SET CONSTRAINTS ALL DEFERRED")
                await conn.executemany(
                    """INSERT INTO seats (id, extension, seat_group, audio_device, floor_row, floor_col)
                       VALUES ($1, $2, $3, $4, $5, $6)
                       ON CONFLICT (id) DO UPDATE SET extension = EXCLUDED.extension,
                           seat_group = EXCLUDED.seat_group, audio_device = EXCLUDED.audio_device,
                           floor_row = EXCLUDED.floor_row, floor_col = EXCLUDED.floor_col,
                           updated_at = now()""",
                    [(s.id, s.extension, s.group, str(s.audio_device), s.row, s.col) for s in seats])
        return len(seats)

    async def count(self) -> int:
        return await self.db.fetchval("SELECT count(*) FROM seats")

    async def ensure_agent(self, seat_id: int, agent_id: str, agent_name: str | None = None) -> None:
        """The seat must exist; the agent is registered on first sign-in."""
        if not await self.db.fetchval("SELECT 1 FROM seats WHERE id = $1", seat_id):
            raise SeatStateError(f"座席{seat_id}不存在（见 seats.toml）")
        await self.db.execute(
            "INSERT INTO agents (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            agent_id, agent_name or agent_id)

    async def record_state(self, seat_id: int, agent_id: str | None, state: SeatState,
                           reason: str | None = None, at: dt.datetime | None = None) -> int:
        """Append the seat event (and beat the heart in the same transaction); `at` when the
        change happened earlier (recorded while the database was away)."""
        async with connection(self.db) as conn:
            async with conn.transaction():
                await _beat(conn, seat_id, agent_id)
                return await conn.fetchval(
                    "INSERT INTO seat_events (seat_id, agent_id, state, reason, at) "
                    "VALUES ($1, $2, $3, $4, coalesce($5, now())) RETURNING id",
                    seat_id, agent_id, str(state), reason, at)

    async def heartbeat(self, seat_id: int, agent_id: str | None) -> None:
        await _beat(self.db, seat_id, agent_id)

    async def current_state(self, seat_id: int) -> asyncpg.Record | None:
        return await self.db.fetchrow(
            "SELECT state, reason, agent_id, at FROM seat_events WHERE seat_id = $1 ORDER BY id DESC LIMIT 1",
            seat_id)


async def _beat(db, seat_id: int, agent_id: str | None) -> None:
    await db.execute(
        """INSERT INTO seat_heartbeats (seat_id, agent_id, pid, at) VALUES ($1, $2, $3, now())
           ON CONFLICT (seat_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, pid = EXCLUDED.pid, at = now()""",
        seat_id, agent_id, os.getpid())

