"""hotline demo: the product on the embedded database with demo data."""

from __future__ import annotations

import argparse

from rich.table import Table

from db import config
from db.outbox import Outbox, TicketWriter
from db.routing import route
from db.rules import TicketDraft, TicketRules
from db.workdays import SHANGHAI

from .common import database, default_seats_file, out, run
from .db import load_reference


async def _demo() -> None:
    async with database() as conn:
        await load_reference(conn, default_seats_file())
        unit = await route(conn, "370303", "370303009", "010201")
        writer = TicketWriter(config.resolve_dsn(), Outbox(config.data_dir() / "outbox.jsonl"),
                              TicketRules.default())
        try:
            await writer.replay()
            submission = await writer.submit(TicketDraft(
                ticket_type="投诉", content="马尚街道松龄社区人民西路路灯坏了一个多星期，晚上很黑，请尽快维修。",
                caller_number="13805331234", category_code="010201",
                address_text="张店区马尚街道松龄社区人民西路", unit_code=unit.code if unit else None,
                seat_id=1))
        finally:
            await writer.close()
        table = Table(title="淄博12345 · 今日工单 (demo)")
        for col in ("工单号", "类型", "状态", "承办单位", "受理时间", "办理时限", "诉求"):
            table.add_column(col)
        rows = await conn.fetch(
            """SELECT t.ticket_no, t.ticket_type, s.status, u.name AS unit, t.accepted_at,
                      t.deadline_at, t.content
               FROM tickets t JOIN ticket_status s ON s.ticket_id = t.id
               LEFT JOIN units u ON u.code = t.unit_code
               WHERE t.accepted_at >= date_trunc('day', now()) ORDER BY t.id DESC LIMIT 10""")
        for r in rows:
            table.add_row(r["ticket_no"], r["ticket_type"], r["status"], r["unit"] or "-",
                          r["accepted_at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                          r["deadline_at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                          r["content"][:24])
        out.print(table)
        seats = await conn.fetchval("SELECT count(*) FROM seats")
        cats = await conn.fetchval("SELECT count(*) FROM categories")
    stored = submission.stored
    out.print(f"{seats} seats, {cats} categories; demo ticket "
              f"{stored.ticket_no if stored else '(queued in outbox)'} routed to "
              f"{unit.name if unit else '-'}")


def cmd_demo(args: argparse.Namespace) -> int:
    run(_demo())
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the product on the embedded database with demo data")
    p.set_defaults(func=cmd_demo)
