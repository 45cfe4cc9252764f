"""The day's sample (每天一质检): k random calls per agent and the calls with risk signals,
no more than the inspection team scores in a day (`daily_cap`), the riskiest first.
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
    sample = choose(reasons, random_picks(day, by_agent, rules.per_agent), rules)
    await QaStore(conn).save_sample(day, sample)
    return sample


# How much a signal says about a call going wrong: a returned ticket (the unit could not act
# on what was written) and a call left silent are the strongest; a complaint is a third of a
# hotline's calls and says little about the agent by itself.
RISK_WEIGHT = {"工单退单": 4, "静默": 3, "超长通话": 2, "新员工": 2, "投诉工单": 1}


def risk_score(reasons: list[str]) -> int:
    return sum(w for r in reasons for signal, w in RISK_WEIGHT.items() if r.startswith(signal))


def random_picks(day: dt.date, by_agent: dict[str, list[int]], per_agent: int) -> list[int]:
    """per_agent calls of each agent, taken in turns across agents (in an order drawn for the
    day), so that a cap cuts every agent's share alike."""
    picks = {agent: random.Random(f"{day.isoformat()}/{agent}").sample(ids, min(per_agent, len(ids)))
             for agent, ids in sorted(by_agent.items())}
    agents = sorted(picks)
    random.Random(day.isoformat()).shuffle(agents)
    return [picks[a][turn] for turn in range(per_agent) for a in agents if turn < len(picks[a])]


def choose(risky: dict[int, list[str]], randomly: list[int], rules: Sampling) -> list[tuple[int, list[str]]]:
    """At most daily_cap calls (0: no cap): random_share of them random (what no signal would
    catch), the rest the riskiest; a share one side leaves unused goes to the other."""
    ranked = sorted(risky, key=lambda c: (-risk_score(risky[c]), c))
    cap = rules.daily_cap or len(ranked) + len(randomly)
    random_quota = round(cap * rules.random_share)
    chosen: dict[int, list[str]] = {}

    def take(calls: list[int], limit: int, is_random: bool) -> None:
        for call_id in calls:
            if len(chosen) >= limit:
                return
            if call_id not in chosen:
                chosen[call_id] = (["随机抽取"] if is_random else []) + risky.get(call_id, [])

    take(randomly, random_quota, True)
    take(ranked, cap, False)
    take(randomly, cap, True)
    return sorted(chosen.items(), key=lambda item: (-risk_score(item[1]), item[0]))
