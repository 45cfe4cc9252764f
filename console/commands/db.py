"""hotline db | seats | taxonomy: the database and its reference data."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from db import config, migrate
from db.connect import connect, describe
from db.routing import DEFAULT_UNITS, load_units
from db.seats import load_seats, sync_seats
from db.taxonomy import DEFAULT_TAXONOMY, import_taxonomy, parse_taxonomy

from .common import database, default_seats_file, err, out, run


async def load_reference(conn, seats_file: Path) -> dict[str, int]:
    """Seats, and the default taxonomy, units, routing rules and demo gazetteer when empty."""
    from geo.service import DEMO_GAZETTEER
    from geo.store import import_csv
    from kb.embed import load_embedder
    from kb.store import DEMO_KB, import_articles, sync_vectors

    counts = {"seats": await sync_seats(conn, load_seats(seats_file))}
    if not await conn.fetchval("SELECT count(*) FROM categories"):
        counts["categories"] = await import_taxonomy(conn, parse_taxonomy(DEFAULT_TAXONOMY))
    counts["units"], counts["routing_rules"] = await load_units(conn, DEFAULT_UNITS)
    if not await conn.fetchval("SELECT count(*) FROM gazetteer_addresses"):
        counts["demo addresses"] = (await import_csv(conn, DEMO_GAZETTEER)).rows_stored
    if not await conn.fetchval("SELECT count(*) FROM kb_articles"):
        counts["demo KB articles"] = (await import_articles(conn, DEMO_KB)).stored
    embedder, _ = load_embedder()
    if embedder is not None:
        counts["KB sentence vectors"] = await sync_vectors(conn, embedder)
    return counts


def cmd_db(args: argparse.Namespace) -> int:
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

    async def apply() -> None:
        conn = await connect(dsn)
        try:
            applied = await migrate.migrate(conn)
            for m in applied:
                out.print(f"applied migration {m.version:03d}_{m.name}")
            if not applied:
                out.print("schema is up to date")
            if args.action == "init":
                counts = await load_reference(conn, Path(args.seats or default_seats_file()))
                out.print("loaded " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        finally:
            await conn.close()

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
        table.add_row("version", await conn.fetchval("SHOW server_version"))
        pending = await migrate.pending(conn)
        table.add_row("migrations pending", ", ".join(f"{m.version:03d}" for m in pending) or "none")
        if not pending:
            for name in ("seats", "categories", "units", "tickets", "calls", "gazetteer_addresses"):
                table.add_row(name, str(await conn.fetchval(f"SELECT count(*) FROM {name}")))
    finally:
        await conn.close()
    out.print(table)
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
            return await sync_seats(conn, seats)

    out.print(f"loaded {run(load())} seats from {path}")
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
    categories = parse_taxonomy(Path(args.file))

    async def load() -> int:
        async with database() as conn:
            return await import_taxonomy(conn, categories)

    n = run(load())
    levels = {lvl: sum(1 for c in categories if c.level == lvl) for lvl in (1, 2, 3)}
    out.print(f"imported {n} categories (level 1: {levels[1]}, level 2: {levels[2]}, level 3: {levels[3]})")
    return 0


def register(sub) -> None:
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
