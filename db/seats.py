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
from domain.workdays import SHANGHAI

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

    async def claim(self, seat_id: int, agent_id: str, silent_for: float, take_over: bool = False) -> None:
        """Make sure no other live console holds the seat before this one signs in: a seat
        is held while its latest state is not 离线 and its heartbeat is fresh. `take_over`
        signs the holder out instead (logged as a seat event with the reason)."""
        async with connection(self.db) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(12345, 1000 + $1::int)", seat_id)
            holder = await conn.fetchrow(
                """SELECT e.state, h.agent_id, h.pid, h.at FROM seat_heartbeats h
                   JOIN LATERAL (SELECT state FROM seat_events WHERE seat_id = h.seat_id
                                 ORDER BY id DESC LIMIT 1) e ON true
                   WHERE h.seat_id = $1 AND e.state <> '离线'
                     AND h.at > now() - make_interval(secs => $2)""", seat_id, silent_for)
            if holder is None or (holder["agent_id"] == agent_id and holder["pid"] == os.getpid()):
                return
            if not take_over:
                raise SeatStateError(
                    f"座席{seat_id}已由工号{holder['agent_id']}签入（进程{holder['pid']}，"
                    f"最后心跳 {holder['at'].astimezone(SHANGHAI):%H:%M:%S}）；确需接管请加 --take-over")
            await conn.execute(
                "INSERT INTO seat_events (seat_id, agent_id, state, reason) VALUES ($1, $2, '离线', $3)",
                seat_id, holder["agent_id"], f"由工号{agent_id}接管"[:64])

    async def close_silent(self, silent_for: float) -> int:
        """Close the seats whose console stopped beating (see migration 007); how many."""
        return await self.db.fetchval("SELECT close_silent_seats(make_interval(secs => $1))", silent_for)

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

