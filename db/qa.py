"""Quality inspection in PostgreSQL: the day's sample and the scorecards (append-only: a
correction is a new record naming the one it corrects)."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg

from domain.vocabulary import TicketStatus, TicketType
from domain.workdays import SHANGHAI

from .connect import connection


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


class QaStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def answered_calls(self, day: dt.date) -> list[asyncpg.Record]:
        """The day's answered, ended calls with what sampling weighs: length, recording, the
        agent's hiring date, a complaint ticket, a ticket sent back."""
        return await self.db.fetch(
            """SELECT c.id, c.agent_id, c.recording_path,
                      extract(epoch FROM c.end_at - c.answer_at) AS seconds, a.hired_on,
                      bool_or(t.ticket_type = $3) AS complaint,
                      bool_or(e.status = $4) AS returned
               FROM calls c
               LEFT JOIN agents a ON a.id = c.agent_id
               LEFT JOIN tickets t ON t.call_id = c.id
               LEFT JOIN ticket_events e ON e.ticket_id = t.id AND e.status = $4
               WHERE c.ring_at >= $1 AND c.ring_at < $2 AND c.answer_at IS NOT NULL AND c.end_at IS NOT NULL
               GROUP BY c.id, a.hired_on ORDER BY c.id""",
            *_day_bounds(day), str(TicketType.COMPLAINT), str(TicketStatus.RETURNED))

    async def save_sample(self, day: dt.date, sample: list[tuple[int, list[str]]]) -> None:
        """The day's draw in its order; a call a previous draw held and this one does not
        keeps its row without a rank: out of the list unless it was already scored."""
        async with connection(self.db) as conn, conn.transaction():
            await conn.execute("UPDATE qa_samples SET rank = NULL WHERE sample_date = $1", day)
            await conn.executemany(
                """INSERT INTO qa_samples (sample_date, call_id, reasons, rank) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (sample_date, call_id)
                   DO UPDATE SET reasons = EXCLUDED.reasons, rank = EXCLUDED.rank""",
                [(day, call_id, reasons, rank) for rank, (call_id, reasons) in enumerate(sample)])

    async def sample(self, day: dt.date) -> list[asyncpg.Record]:
        """The day's sampled calls, riskiest first, with their reasons and whether scored."""
        return await self.db.fetch(
            """SELECT q.call_id, q.reasons, c.agent_id, c.caller_number, c.ring_at,
                      extract(epoch FROM c.end_at - c.answer_at) AS seconds,
                      EXISTS (SELECT 1 FROM qa_scores s WHERE s.call_id = q.call_id) AS scored
               FROM qa_samples q JOIN inspection_calls c ON c.id = q.call_id
               WHERE q.sample_date = $1
                 AND (q.rank IS NOT NULL OR EXISTS (SELECT 1 FROM qa_scores s WHERE s.call_id = q.call_id))
               ORDER BY q.rank NULLS LAST, q.call_id""", day)

    async def call(self, call_id: int) -> asyncpg.Record | None:
        """A call as inspectors see it: every number masked (migration 008)."""
        return await self.db.fetchrow("SELECT * FROM inspection_calls WHERE id = $1", call_id)

    async def ticket_for_call(self, call_id: int) -> asyncpg.Record | None:
        """The first ticket filed from a call, masked, with its status and address names."""
        return await self.db.fetchrow(
            "SELECT * FROM inspection_tickets WHERE call_id = $1 ORDER BY id LIMIT 1", call_id)

    async def add_score(self, call_id: int, inspector: str, rubric: str, items: list[dict],
                        total: float, max_total: float, comment: str, corrects_id: int | None) -> int:
        return await self.db.fetchval(
            """INSERT INTO qa_scores (call_id, inspector, rubric, items, total, max_total, comment, corrects_id)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) RETURNING id""",
            call_id, inspector, rubric, json.dumps(items, ensure_ascii=False), total, max_total,
            comment, corrects_id)

    async def latest_score(self, call_id: int) -> asyncpg.Record | None:
        """The latest record for the call (a correction replaces what it corrects)."""
        return await self.db.fetchrow(
            "SELECT * FROM qa_scores WHERE call_id = $1 ORDER BY id DESC LIMIT 1", call_id)

    async def day_scores(self, day: dt.date) -> list[asyncpg.Record]:
        """The latest score of every call of the day that has one, with its agent."""
        return await self.db.fetch(
            """SELECT DISTINCT ON (s.call_id) s.call_id, s.total, s.max_total, s.items, c.agent_id
               FROM qa_scores s JOIN calls c ON c.id = s.call_id
               WHERE c.ring_at >= $1 AND c.ring_at < $2 ORDER BY s.call_id, s.id DESC""",
            *_day_bounds(day))
