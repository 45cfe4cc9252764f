"""The day's sample (每天一质检): k random calls per agent plus every call with a risk signal.
Reproducible: the same day and data give the same sample."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import asyncpg

from db.qa import QaStore
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
    calls = await QaStore(conn).answered_calls(day)
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
    await QaStore(conn).save_sample(day, sample)
    return sample
