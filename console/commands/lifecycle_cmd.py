"""hotline ticket STEP | show, hotline worker: a ticket's life after the call.

    hotline ticket 签收 20261202-0001 --unit ZD --actor 张三
    hotline ticket 退单 20261202-0001 --unit ZD --actor 张三 --text "不属于本单位职责"
    hotline ticket 延期申请 20261202-0001 --unit ZD --actor 张三 --due 2026-12-09T18:00 --text "需协调燃气公司"
    hotline ticket 回访 20261202-0001 --actor A012 --outcome 不满意 --text "灯还没修"
    hotline ticket show 20261202-0001
    hotline worker                      # fire yellow / orange / red warnings as they fall due
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import logging

from rich.markup import escape
from rich.table import Table

from common.metrics import percentile
from console.display import EVENT_LABEL, event_detail, ticket_badge
from db import config
from db.connect import connect, is_unavailable
from db.lifecycle import LifecycleStore
from db.rankings import hot_spots, unit_rankings
from domain.lifecycle import RULES, Request, Role, Step
from domain.settings import load_settings
from domain.workdays import SHANGHAI

from .common import database, err, out, parse_day, ready, run

log = logging.getLogger(__name__)
DB_ROLE = {Role.HOTLINE: "agent", Role.UNIT: "unit", Role.SUPERVISOR: "supervisor"}


def _due(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--due must look like 2026-12-09T18:00, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


async def _step(args: argparse.Namespace) -> None:
    step = Step(args.step)
    rule = RULES[step]
    await ready()
    conn = await connect(config.resolve_dsn(DB_ROLE[rule.role]))
    try:
        store = LifecycleStore(conn)
        ticket_id = await store.ticket_id(args.number)
        actor = args.actor or (args.unit if rule.role == Role.UNIT else "") or ""
        request = Request(step, rule.role, actor, args.unit, args.text or "", args.outcome, _due(args.due))
        ids = await store.apply(ticket_id, request)
        state = await store.state(ticket_id)
    finally:
        await conn.close()
    out.print(f"{args.number} {step}：已记录 {len(ids)} 个事件；现在 {state.status}"
              + (f"，承办 {state.unit_code}" if state.unit_code else "")
              + f"，期限 {state.deadline.astimezone(SHANGHAI):%m-%d %H:%M}")


async def _show(number: str) -> None:
    async with database() as conn:
        store = LifecycleStore(conn)
        ticket_id = await store.ticket_id(number)
        state = await store.state(ticket_id)
        history = await store.history(ticket_id)
    table = Table(title=f"工单 {number} · {state.status} · 期限 {state.deadline.astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
    for col in ("时间", "事件", "状态", "单位", "经办", "说明"):
        table.add_column(col)
    for e in history:
        payload = json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"]
        detail = event_detail(e["kind"], payload)
        table.add_row(e["at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M:%S"), EVENT_LABEL[e["kind"]],
                      ticket_badge(e["status"]) if e["status"] else "", e["unit_code"] or "", escape(e["actor"]),
                      (escape(e["note"][:40]) + (" " if e["note"] and detail else "") + detail))
    out.print(table)


def cmd_ticket(args: argparse.Namespace) -> int:
    if args.step == "show":
        run(_show(args.number))
    else:
        run(_step(args))
    return 0


async def _work(once: bool) -> dict:
    """Fire warnings as they fall due; survive the database going away (retry with backoff)."""
    settings = load_settings().lifecycle
    await ready()
    dsn = config.resolve_dsn("worker")
    conn, lags, fired, backoff = None, [], 0, 0.5
    while True:
        try:
            if conn is None or conn.is_closed():
                conn = await connect(dsn)
                backoff = 0.5
            now = dt.datetime.now(SHANGHAI)
            store = LifecycleStore(conn)
            batch = await store.fire_warnings(now, settings)
            upcoming = await store.next_fire_at(now, settings)
        except Exception as exc:
            if not is_unavailable(exc) or once:
                raise
            log.warning("database unavailable (%s); retrying in %.1f s", exc, backoff)
            conn = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            continue
        if batch:
            levels = {}
            for r in batch:
                payload = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
                levels[payload["level"]] = levels.get(payload["level"], 0) + 1
                lags.append(max(0.0, (now.timestamp() - float(payload["fire_at"])) * 1000))
            fired += len(batch)
            err.print(f"{now:%H:%M:%S} 预警 {len(batch)}：" + " ".join(f"{k} {v}" for k, v in sorted(levels.items())))
        if once:
            await conn.close()
            return {"fired": fired, "lag_p99_ms": round(percentile(lags, 0.99), 1) if lags else None}
        # Wake when the next warning falls due, and at least every worker_seconds for the
        # timers of tickets dispatched meanwhile.
        wait = settings.worker_seconds
        if upcoming is not None:
            wait = min(wait, (upcoming - dt.datetime.now(SHANGHAI)).total_seconds())
        await asyncio.sleep(max(0.0, wait))


def cmd_worker(args: argparse.Namespace) -> int:
    result = run(_work(args.once))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(start, dt.time(0), SHANGHAI),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), SHANGHAI))


async def _rankings(start: dt.date, end: dt.date) -> tuple[list[dict], list[dict]]:
    async with database() as conn:
        units = await unit_rankings(conn, *_bounds(start, end), load_settings().lifecycle,
                                    dt.datetime.now(SHANGHAI))
        return units, await hot_spots(conn, *_bounds(start, end))


RATE_COLUMNS = ("按时签收率", "按时联系率", "按期办结率", "退单率", "延期率", "重办率", "满意率")


def cmd_rankings(args: argparse.Namespace) -> int:
    start, end = parse_day(args.start, "--from"), parse_day(args.end, "--to")
    if end < start:
        raise ValueError("--to is before --from")
    if args.screen:
        from ..rankings.app import RankingsApp

        run(ready())
        RankingsApp(config.resolve_dsn("supervisor"), *_bounds(start, end), load_settings().lifecycle).run()
        return 0
    units, spots = run(_rankings(start, end))
    if args.json:
        print(json.dumps({"from": str(start), "to": str(end), "units": units, "hot_spots": spots},
                         ensure_ascii=False))
        return 0
    if args.csv:
        with open(args.csv, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["unit", "单位", "办件量", *RATE_COLUMNS, "平均办理小时"])
            writer.writeheader()
            writer.writerows(units)
        out.print(f"wrote {len(units)} units to {args.csv}")
        return 0
    table = Table(title=f"承办单位排名 {start} — {end}")
    for col in ("名次", "单位", "办件量", *RATE_COLUMNS, "平均办理小时"):
        table.add_column(col, justify="right" if col not in ("单位",) else "left")
    for rank, u in enumerate(units, 1):
        table.add_row(str(rank), escape(u["单位"]), str(u["办件量"]),
                      *[f"{u[c] * 100:.1f}%" if u[c] is not None else "—" for c in RATE_COLUMNS],
                      f"{u['平均办理小时']:.1f}" if u["平均办理小时"] is not None else "—")
    out.print(table)
    if spots:
        hot = Table(title="热点（每周：分类 × 街道/社区）")
        for col in ("周", "分类", "街道", "社区", "工单数"):
            hot.add_column(col)
        for spot in spots:
            hot.add_row(spot["week"], escape(spot["分类"]), escape(spot["街道"]), escape(spot["社区"]),
                        str(spot["工单数"]))
        out.print(hot)
    return 0


def cmd_unit(args: argparse.Namespace) -> int:
    from db.reference import ReferenceStore

    from ..unit.app import UnitApp

    async def unit_name() -> str:
        async with database() as conn:
            units = {u.code: u.name for u in await ReferenceStore(conn).units()}
        if args.unit not in units:
            raise ValueError(f"--unit: no unit {args.unit!r} (one of {', '.join(sorted(units))})")
        return units[args.unit]

    name = run(unit_name())
    UnitApp(config.resolve_dsn("unit"), args.unit, name, args.actor or args.unit).run()
    return 0


def cmd_supervise(args: argparse.Namespace) -> int:
    from ..supervision.app import SupervisionApp

    run(ready())
    SupervisionApp(config.resolve_dsn("supervisor"), args.supervisor).run()
    return 0


def cmd_callbacks(args: argparse.Namespace) -> int:
    from ..callbacks.app import CallbackApp

    run(ready())
    today = dt.datetime.combine(dt.datetime.now(SHANGHAI).date(), dt.time(0), SHANGHAI)
    before = today if not args.include_today else dt.datetime.now(SHANGHAI)
    CallbackApp(config.resolve_dsn("agent"), args.agent, before).run()
    return 0


def register(sub) -> None:
    p = sub.add_parser("ticket", help="a ticket's life after the call: 派单 签收 联系群众 办结 退单 … | show")
    p.add_argument("step", choices=["show", *[s.value for s in Step]])
    p.add_argument("number", help="ticket number, e.g. 20261202-0001")
    p.add_argument("--actor", default="", help="who takes the step (工号 or the unit's handler)")
    p.add_argument("--unit", help="the unit: to dispatch to, or the unit taking the step")
    p.add_argument("--text", help="reason, reply, progress note or call-back remark")
    p.add_argument("--outcome", help="回访: 满意 / 基本满意 / 不满意")
    p.add_argument("--due", help="延期申请: the new deadline; 督办: answer by (2026-12-09T18:00)")
    p.set_defaults(func=cmd_ticket)

    p = sub.add_parser("unit", help="a unit's work queue: its tickets, deadlines, warnings and steps")
    p.add_argument("--unit", required=True, help="the unit's code (units.toml), e.g. ZD")
    p.add_argument("--actor", help="who is working (recorded with every step)")
    p.set_defaults(func=cmd_unit)

    p = sub.add_parser("supervise", help="the supervisor's 督办 view: returns, extensions, overdue, 督办")
    p.add_argument("--supervisor", required=True, help="the supervisor's id (recorded with every step)")
    p.set_defaults(func=cmd_supervise)

    p = sub.add_parser("callbacks", help="the agent's 回访 list: replied tickets to call the citizen back")
    p.add_argument("--agent", required=True, help="agent id (工号)")
    p.add_argument("--include-today", action="store_true", help="also tickets replied today (default: before today)")
    p.set_defaults(func=cmd_callbacks)

    p = sub.add_parser("rankings", help="units ranked by on-time sign-for, contact, reply, returns, satisfaction")
    p.add_argument("--from", dest="start", required=True, help="first day, e.g. 2026-12-01")
    p.add_argument("--to", dest="end", required=True, help="last day (included)")
    p.add_argument("--json", action="store_true", help='one JSON object {"units": [...]}; rates 0–1')
    p.add_argument("--csv", help="write a CSV file instead")
    p.add_argument("--screen", action="store_true", help="show them on a screen, with bars")
    p.set_defaults(func=cmd_rankings)

    p = sub.add_parser("worker", help="fire yellow / orange / red warnings of tickets as they fall due")
    p.add_argument("--once", action="store_true", help="fire what is due now, print one JSON line, exit")
    p.set_defaults(func=cmd_worker)
