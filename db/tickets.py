"""Ticket store: the original record is written once; every change is an appended event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from domain.tickets import TicketDraft, TicketRules, validate
from domain.vocabulary import CLOSED_STATUSES

from .connect import connection

_INSERT = """
WITH ins AS (
    INSERT INTO tickets (
        ticket_no, idempotency_key, accepted_at, ticket_type, urgency, channel,
        handling_mode, category_code, caller_number, caller_name, address_code,
        address_text, content, unit_code, kb_article_id, deadline_at, call_id,
        seat_id, agent_id)
    VALUES (next_ticket_no(($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date),
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, ticket_no, deadline_at
), events AS (
    INSERT INTO ticket_events (ticket_id, at, kind, status, unit_code, actor)
    SELECT ins.id, $2, 'status', s.status,
           CASE WHEN s.status = '已派单' THEN $13 END, coalesce($18, '')
    FROM ins, unnest($19::text[]) WITH ORDINALITY AS s(status, ord)
    ORDER BY s.ord
)
SELECT id, ticket_no, deadline_at FROM ins
"""

_EXISTING = "SELECT id, ticket_no, deadline_at FROM tickets WHERE idempotency_key = $1"


@dataclass(frozen=True)
class StoredTicket:
    id: int
    ticket_no: str
    deadline_at: dt.datetime
    created: bool  # False when the idempotency key was already stored


class TicketStore:
    """Writes tickets and their events through an asyncpg pool or connection."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection, rules: TicketRules | None = None):
        self.db = db
        self.rules = rules

    async def submit(self, draft: TicketDraft, validated: bool = False) -> StoredTicket:
        """Validate (unless the caller just did) and store; storing the same idempotency key
        twice returns the first."""
        t = draft if validated else validate(draft)
        deadline = self.rules.deadline(t.ticket_type, t.urgency, t.accepted_at)
        row = await self.db.fetchrow(
            _INSERT, t.idempotency_key, t.accepted_at, t.ticket_type, t.urgency, t.channel,
            t.handling_mode, t.category_code, t.caller_number, t.caller_name, t.address_code,
            t.address_text, t.content, t.unit_code, t.kb_article_id, deadline, t.call_id,
            t.seat_id, t.agent_id, list(self.rules.initial_statuses(t)),
        )
        if row is not None:
            return StoredTicket(row["id"], row["ticket_no"], row["deadline_at"], True)
        row = await self.db.fetchrow(_EXISTING, t.idempotency_key)
        return StoredTicket(row["id"], row["ticket_no"], row["deadline_at"], False)

    async def append_status(self, ticket_id: int, status: str, actor: str,
                            unit_code: str | None = None, note: str = "") -> int:
        """Record a status change after checking the workflow allows it."""
        conn_ctx = connection(self.db)
        async with conn_ctx as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(1, $1::int)", ticket_id % 2**31)
            current = await conn.fetchval(
                "SELECT status FROM ticket_status WHERE ticket_id = $1", ticket_id)
            if current is None:
                raise LookupError(f"no ticket with id {ticket_id}")
            self.rules.check_transition(current, status)
            return await conn.fetchval(
                """INSERT INTO ticket_events (ticket_id, kind, status, unit_code, actor, note)
                   VALUES ($1, 'status', $2, $3, $4, $5) RETURNING id""",
                ticket_id, status, unit_code, actor, note)

    async def add_note(self, ticket_id: int, note: str, actor: str) -> int:
        if not note.strip():
            raise ValueError("备注不能为空")
        return await self.db.fetchval(
            """INSERT INTO ticket_events (ticket_id, kind, actor, note)
               VALUES ($1, 'note', $2, $3) RETURNING id""", ticket_id, actor, note.strip())

    async def status(self, ticket_id: int) -> str | None:
        return await self.db.fetchval(
            "SELECT status FROM ticket_status WHERE ticket_id = $1", ticket_id)

    async def history(self, ticket_id: int) -> list[asyncpg.Record]:
        return await self.db.fetch(
            "SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY id", ticket_id)

    async def by_caller(self, caller_number: str, limit: int = 10) -> list[asyncpg.Record]:
        return await self.db.fetch(
            """SELECT t.*, s.status FROM tickets t JOIN ticket_status s ON s.ticket_id = t.id
               WHERE t.caller_number = $1 ORDER BY t.accepted_at DESC LIMIT $2""",
            caller_number, limit)

    async def open_at_address(self, address_code: str, limit: int = 3) -> list[asyncpg.Record]:
        """Tickets at this address that are not closed yet, newest first."""
        return await self.db.fetch(
            """SELECT t.ticket_no, t.ticket_type, s.status FROM tickets t
               JOIN ticket_status s ON s.ticket_id = t.id
               WHERE t.address_code = $1 AND s.status <> ALL($2::text[])
               ORDER BY t.id DESC LIMIT $3""", address_code, [str(x) for x in CLOSED_STATUSES], limit)

    async def labelled_contents(self, limit: int = 5000) -> list[tuple[str, str]]:
        """(content, category code) of the latest categorised tickets: what the category
        suggestion learns from."""
        rows = await self.db.fetch(
            "SELECT content, category_code FROM tickets WHERE category_code IS NOT NULL "
            "ORDER BY id DESC LIMIT $1", limit)
        return [(r["content"], r["category_code"]) for r in rows]

    async def for_call(self, call_id: int) -> asyncpg.Record | None:
        """The first ticket filed from a call, with its status and the address's names."""
        return await self.db.fetchrow(
            """SELECT t.*, s.status, g.compound, g.road, g.community FROM tickets t
               JOIN ticket_status s ON s.ticket_id = t.id
               LEFT JOIN gazetteer_addresses g ON g.address_code = t.address_code
               WHERE t.call_id = $1 ORDER BY t.id LIMIT 1""", call_id)

    async def search(self, start: dt.datetime | None = None, end: dt.datetime | None = None,
                     status: str | None = None, caller: str | None = None, address: str | None = None,
                     unit: str | None = None, number: str | None = None,
                     limit: int | None = None, masked: bool = False) -> tuple[int, list[asyncpg.Record]]:
        """Tickets matching every filter given (accepted in [start, end), current status, caller
        number, the words of the address (space-separated, all of them), current unit, number
        prefix): how many in all, and the newest `limit` of them (all when None). `masked`
        reads numbers, addresses and content masked, as a supervisor may — who therefore
        cannot search by caller."""
        if masked and caller:
            raise PermissionError("按来电号码查询须话务员权限（本角色只能看到脱敏号码）")
        where = """($1::timestamptz IS NULL OR t.accepted_at >= $1) AND ($2::timestamptz IS NULL OR t.accepted_at < $2)
                   AND ($3::text IS NULL OR s.status = $3) AND ($4::text IS NULL OR t.caller_number = $4)
                   AND ($5::text IS NULL OR NOT EXISTS (SELECT 1 FROM unnest(string_to_array($5, ' ')) w
                                                       WHERE strpos(t.address_text, w) = 0))
                   AND ($6::text IS NULL OR s.unit_code = $6) AND ($7::text IS NULL OR starts_with(t.ticket_no, $7))"""
        source = "inspection_tickets" if masked else "tickets"
        current = f"FROM {source} t JOIN ticket_current s ON s.ticket_id = t.id"
        args = (start, end, status, caller, address, unit, number)
        total = await self.db.fetchval(f"SELECT count(*) {current} WHERE {where}", *args)
        rows = await self.db.fetch(
            f"""SELECT t.id, t.ticket_no, t.accepted_at, t.ticket_type, t.urgency, t.handling_mode, s.status,
                       s.unit_code AS unit, u.name AS unit_name, s.deadline AS deadline_at, t.caller_number,
                       t.address_text, t.content
                {current} LEFT JOIN units u ON u.code = s.unit_code
                WHERE {where} ORDER BY t.id DESC LIMIT $8""", *args, limit)
        return total, rows

    async def accepted_since(self, since: dt.datetime, limit: int = 10) -> list[asyncpg.Record]:
        """The latest tickets accepted since a moment, with status and unit name."""
        return await self.db.fetch(
            """SELECT t.ticket_no, t.ticket_type, s.status, u.name AS unit, t.accepted_at,
                      t.deadline_at, t.content
               FROM tickets t JOIN ticket_status s ON s.ticket_id = t.id
               LEFT JOIN units u ON u.code = t.unit_code
               WHERE t.accepted_at >= $1 ORDER BY t.id DESC LIMIT $2""", since, limit)

    async def count_events(self, start: dt.datetime, end: dt.datetime) -> int:
        """Events of the tickets accepted in [start, end)."""
        return await self.db.fetchval(
            "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
            "WHERE t.accepted_at >= $1 AND t.accepted_at < $2", start, end)

    async def count_stored(self, keys: list) -> int:
        """How many of these idempotency keys are stored."""
        return await self.db.fetchval(
            "SELECT count(*) FROM tickets WHERE idempotency_key = ANY($1::uuid[])", keys)
