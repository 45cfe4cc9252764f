"""`hotline` command line: database, reference data, demo."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from db import config, migrate
from db.connect import DatabaseUnavailable, connect, describe
from db.embedded import EmbeddedServerError
from db.outbox import Outbox, TicketWriter
from db.routing import DEFAULT_UNITS, load_units, route
from db.rules import TicketDraft, TicketRules, TicketValidationError
from db.seats import SeatsConfigError, load_seats, sync_seats
from db.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, import_taxonomy, parse_taxonomy
from db.workdays import SHANGHAI

out = Console()
err = Console(stderr=True, soft_wrap=True)
REPO_ROOT = Path(__file__).resolve().parents[1]


def default_seats_file() -> Path:
    env = os.environ.get("HOTLINE_SEATS")
    if env:
        return Path(env)
    here = Path.cwd() / "seats.toml"
    return here if here.exists() else REPO_ROOT / "seats.toml"


# -- db ----------------------------------------------------------------------------------
async def _migrate(dsn: str) -> list[migrate.Migration]:
    conn = await connect(dsn)
    try:
        return await migrate.migrate(conn)
    finally:
        await conn.close()


async def _load_reference(dsn: str, seats_file: Path) -> dict[str, int]:
    seats = load_seats(seats_file)
    conn = await connect(dsn)
    try:
        counts = {"seats": await sync_seats(conn, seats)}
        if not await conn.fetchval("SELECT count(*) FROM categories"):
            counts["categories"] = await import_taxonomy(conn, parse_taxonomy(DEFAULT_TAXONOMY))
        counts["units"], counts["routing_rules"] = await load_units(conn, DEFAULT_UNITS)
        return counts
    finally:
        await conn.close()


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "stop":
        if config.external_dsn():
            err.print("HOTLINE_DSN is set: the external server is not managed by hotline")
            return 1
        stopped = config.embedded_server().stop()
        out.print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    if args.action == "status":
        return asyncio.run(_status())
    dsn = config.resolve_dsn()
    if args.action == "start":
        out.print(f"PostgreSQL ready: {describe(dsn)}")
        return 0
    applied = asyncio.run(_migrate(dsn))
    for m in applied:
        out.print(f"applied migration {m.version:03d}_{m.name}")
    if not applied:
        out.print("schema is up to date")
    if args.action == "init":
        counts = asyncio.run(_load_reference(dsn, Path(args.seats or default_seats_file())))
        out.print("loaded " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


async def _status() -> int:
    table = Table(title="hotline database", show_header=False)
    external = config.external_dsn()
    if external:
        table.add_row("server", f"external ({describe(external)})")
        dsn = external
    else:
        st = config.embedded_server().status()
        table.add_row("server", "embedded, running" if st.running else "embedded, stopped")
        table.add_row("data dir", str(st.data_dir))
        table.add_row("pid", str(st.pid or "-"))
        dsn = st.dsn
        if not st.running:
            out.print(table)
            return 0
    conn = await connect(dsn)
    try:
        table.add_row("version", (await conn.fetchval("SHOW server_version")))
        pending = await migrate.pending(conn)
        table.add_row("migrations pending", ", ".join(f"{m.version:03d}" for m in pending) or "none")
        if not pending:
            for name in ("seats", "categories", "units", "tickets", "calls"):
                table.add_row(name, str(await conn.fetchval(f"SELECT count(*) FROM {name}")))
    finally:
        await conn.close()
    out.print(table)
    return 0


# -- seats / taxonomy ---------------------------------------------------------------------
def cmd_seats(args: argparse.Namespace) -> int:
    path = Path(args.file or default_seats_file())
    seats = load_seats(path)
    if args.action == "check":
        groups = sorted({s.group for s in seats})
        out.print(f"{path}: {len(seats)} seats OK in {len(groups)} groups ({'、'.join(groups)})")
        return 0
    dsn = config.resolve_dsn()

    async def load() -> int:
        conn = await connect(dsn)
        try:
            return await sync_seats(conn, seats)
        finally:
            await conn.close()

    out.print(f"loaded {asyncio.run(load())} seats from {path}")
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
    categories = parse_taxonomy(Path(args.file))
    dsn = config.resolve_dsn()

    async def load() -> int:
        conn = await connect(dsn)
        try:
            return await import_taxonomy(conn, categories)
        finally:
            await conn.close()

    n = asyncio.run(load())
    levels = {lvl: sum(1 for c in categories if c.level == lvl) for lvl in (1, 2, 3)}
    out.print(f"imported {n} categories (level 1: {levels[1]}, level 2: {levels[2]}, level 3: {levels[3]})")
    return 0


# -- demo ---------------------------------------------------------------------------------
async def _demo(dsn: str) -> None:
    rules = TicketRules.default()
    conn = await connect(dsn)
    try:
        unit = await route(conn, "370303", "370303009", "010201")
    finally:
        await conn.close()
    writer = TicketWriter(dsn, Outbox(config.data_dir() / "outbox.jsonl"), rules)
    await writer.replay()
    submission = await writer.submit(TicketDraft(
        ticket_type="投诉", content="马尚街道西寨社区人民路路灯坏了一个多星期，晚上很黑，请尽快维修。",
        caller_number="13805331234", category_code="010201", address_text="张店区马尚街道西寨社区人民路",
        unit_code=unit.code if unit else None, seat_id=1, agent_id=None,
    ))
    conn = await connect(dsn)
    try:
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
    finally:
        await conn.close()
        await writer.close()
    stored = submission.stored
    out.print(f"{seats} seats, {cats} categories; demo ticket "
              f"{stored.ticket_no if stored else '(queued in outbox)'} routed to "
              f"{unit.name if unit else '-'}")


def cmd_demo(args: argparse.Namespace) -> int:
    dsn = config.resolve_dsn()
    asyncio.run(_migrate(dsn))
    asyncio.run(_load_reference(dsn, default_seats_file()))
    asyncio.run(_demo(dsn))
    return 0


# -- entry point ----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 hotline console")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("db", help="database: start|stop|status|migrate|init")
    p.add_argument("action", choices=["start", "stop", "status", "migrate", "init"])
    p.add_argument("--seats", help="seats.toml to load with init")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("seats", help="check or load seats.toml")
    p.add_argument("action", choices=["check", "load"])
    p.add_argument("file", nargs="?")
    p.set_defaults(func=cmd_seats)

    p = sub.add_parser("taxonomy", help="import a category taxonomy CSV")
    p.add_argument("action", choices=["import"])
    p.add_argument("file")
    p.set_defaults(func=cmd_taxonomy)

    p = sub.add_parser("demo", help="run the product on the embedded database with demo data")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SeatsConfigError, TaxonomyError, TicketValidationError) as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        return 2
    except (DatabaseUnavailable, EmbeddedServerError) as exc:
        err.print(f"[red]database unavailable:[/] {escape(str(exc))}")
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
