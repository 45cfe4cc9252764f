"""hotline db | seats | taxonomy: the database and its reference data."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from db import config, migrate
from db.connect import connect, describe
from db.admin import row_counts, server_version
from db.roles import ROLES, create_sql, ensure_roles, new_password, with_login
from db.reference import ReferenceStore
from db.seats import SeatStore
from domain.seats import load_seats
from domain.taxonomy import parse_taxonomy
from floor.reference import load_reference

from .common import database, default_seats_file, err, out, ready, run


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "roles":
        return cmd_roles(args)
    if args.action == "stop":
        if config.external_dsn():
            err.print("HOTLINE_DSN is set: the external server is not managed by hotline")
            return 1
        stopped = config.embedded_server().stop()
        out.print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    if args.action == "status":
        return run(_status())
    dsn = config.resolve_dsn()
    if args.action == "start":
        out.print(f"PostgreSQL ready: {describe(dsn)}")
        return 0

    def report(applied) -> None:
        for m in applied:
            out.print(f"applied migration {m.version:03d}_{m.name}")
        if not applied:
            out.print("schema is up to date")

    async def apply() -> None:
        async with database(on_migrated=report) as conn:
            if args.action == "init":
                counts = await load_reference(conn, Path(args.seats or default_seats_file()))
                out.print("loaded " + ", ".join(f"{v} {k}" for k, v in counts.items()))

    run(apply())
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
        table.add_row("version", await server_version(conn))
        pending = await migrate.pending(conn)
        table.add_row("migrations pending", ", ".join(f"{m.version:03d}" for m in pending) or "none")
        if not pending:
            for name, count in (await row_counts(conn)).items():
                table.add_row(name, str(count))
    finally:
        await conn.close()
    out.print(table)
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    """The application roles: the SQL that makes them on an external server, or where the
    embedded server keeps their passwords."""
    external = config.external_dsn()
    if external and args.create:
        passwords = {key: new_password() for key in ROLES}

        async def create() -> None:
            conn = await connect(external)
            try:
                await ensure_roles(conn, passwords)
            finally:
                await conn.close()

        run(create())
        err.print("roles created; give each application its DSN (shown once, keep them safe):")
        for key, role in ROLES.items():
            print(f"HOTLINE_DSN_{key.upper()}={with_login(external, role, passwords[key])}")
        return 0
    if external or args.sql:
        print(create_sql())  # plain: SQL must not be wrapped or styled
        print("-- then give each application its DSN: " + ", ".join(f"HOTLINE_DSN_{key.upper()}" for key in ROLES))
        return 0

    run(ready())
    used_by = {"agent": "hotline console", "supervisor": "hotline wallboard",
               "inspector": "hotline qa", "unit": "ticket handling units"}
    for key, role in ROLES.items():
        out.print(f"{role:20} {used_by[key]}")
    out.print(f"passwords: {config.embedded_server().credentials_file} (0600); the administrator "
              f"connects by OS identity (peer), applications by password (scram)")
    return 0


def cmd_seats(args: argparse.Namespace) -> int:
    path = Path(args.file or default_seats_file())
    seats = load_seats(path)
    if args.action == "check":
        groups = sorted({s.group for s in seats})
        out.print(f"{path}: {len(seats)} seats OK in {len(groups)} groups ({'、'.join(groups)})")
        return 0

    async def load() -> int:
        async with database() as conn:
            return await SeatStore(conn).sync(seats)

    out.print(f"loaded {run(load())} seats from {path}")
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
    categories = parse_taxonomy(Path(args.file))

    async def load() -> int:
        async with database() as conn:
            return await ReferenceStore(conn).import_taxonomy(categories)

    n = run(load())
    levels = {lvl: sum(1 for c in categories if c.level == lvl) for lvl in (1, 2, 3)}
    out.print(f"imported {n} categories (level 1: {levels[1]}, level 2: {levels[2]}, level 3: {levels[3]})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("db", help="database: start|stop|status|migrate|init|roles")
    p.add_argument("action", choices=["start", "stop", "status", "migrate", "init", "roles"])
    p.add_argument("--sql", action="store_true", help="roles: print the SQL that creates them (external server)")
    p.add_argument("--create", action="store_true",
                   help="roles: create them on the external server (HOTLINE_DSN) and print their DSNs")
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
