"""hotline demo: the agent console on the embedded database, with a demo call that plays by
itself; afterwards, today's tickets."""

from __future__ import annotations

import argparse

from floor.lines import DEMO_CALLER

from . import tickets_cmd
from .common import run
from .console_cmd import make_console


def cmd_demo(args: argparse.Namespace) -> int:
    app = run(make_console(args.seat, args.agent, "demo", DEMO_CALLER, args.model, auto_answer=True))
    app.run()
    return tickets_cmd.cmd_tickets(tickets_cmd.TODAY)


def register(sub) -> None:
    p = sub.add_parser("demo", help="the agent console with a demo call, on the embedded database")
    p.add_argument("--seat", type=int, default=1)
    p.add_argument("--agent", default="demo01")
    p.add_argument("--model", help="Vosk model folder (default: the installed Chinese model)")
    p.set_defaults(func=cmd_demo)
