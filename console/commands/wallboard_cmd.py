"""hotline wallboard | simulate: the supervisor's view of the floor, and a floor to view."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import tempfile
from pathlib import Path

from db import config
from domain.seats import load_seats
from domain.settings import load_settings
from domain.workdays import SHANGHAI
from floor.reference import load_reference

from common.paths import data_dir

from .common import database, default_seats_file, err, parse_day, run


def cmd_wallboard(args: argparse.Namespace) -> int:
    seats_file = default_seats_file()
    if args.serve:
        from ..wallboard.serving import USER, WallboardServer, load_or_make_password, password_file

        password, new = load_or_make_password(data_dir())
        if new:
            err.print(f"wallboard login: user {USER}, password {password} (kept in {password_file(data_dir())}, 0600)")
        command = " ".join(shlex.quote(p) for p in (sys.executable, "-m", "console.cli", "wallboard"))
        WallboardServer(command, args.host, args.port, password, args.public_url).serve()
        return 0
    from ..wallboard.app import Wallboard

    async def prepare():
        async with database() as conn:
            await load_reference(conn, seats_file)

    run(prepare())
    Wallboard(config.resolve_dsn("supervisor"), load_seats(seats_file), load_settings().alerts).run()
    return 0


def _simulate_days(args: argparse.Namespace) -> int:
    """Days of the city's hotline (calls, tickets and, with --units, everything after the
    call) in compressed time, with the warning worker on the same clock."""
    from domain.tickets import TicketRules
    from floor.city import CitySimulation

    if not 1 <= args.days <= 366:
        raise ValueError("--days must be from 1 to 366")
    if not 1 <= args.calls_per_day <= 100_000:
        raise ValueError("--calls-per-day must be from 1 to 100000")
    settings = load_settings()
    today = dt.datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (dt.datetime.combine(parse_day(args.start, "--start"), dt.time(), SHANGHAI) if args.start
             else today - dt.timedelta(days=args.days))

    def progress(now: dt.datetime, result) -> None:
        share = (now - start) / dt.timedelta(days=args.days)
        err.print(f"\r模拟 {now:%Y-%m-%d %H:%M}  {share:6.1%}  话务 {result.calls}  工单 {result.tickets}  "
                  f"预警 {sum(result.warnings.values())}", end="")

    async def go():
        async with database() as conn:
            await load_reference(conn, default_seats_file())
        err.print(f"模拟 {args.days} 天（每天 {args.calls_per_day} 个来电）写入数据库 "
                  f"{'（含承办单位）' if args.units else '（仅受理派单）'}")
        return await CitySimulation(config.resolve_dsn("owner"), config.resolve_dsn("worker"), start, args.days,
                                    args.calls_per_day, args.units, TicketRules.from_settings(settings.tickets),
                                    settings.lifecycle, seed=args.seed, progress=progress).run()

    result = run(go())
    err.print()
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.days is not None:
        return _simulate_days(args)
    from floor.simulator import FloorSimulation

    seats = load_seats(default_seats_file())[: args.seats]
    if not 1 <= args.seats <= len(load_seats(default_seats_file())):
        raise ValueError(f"--seats must be from 1 to the {len(seats)} seats of seats.toml")

    async def go():
        async with database() as conn:
            await load_reference(conn, default_seats_file())
        with tempfile.TemporaryDirectory(prefix="hotline-sim-") as tmp:
            return await FloorSimulation(config.resolve_dsn("agent"), seats, args.minutes * 60, args.speed,
                                         Path(tmp)).run()

    print(json.dumps(run(go()), ensure_ascii=False))
    return 0


def register(sub) -> None:
    p = sub.add_parser("wallboard", help="the supervisor's wallboard (live seat states, figures, alerts)")
    p.add_argument("--serve", action="store_true", help="serve it to browsers with textual-serve")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: this machine only; 0.0.0.0 for the floor's network)")
    p.add_argument("--public-url", help="the URL browsers use, when behind a proxy (default: as requested)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_wallboard)

    p = sub.add_parser("simulate", help="simulated seats taking calls and filing tickets (live, for the "
                                          "wallboard), or --days of the city's hotline in compressed time")
    p.add_argument("--seats", type=int, default=150)
    p.add_argument("--minutes", type=float, default=1.0, help="real minutes to run")
    p.add_argument("--speed", type=float, default=30.0, help="simulated seconds per real second")
    p.add_argument("--days", type=int, help="simulate this many days as fast as the database allows")
    p.add_argument("--units", action="store_true",
                   help="with --days: the units sign, contact, reply, return and ask for extensions, agents "
                        "call back, supervisors chase overdue tickets")
    p.add_argument("--calls-per-day", type=int, default=3200, help="with --days (default: Zibo's 3200)")
    p.add_argument("--start", help="with --days: first day (default: --days days before today)")
    p.add_argument("--seed", type=int, default=12345, help="with --days: the random seed")
    p.set_defaults(func=cmd_simulate)
