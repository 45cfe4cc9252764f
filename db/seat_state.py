"""Seat states and heartbeats: every change is a seat event (NOTIFY seat_events)."""

from __future__ import annotations

import os

import asyncpg

STATES = ("就绪", "通话中", "话后整理", "小休", "离线")
BREAK_REASONS = ("用餐", "休息", "培训", "会议", "其他")


class SeatStateError(ValueError):
    pass


async def sign_in(conn: asyncpg.Connection, seat_id: int, agent_id: str, agent_name: str | None = None) -> None:
    agent_id = agent_id.strip()
    if not agent_id or len(agent_id) > 32:
        raise SeatStateError("工号须为1-32个字符")
    if not await conn.fetchval("SELECT 1 FROM seats WHERE id = $1", seat_id):
        raise SeatStateError(f"座席{seat_id}不存在（见 seats.toml）")
    await conn.execute(
        "INSERT INTO agents (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        agent_id, agent_name or agent_id)
    await change_state(conn, seat_id, agent_id, "就绪")


async def change_state(conn: asyncpg.Connection, seat_id: int, agent_id: str | None, state: str,
                       reason: str | None = None) -> int:
    if state not in STATES:
        raise SeatStateError(f"未知状态：{state}")
    if state == "小休" and not reason:
        raise SeatStateError("小休须选择原因")
    async with conn.transaction():
        await heartbeat(conn, seat_id, agent_id)
        return await conn.fetchval(
            "INSERT INTO seat_events (seat_id, agent_id, state, reason) VALUES ($1, $2, $3, $4) RETURNING id",
            seat_id, agent_id, state, reason)


async def heartbeat(conn: asyncpg.Connection, seat_id: int, agent_id: str | None) -> None:
    await conn.execute(
        """INSERT INTO seat_heartbeats (seat_id, agent_id, pid, at) VALUES ($1, $2, $3, now())
           ON CONFLICT (seat_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, pid = EXCLUDED.pid, at = now()""",
        seat_id, agent_id, os.getpid())


async def current_state(conn: asyncpg.Connection, seat_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT state, reason, agent_id, at FROM seat_events WHERE seat_id = $1 ORDER BY id DESC LIMIT 1",
        seat_id)
