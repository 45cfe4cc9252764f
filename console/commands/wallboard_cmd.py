"""hotline wallboard | simulate: the supervisor's view of the floor, and a floor to view."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

from db import config
from domain.seats import load_seats
from domain.settings import load_settings
from floor.reference import load_reference

from common.paths import data_dir

from .common import database, default_seats_file, err, run


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


def cmd_simulate(args: argparse.Namespace) -> int:
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

    p = sub.add_parser("simulate", help="simulated seats taking calls and filing tickets")
    p.add_argument("--seats", type=int, default=150)
    p.add_argument("--minutes", type=float, default=1.0, help="real minutes to run")
    p.add_argument("--speed", type=float, default=30.0, help="simulated seconds per real second")
    p.set_defaults(func=cmd_simulate)
