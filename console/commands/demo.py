"""hotline demo: the agent console on the embedded database, with a demo call that plays by
itself; hotline tickets: today's tickets."""

from __future__ import annotations

import argparse

from rich.table import Table

from db.seats import SeatStore
from db.tickets import TicketStore
from domain.workdays import SHANGHAI, now
from floor.reference import load_reference

from .common import database, default_seats_file, out, run
from .console_cmd import make_console

DEMO_CALLER = "13805331234"


async def _tickets() -> None:
    async with database() as conn:
        await load_reference(conn, default_seats_file())
        table = Table(title="淄博12345 · 今日工单")
        for col in ("工单号", "类型", "状态", "承办单位", "受理时间", "办理时限", "诉求"):
            table.add_column(col)
        midnight = now().replace(hour=0, minute=0, second=0, microsecond=0)
        rows = await TicketStore(conn).accepted_since(midnight, 10)
        for r in rows:
            table.add_row(r["ticket_no"], r["ticket_type"], r["status"], r["unit"] or "-",
                          r["accepted_at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                          r["deadline_at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                          r["content"][:24])
        out.print(table)
        seats = await SeatStore(conn).count()
    out.print(f"{len(rows)} tickets today on {seats} seats")


def cmd_tickets(args: argparse.Namespace) -> int:
    run(_tickets())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    app = run(make_console(args.seat, args.agent, "demo", DEMO_CALLER, args.model, auto_answer=True))
    app.run()
    run(_tickets())
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="the agent console with a demo call, on the embedded database")
    p.add_argument("--seat", type=int, default=1)
    p.add_argument("--agent", default="demo01")
    p.add_argument("--model", help="Vosk model folder (default: the installed Chinese model)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("tickets", help="list today's tickets")
    p.set_defaults(func=cmd_tickets)
