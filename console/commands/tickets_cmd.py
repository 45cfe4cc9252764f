"""hotline tickets: find tickets by day or period, status, caller, address, unit or number;
the count is of all that match, the table shows the newest, --csv writes them all."""

from __future__ import annotations

import argparse
import csv
import datetime as dt

from rich.markup import escape
from rich.table import Table

from console.display import ticket_badge
from db.tickets import TicketStore
from domain.tickets import normalize_phone
from domain.vocabulary import TicketStatus
from domain.workdays import SHANGHAI, now

from .common import database, out, parse_day, ready, run

SHOWN = 20
CSV_COLUMNS = ("工单号", "受理时间", "类型", "紧急程度", "办理方式", "状态", "承办单位", "办理时限", "来电号码",
               "地址", "诉求")


def period(args: argparse.Namespace) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    """[start, end) in Asia/Shanghai from --date or --from/--to (today when none is given)."""
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), SHANGHAI)

    if args.date and (args.start or args.end):
        raise ValueError("give --date, or --from and --to, not both")
    if args.date:
        day = parse_day(args.date, "--date")
        return midnight(day), midnight(day + dt.timedelta(days=1)), str(day)
    if args.start or args.end:
        start = parse_day(args.start, "--from") if args.start else None
        end = parse_day(args.end, "--to") if args.end else None
        if start and end and end < start:
            raise ValueError("--to is before --from")
        return (midnight(start) if start else None, midnight(end + dt.timedelta(days=1)) if end else None,
                f"{start or '…'} — {end or '…'}")
    if args.any_date:
        return None, None, "all days"
    today = now().date()
    return midnight(today), midnight(today + dt.timedelta(days=1)), "today"


def filters(args: argparse.Namespace) -> dict:
    if args.status and args.status not in set(TicketStatus):
        raise ValueError(f"--status must be one of {'/'.join(TicketStatus)}, got {args.status!r}")
    caller = args.caller
    if caller:
        try:
            caller = normalize_phone(caller)
        except ValueError as exc:
            raise ValueError(f"--caller: {exc}") from None
    return {"status": args.status, "caller": caller, "address": args.address or None, "unit": args.unit,
            "number": args.number}


async def _tickets(args: argparse.Namespace) -> None:
    start, end, label = period(args)
    wanted = filters(args)
    async with database() as conn:
        total, rows = await TicketStore(conn).search(start, end, **wanted, limit=None if args.csv else SHOWN)
    if args.csv:
        with open(args.csv, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in rows:
                writer.writerow([r["ticket_no"], f"{r['accepted_at'].astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}",
                                 r["ticket_type"], r["urgency"], r["handling_mode"], r["status"],
                                 r["unit_name"] or "", f"{r['deadline_at'].astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
                                 r["caller_number"], r["address_text"], r["content"]])
        out.print(f"wrote {total} tickets ({label}) to {args.csv}")
        return
    table = Table(title=f"淄博12345 · 工单（{label}）")
    for col in ("工单号", "类型", "状态", "承办单位", "受理时间", "办理时限", "诉求"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["ticket_no"], r["ticket_type"], ticket_badge(r["status"]), escape(r["unit_name"] or "-"),
                      r["accepted_at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                      r["deadline_at"].astimezone(SHANGHAI).strftime("%m-%d %H:%M"), escape(r["content"][:24]))
    out.print(table)
    shown = f", newest {len(rows)} shown (--csv FILE for all)" if total > len(rows) else ""
    out.print(f"{total} tickets {label}{shown}")


def _first_query(args: argparse.Namespace) -> str:
    """The command's filters as words of the lookup screen's search box."""
    words = []
    start, end, _ = period(args)
    if start and end and not args.any_date:  # the box takes whole periods only
        last = (end - dt.timedelta(days=1)).date()
        words.append(f"{start.date()}" + (f"..{last}" if last != start.date() else ""))
    wanted = filters(args)
    words += [wanted[k] for k in ("number", "caller", "status", "unit", "address") if wanted[k]]
    return " ".join(words)


def cmd_tickets(args: argparse.Namespace) -> int:
    if args.screen:
        from db import config

        from ..lookup.app import LookupApp

        first = _first_query(args)
        run(ready())
        LookupApp(config.resolve_dsn("supervisor" if args.masked else "agent"), args.masked, first).run()
        return 0
    run(_tickets(args))
    return 0


def today() -> argparse.Namespace:
    """`hotline tickets` with no options (today's tickets), from the parser itself so that
    every option has its default."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["tickets"])


def register(sub) -> None:
    p = sub.add_parser("tickets", help="find tickets: by day or period, status, caller, address, unit, number")
    p.add_argument("--date", help="one day (Asia/Shanghai), e.g. 2026-12-01; default today")
    p.add_argument("--from", dest="start", help="first day of a period")
    p.add_argument("--to", dest="end", help="last day of a period (included)")
    p.add_argument("--any-date", action="store_true", help="every day")
    p.add_argument("--status", help="current status, e.g. 已派单")
    p.add_argument("--caller", help="the caller's number (any way it is written)")
    p.add_argument("--address", help="words the address contains")
    p.add_argument("--unit", help="the unit that holds it (code)")
    p.add_argument("--number", help="ticket number, or its beginning (e.g. 20261202)")
    p.add_argument("--csv", help="write every match to a CSV file")
    p.add_argument("--screen", action="store_true", help="the lookup screen (F9 in every app), these filters first")
    p.add_argument("--masked", action="store_true", help="with --screen: as a supervisor, numbers and content masked")
    p.set_defaults(func=cmd_tickets)
