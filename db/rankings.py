"""Units ranked by how they handle tickets, computed from the event log alone.

A unit's work is counted per dispatch: each 派单, 改派 or 重办 to it opens a turn that lasts
until the next one (by event order: a 回访 and the 重办 it causes share one moment). In a
turn: signed on time (within sign_minutes), contacted on time (within contact_minutes),
replied (办结) by the deadline in force at the reply, returned (退单); per ticket and unit: an
extension asked for; per reply: reopened (不满意 → 重办); per call-back in the unit's turn:
satisfied (满意 or 基本满意). Turns are those that began in the period. The turns are kept
by a trigger in ticket_turns (migration 015, where the definitions live in SQL), so a year's
report groups turns instead of walking millions of events.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from domain.settings import LifecycleSettings

_REPORT = """
SELECT j.unit_code, u.name,
       count(*) AS turns,
       count(DISTINCT j.ticket_id) AS tickets,
       count(*) FILTER (WHERE j.signed_at <= j.at + $3) AS signed_on_time,
       count(*) FILTER (WHERE j.contacted_at <= j.at + $4) AS contacted_on_time,
       count(*) FILTER (WHERE j.replied_at IS NOT NULL OR j.due_at < $5) AS due_or_replied,
       count(*) FILTER (WHERE j.replied_at <= j.due_at) AS replied_on_time,
       count(*) FILTER (WHERE j.replied_at IS NOT NULL) AS replied,
       count(*) FILTER (WHERE j.returned) AS returned,
       count(*) FILTER (WHERE j.extended) AS extended,
       count(*) FILTER (WHERE j.outcome IS NOT NULL) AS visited,
       count(*) FILTER (WHERE j.outcome IN ('满意', '基本满意')) AS satisfied,
       count(*) FILTER (WHERE j.outcome = '不满意') AS reopened,
       avg(extract(epoch FROM j.replied_at - j.at)) FILTER (WHERE j.replied_at IS NOT NULL) AS handle_s
FROM ticket_turns j JOIN units u ON u.code = j.unit_code
WHERE j.at >= $1 AND j.at < $2
GROUP BY j.unit_code, u.name
"""


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def unit_rankings(db: asyncpg.Pool | asyncpg.Connection, start: dt.datetime, end: dt.datetime,
                        settings: LifecycleSettings, now: dt.datetime) -> list[dict]:
    """One row per unit with work in [start, end), best first (on-time reply, then satisfaction)."""
    rows = await db.fetch(_REPORT, start, end, dt.timedelta(minutes=settings.sign_minutes),
                          dt.timedelta(minutes=settings.contact_minutes), now)
    units = [{
        "unit": r["unit_code"], "单位": r["name"],
        "办件量": r["tickets"],
        "按时签收率": _rate(r["signed_on_time"], r["turns"]),
        "按时联系率": _rate(r["contacted_on_time"], r["turns"]),
        "按期办结率": _rate(r["replied_on_time"], r["due_or_replied"]),
        "退单率": _rate(r["returned"], r["turns"]),
        "延期率": _rate(r["extended"], r["turns"]),
        "重办率": _rate(r["reopened"], r["replied"]),
        "满意率": _rate(r["satisfied"], r["visited"]),
        "平均办理小时": round(float(r["handle_s"]) / 3600, 2) if r["handle_s"] is not None else None,
    } for r in rows]
    return sorted(units, key=lambda u: (-(u["按期办结率"] or 0), -(u["满意率"] or 0), u["unit"]))


async def hot_spots(db: asyncpg.Pool | asyncpg.Connection, start: dt.datetime, end: dt.datetime,
                    top: int = 10) -> list[dict]:
    """Per week (Monday, Asia/Shanghai) the categories × 街道/社区 with the most tickets accepted
    — only tickets with a category and a confirmed address say where and what."""
    rows = await db.fetch(
        """SELECT * FROM (
               SELECT week, category, town, community, count(*) AS n,
                      rank() OVER (PARTITION BY week ORDER BY count(*) DESC, category, town, community) AS place
               FROM (SELECT date_trunc('week', t.accepted_at AT TIME ZONE 'Asia/Shanghai')::date AS week,
                            c.path AS category, g.town, g.community
                     FROM tickets t
                     JOIN categories c ON c.code = t.category_code
                     JOIN gazetteer_addresses g ON g.address_code = t.address_code
                     WHERE t.accepted_at >= $1 AND t.accepted_at < $2) spotted
               GROUP BY week, category, town, community) ranked
           WHERE place <= $3 ORDER BY week, place""", start, end, top)
    return [{"week": str(r["week"]), "分类": r["category"], "街道": r["town"], "社区": r["community"],
             "工单数": r["n"]} for r in rows]
