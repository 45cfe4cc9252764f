"""A ticket's life in PostgreSQL: its state read from its events, a step appended as events
(under a per-ticket lock, after domain.lifecycle allows it), and the timers' warnings fired
by the worker — once each, however many workers run and whenever they restart."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg

from domain.lifecycle import Request, TicketState, plan
from domain.settings import LifecycleSettings
from domain.vocabulary import TicketStatus

from .connect import connection

_STATE = """
SELECT status, unit_code, deadline, pending_extension, supervision_by IS NOT NULL AS open_supervision
FROM ticket_current WHERE ticket_id = $1
"""

# Every running timer of every open ticket (ticket_open, migration 013): from when, until
# when. A unit's timers start at the latest dispatch (派单, 改派, 重办); the handling deadline
# is the latest approved one. With its three levels, each timer gives the moments its warnings
# are due ($1 is now).
_DUE = """
WITH open AS (
    SELECT * FROM ticket_open WHERE status IN ('已派单', '已签收', '办理中', '退单', '重办')
), timers AS (
    SELECT ticket_id, 'sign' AS timer, dispatched_at AS started, dispatched_at + $2 AS due
    FROM open WHERE status IN ('已派单', '重办') AND dispatched_at IS NOT NULL
    UNION ALL
    SELECT ticket_id, 'contact', dispatched_at, dispatched_at + $3
    FROM open WHERE status IN ('已派单', '已签收', '重办') AND dispatched_at IS NOT NULL
      AND (contacted_at IS NULL OR contacted_at < dispatched_at)
    UNION ALL
    SELECT ticket_id, 'handle', accepted_at, deadline FROM open
    UNION ALL
    SELECT ticket_id, 'supervision', supervision_at, supervision_by FROM open WHERE supervision_by IS NOT NULL
), levels (level, share) AS (VALUES ('yellow', $4::float8), ('orange', $5::float8), ('red', 1.0::float8)),
warnings AS (
    SELECT t.ticket_id, t.timer, l.level, t.due, t.started + (t.due - t.started) * l.share AS fire_at
    FROM timers t CROSS JOIN levels l WHERE t.due > t.started
)
"""

_FIRE = _DUE + """
INSERT INTO ticket_events (ticket_id, at, kind, actor, payload)
SELECT w.ticket_id, $1, 'warning', 'worker',
       jsonb_build_object('timer', w.timer, 'level', w.level,
                          'due_at', floor(extract(epoch FROM w.due))::bigint,
                          'fire_at', extract(epoch FROM w.fire_at))
