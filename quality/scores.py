"""Scorecards (immutable; a correction is a new record) and the per-agent daily report."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import asyncpg

from db.qa import QaStore
from domain.privacy import mask

from .config import Rubric


async def submit_score(conn: asyncpg.Connection, call_id: int, inspector: str, rubric: Rubric,
                       passed: dict[str, bool], evidence: dict[str, str], comment: str = "",
                       corrects_id: int | None = None) -> int:
    missing = [i.key for i in rubric.items if i.key not in passed]
    if missing:
        raise ValueError(f"score every item before submitting (missing: {', '.join(missing)})")
    items = [{"key": i.key, "name": i.name, "group": i.group, "points": i.points,
              "passed": bool(passed[i.key]), "evidence": mask(evidence.get(i.key, ""))} for i in rubric.items]
    total = sum(i.points for i in rubric.items if passed[i.key])
    return await QaStore(conn).add_score(call_id, inspector, rubric.name, items, total, rubric.max_total,
                                         mask(comment.strip()), corrects_id)


async def current_score(conn: asyncpg.Connection, call_id: int) -> asyncpg.Record | None:
    """The latest record for the call (a correction replaces what it corrects)."""
    return await QaStore(conn).latest_score(call_id)


async def write_report(conn: asyncpg.Connection, day: dt.date, path: Path) -> int:
    """Per agent for the day: calls scored, average and lowest total, pass rate per item."""
    rows = await QaStore(conn).day_scores(day)
    agents: dict[str, list] = {}
    for r in rows:
        agents.setdefault(r["agent_id"] or "-", []).append(r)
    keys = []
    for r in rows:
        for item in json.loads(r["items"]):
            if item["name"] not in keys:
                keys.append(item["name"])
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["日期", "工号", "质检通话数", "平均得分", "最低得分", "满分", *[f"{k}通过率" for k in keys]])
        for agent, scored in sorted(agents.items()):
            totals = [float(r["total"]) for r in scored]
            rates = []
            for k in keys:
                marks = [i["passed"] for r in scored for i in json.loads(r["items"]) if i["name"] == k]
                rates.append(f"{sum(marks) / len(marks):.0%}" if marks else "")
            writer.writerow([day.isoformat(), agent, len(scored), f"{sum(totals) / len(totals):.1f}",
                             f"{min(totals):.1f}", f"{float(scored[0]['max_total']):.0f}", *rates])
    return len(agents)
