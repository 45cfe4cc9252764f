"""What the supervisor's wallboard reads: the seats' states, today's figures, a seat's detail."""

from __future__ import annotations

import datetime as dt

import asyncpg

SERVICE_LEVEL_SECONDS = 15


class WallboardStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def seats(self) -> list[asyncpg.Record]:
        """Every seat with its latest state, agent, when it changed, and its last heartbeat."""
        return await self.db.fetch(
            """SELECT s.id, s.floor_row, s.floor_col, s.seat_group, e.state, e.reason, e.agent_id,
                      e.at AS since, a.name AS agent_name, h.at AS heartbeat
               FROM seats s
               LEFT JOIN LATERAL (SELECT state, reason, agent_id, at FROM seat_events
                                  WHERE seat_id = s.id ORDER BY id DESC LIMIT 1) e ON true
               LEFT JOIN agents a ON a.id = e.agent_id
               LEFT JOIN seat_heartbeats h ON h.seat_id = s.id
               ORDER BY s.id""")

    async def today(self, now: dt.datetime) -> dict:
        """Today's call and ticket figures (Asia/Shanghai day)."""
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        calls = await self.db.fetchrow(
            """SELECT count(*) AS offered,
                      count(answer_at) AS answered,
                      count(*) FILTER (WHERE answer_at - ring_at <= make_interval(secs => $2)) AS in_time,
                      avg(extract(epoch FROM end_at - answer_at)) FILTER (WHERE end_at IS NOT NULL
                          AND answer_at IS NOT NULL) AS handle_s
               FROM calls WHERE ring_at >= $1""", day_start, SERVICE_LEVEL_SECONDS)
        wrapup = await self.db.fetchval(
            """SELECT avg(extract(epoch FROM t.stored_at - c.end_at))
               FROM tickets t JOIN calls c ON c.id = t.call_id
               WHERE t.accepted_at >= $1 AND c.end_at IS NOT NULL AND t.stored_at >= c.end_at""", day_start)
        by_type = {r["ticket_type"]: r["n"] for r in await self.db.fetch(
            "SELECT ticket_type, count(*) AS n FROM tickets WHERE accepted_at >= $1 GROUP BY 1 ORDER BY 2 DESC",
            day_start)}
        direct = await self.db.fetchval(
            "SELECT count(*) FROM tickets WHERE accepted_at >= $1 AND handling_mode = '直办'", day_start)
        categories = await self.db.fetch(  # hot spots: only tickets with a category (未分类 says nothing)
            """SELECT c.name, count(*) AS n FROM tickets t
               JOIN categories c ON c.code = t.category_code
               WHERE t.accepted_at >= $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 5""", day_start)
        hotspots = await self.db.fetch(
            """SELECT g.town || g.community AS place, count(*) AS n FROM tickets t
               JOIN gazetteer_addresses g ON g.address_code = t.address_code
               WHERE t.accepted_at >= $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 5""", day_start)
        hourly = await self.db.fetch(
            """SELECT extract(hour FROM ring_at AT TIME ZONE 'Asia/Shanghai')::int AS h, count(*) AS n
               FROM calls WHERE ring_at >= $1 GROUP BY 1""", day_start)
        per_hour = [0] * 24
        for r in hourly:
            per_hour[r["h"]] = r["n"]
        tickets = sum(by_type.values())
        return {
            "offered": calls["offered"], "answered": calls["answered"],
            "service_level": calls["in_time"] / calls["offered"] if calls["offered"] else None,
            "handle_s": float(calls["handle_s"]) if calls["handle_s"] is not None else None,
            "wrapup_s": float(wrapup) if wrapup is not None else None,
            "tickets": tickets, "by_type": by_type,
            "direct_rate": direct / tickets if tickets else None,
            "categories": [(r["name"], r["n"]) for r in categories],
            "hotspots": [(r["place"], r["n"]) for r in hotspots],
            "calls_per_hour": per_hour,
        }

    async def seat_detail(self, seat_id: int, now: dt.datetime) -> dict:
        """A seat's current call (with its transcript so far) and today's tickets."""
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # the supervisor is not the agent on the call: the masked views (migration 008)
        call = await self.db.fetchrow(
            "SELECT id, caller_number, answer_at, transcript FROM inspection_calls "
            "WHERE seat_id = $1 AND end_at IS NULL ORDER BY id DESC LIMIT 1", seat_id)
        tickets = await self.db.fetch(
            """SELECT ticket_no, ticket_type, status, content FROM inspection_tickets
               WHERE seat_id = $1 AND accepted_at >= $2 ORDER BY id DESC LIMIT 20""", seat_id, day_start)
        return {"call": call, "tickets": tickets}