FROM warnings w WHERE $1 >= w.fire_at
ON CONFLICT DO NOTHING
RETURNING ticket_id, payload
"""

# The next moment a warning falls due (fired ones are in the past, so only later ones count).
_NEXT = _DUE + "SELECT min(fire_at) FROM warnings WHERE fire_at > $1"


def _timer_args(now: dt.datetime, settings: LifecycleSettings) -> tuple:
    return (now, dt.timedelta(minutes=settings.sign_minutes), dt.timedelta(minutes=settings.contact_minutes),
            settings.yellow, settings.orange)


class LifecycleStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def state(self, ticket_id: int, conn: asyncpg.Connection | None = None) -> TicketState:
        row = await (conn or self.db).fetchrow(_STATE, ticket_id)
        if row is None:
            raise LookupError(f"没有这张工单（id {ticket_id}）")
        return TicketState(TicketStatus(row["status"]), row["unit_code"], row["deadline"],
                           row["pending_extension"], row["open_supervision"])

    async def ticket_id(self, ticket_no: str) -> int:
        found = await self.db.fetchval("SELECT id FROM tickets WHERE ticket_no = $1", ticket_no)
        if found is None:
            raise LookupError(f"没有工单 {ticket_no}")
        return found

    async def apply(self, ticket_id: int, request: Request, at: dt.datetime | None = None) -> list[int]:
        """Take one step (LifecycleError when the rules refuse it); the new events' ids."""
        async with connection(self.db) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(1, $1::int)", ticket_id % 2**31)
            events = plan(await self.state(ticket_id, conn), request)
            return [await conn.fetchval(
                """INSERT INTO ticket_events (ticket_id, at, kind, status, unit_code, actor, note, payload)
                   VALUES ($1, coalesce($2, now()), $3, $4, $5, $6, $7, $8::jsonb) RETURNING id""",
                ticket_id, at, e.kind, e.status, e.unit_code, request.actor, e.note,
                json.dumps(e.payload, ensure_ascii=False)) for e in events]

    async def unit_queue(self, unit_code: str) -> list[asyncpg.Record]:
        """The unit's open tickets, soonest deadline first, with the worst warning in force
        (of the current turn's timers and deadline)."""
        return await self.db.fetch(
            """SELECT t.id, t.ticket_no, t.ticket_type, t.urgency, t.content, t.address_text,
                      t.caller_number, t.accepted_at, o.status, o.deadline, o.warning
               FROM ticket_open o JOIN tickets t ON t.id = o.ticket_id
               WHERE o.status IN ('已派单', '已签收', '办理中', '重办') AND o.unit_code = $1
               ORDER BY o.deadline, t.id""", unit_code)

    async def needing_supervision(self, now: dt.datetime) -> list[asyncpg.Record]:
        """What a supervisor must act on: returns to review, extension requests to decide,
        tickets overdue or under an orange/red warning, and open 督办 — most urgent first.
        Content and numbers come masked (the supervisor is not the agent on the call)."""
        return await self.db.fetch(
            """WITH board AS (
                   SELECT o.ticket_id, o.status, o.unit_code, o.deadline, o.turn_id,
                          o.pending_extension AS extension_to, o.supervision_by, o.warning
                   FROM ticket_open o
                   WHERE o.status IN ('已派单', '已签收', '办理中', '退单', '重办'))
               SELECT b.*, i.ticket_no, i.ticket_type, i.content, i.caller_number, i.address_text,
                      u.name AS unit_name,
                      b.deadline < $1 AS overdue
               FROM board b JOIN inspection_tickets i ON i.id = b.ticket_id
               LEFT JOIN units u ON u.code = b.unit_code
               WHERE b.status = '退单' OR b.extension_to IS NOT NULL OR b.supervision_by IS NOT NULL
                  OR b.warning IN ('orange', 'red') OR b.deadline < $1
               ORDER BY (b.status = '退单') DESC, (b.extension_to IS NOT NULL) DESC,
                        (b.warning = 'red' OR b.deadline < $1) DESC, b.deadline""", now)

    async def to_call_back(self, replied_before: dt.datetime) -> list[asyncpg.Record]:
        """Tickets a unit replied to (已办结) before a moment and nobody has called back yet,
        oldest reply first, with the unit's reply."""
        return await self.db.fetch(
            """SELECT t.id, t.ticket_no, t.ticket_type, t.caller_number, t.content, t.address_text,
                      r.at AS replied_at, r.note AS reply, s.unit_code, u.name AS unit_name
               FROM ticket_open s JOIN tickets t ON t.id = s.ticket_id
               CROSS JOIN LATERAL (SELECT e.at, e.note
                                   FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'status'
                                     AND e.status = '已办结' ORDER BY e.id DESC LIMIT 1) r
               LEFT JOIN units u ON u.code = s.unit_code
               WHERE s.status = '已办结' AND r.at < $1
               ORDER BY r.at, t.id""", replied_before)

    async def history(self, ticket_id: int) -> list[asyncpg.Record]:
        return await self.db.fetch(
            "SELECT id, at, kind, status, unit_code, actor, note, payload FROM ticket_events "
            "WHERE ticket_id = $1 ORDER BY id", ticket_id)

    async def fire_warnings(self, now: dt.datetime, settings: LifecycleSettings) -> list[asyncpg.Record]:
        """Append the warnings due by `now` that were not fired yet (ticket_id, payload each),
        and tell the screens (NOTIFY ticket_warnings)."""
        async with connection(self.db) as conn, conn.transaction():
            fired = await conn.fetch(_FIRE, *_timer_args(now, settings))
            if fired:
                await conn.execute("SELECT pg_notify('ticket_warnings', $1)", str(len(fired)))
        return fired

    async def timer_starts(self, start: dt.datetime, end: dt.datetime) -> dict[int, list[tuple[float, str]]]:
        """Each ticket accepted in [start, end): the moments (epoch seconds, in order) its timers
        were started or moved — 'turn' (dispatched to a unit, again, or reopened: sign, contact
        and handling timers), 'deadline' (the handling deadline moved), 'supervision' (a 督办's
        answer-by). The simulation measures the worker's lag from them."""
        rows = await self.db.fetch(
            """SELECT e.ticket_id, extract(epoch FROM e.at)::float8 AS at,
                      CASE WHEN e.kind = 'status' THEN 'turn' ELSE e.kind END AS what
               FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
               WHERE t.accepted_at >= $1 AND t.accepted_at < $2
                 AND (e.kind IN ('deadline', 'supervision') OR (e.kind = 'status' AND e.status IN ($3, $4)))
               ORDER BY e.ticket_id, e.at""", start, end, TicketStatus.DISPATCHED, TicketStatus.REOPENED)
        starts: dict[int, list[tuple[float, str]]] = {}
        for r in rows:
            starts.setdefault(r["ticket_id"], []).append((r["at"], r["what"]))
        return starts

    async def next_fire_at(self, now: dt.datetime, settings: LifecycleSettings) -> dt.datetime | None:
        """When the next warning falls due after `now` (None: no timer runs), so the worker
        can sleep until then instead of polling."""
        return await self.db.fetchval(_NEXT, *_timer_args(now, settings))
