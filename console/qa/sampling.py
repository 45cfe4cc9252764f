"""The day's sample (每天一质检): k random calls per agent plus every call with a risk signal.
Reproducible: the same day and data give the same sample."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import asyncpg

from db.workdays import SHANGHAI
from speech.analysis import analyse
from speech.audio import AudioError
from speech.playback import load_recording

from .config import Sampling


def silence_ratio(path: str | None) -> float | None:
    if not path or not Path(path).exists():
        return None
    try:
        return analyse(load_recording(Path(path))).silence_ratio
    except AudioError:
        return None


async def draw_sample(conn: asyncpg.Connection, day: dt.date, rules: Sampling) -> list[tuple[int, list[str]]]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
    calls = await conn.fetch(
        """SELECT c.id, c.agent_id, c.recording_path,
                  extract(epoch FROM c.end_at - c.answer_at) AS seconds, a.hired_on,
                  bool_or(t.ticket_type = '投诉') AS complaint,
                  bool_or(e.status = '退单') AS returned
           FROM calls c
           LEFT JOIN agents a ON a.id = c.agent_id
           LEFT JOIN tickets t ON t.call_id = c.id
           LEFT JOIN ticket_events e ON e.ticket_id = t.id AND e.status = '退单'
           WHERE c.ring_at >= $1 AND c.ring_at < $2 AND c.answer_at IS NOT NULL AND c.end_at IS NOT NULL
           GROUP BY c.id, a.hired_on ORDER BY c.id""", start, start + dt.timedelta(days=1))
    reasons: dict[int, list[str]] = {}
    by_agent: dict[str, list[int]] = {}
    for c in calls:
        by_agent.setdefault(c["agent_id"] or "-", []).append(c["id"])
        found = []
        if c["seconds"] and c["seconds"] > rules.long_call_minutes * 60:
            found.append("超长通话")
        if c["complaint"]:
            found.append("投诉工单")
        if c["returned"]:
            found.append("工单退单")
        if c["hired_on"] and (day - c["hired_on"]).days < rules.first_month_days:
            found.append("新员工")
        ratio = silence_ratio(c["recording_path"])
        if ratio is not None and ratio > rules.silence_ratio:
            found.append(f"静默{ratio:.0%}")
        if found:
            reasons[c["id"]] = found
    for agent, ids in sorted(by_agent.items()):
        rng = random.Random(f"{day.isoformat()}/{agent}")
        for call_id in rng.sample(ids, min(rules.per_agent, len(ids))):
            reasons.setdefault(call_id, []).insert(0, "随机抽取")
    sample = sorted(reasons.items())
    async with conn.transaction():
        await conn.executemany(
            """INSERT INTO qa_samples (sample_date, call_id, reasons) VALUES ($1, $2, $3)
               ON CONFLICT (sample_date, call_id) DO UPDATE SET reasons = EXCLUDED.reasons""",
            [(day, call_id, r) for call_id, r in sample])
    return sample
