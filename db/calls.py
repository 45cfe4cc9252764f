"""Calls: ring, answer and hang-up times, recording and transcript."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg

from domain.tickets import normalize_phone
from domain.vocabulary import Speaker


class CallStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def ring(self, seat_id: int | None, caller_number: str, at: dt.datetime,
                   agent_id: str | None = None) -> int:
        return await self.db.fetchval(
            "INSERT INTO calls (seat_id, agent_id, caller_number, ring_at) VALUES ($1, $2, $3, $4) RETURNING id",
            seat_id, agent_id, _stored_number(caller_number), at)

    async def answer(self, call_id: int, at: dt.datetime, recording_path: str | None = None) -> None:
        """The call is answered; its recording is linked now, so it is found even if the
        console dies before the call ends."""
        await self.db.execute("UPDATE calls SET answer_at = $2, recording_path = $3 WHERE id = $1",
                              call_id, at, recording_path)

    async def hang_up(self, call_id: int, at: dt.datetime, recording_path: str | None,
                      recording_seconds: float | None, reason: str | None = None) -> None:
        """The call ends (each column is written once: see migration 007)."""
        await self.db.execute(
            """UPDATE calls SET end_at = $2, recording_path = coalesce(recording_path, $3),
                   recording_seconds = $4, end_reason = $5 WHERE id = $1""",
            call_id, at, recording_path, recording_seconds, reason)

    async def add_utterance(self, call_id: int, text: str, start: float, end: float,
                            speaker: str = Speaker.CALLER) -> None:
        """Append one final utterance while the call goes on (the wallboard shows the tail)."""
        await self.db.execute(
            "UPDATE calls SET transcript = transcript || $2::jsonb WHERE id = $1", call_id,
            json.dumps([{"text": text, "start": start, "end": end, "speaker": speaker}], ensure_ascii=False))

    async def insert_finished(self, seat_id: int | None, agent_id: str | None, caller_number: str,
                              ring_at: dt.datetime, answer_at: dt.datetime | None, end_at: dt.datetime,
                              recording_path: str | None, recording_seconds: float | None,
                              transcript: list[dict]) -> int:
        """A whole call at once: one that rang while the database was away."""
        return await self.db.fetchval(
            """INSERT INTO calls (seat_id, agent_id, caller_number, ring_at, answer_at, end_at,
                                  recording_path, recording_seconds, transcript)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING id""",
            seat_id, agent_id, _stored_number(caller_number), ring_at, answer_at, end_at, recording_path,
            recording_seconds, json.dumps(transcript, ensure_ascii=False))

    async def get(self, call_id: int) -> asyncpg.Record | None:
        """The call as it stands after its corrections."""
        return await self.db.fetchrow("SELECT * FROM calls_corrected WHERE id = $1", call_id)

    async def correct(self, call_id: int, by: str, reason: str, transcript: list[dict] | None = None,
                      recording_path: str | None = None) -> None:
        """Correct what was recorded by new rows (the call itself never changes)."""
        rows = [(field, json.dumps(value, ensure_ascii=False))
                for field, value in (("transcript", transcript), ("recording_path", recording_path))
                if value is not None]
        if not rows:
            raise ValueError("nothing to correct")
        await self.db.executemany(
            "INSERT INTO call_corrections (call_id, field, value, reason, corrected_by) "
            "VALUES ($1, $2, $3::jsonb, $4, $5)", [(call_id, f, v, reason, by) for f, v in rows])


def _stored_number(caller_number: str) -> str:
    """The normalised number, or what came (cut to fit): the call is kept even if the number is odd."""
    try:
        return normalize_phone(caller_number)
    except ValueError:
        return (caller_number or "未知号码")[:32]
