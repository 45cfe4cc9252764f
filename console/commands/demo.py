"""hotline demo: the agent console on the embedded database, with a demo call that plays by
itself; afterwards, today's tickets."""

from __future__ import annotations

import argparse

from rich.markup import escape

from floor.lines import DEMO_CALLER
from speech.model import MODEL_URL, ModelNotFound, find_model

from . import tickets_cmd
from .common import err, run
from .console_cmd import make_console
from .speech import fetch_with_progress


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.model and not args.no_fetch:
        try:
            find_model()
        except ModelNotFound:  # fetch it when the network allows; otherwise captions
            try:
                fetch_with_progress(None, MODEL_URL, timeout=10)
            except ModelNotFound as exc:
                err.print(f"演示字幕（未安装语音模型）: {escape(str(exc))}")
    app = run(make_console(args.seat, args.agent, "demo", DEMO_CALLER, args.model, auto_answer=True))
    app.run()
    return tickets_cmd.cmd_tickets(tickets_cmd.TODAY)


def register(sub) -> None:
    p = sub.add_parser("demo", help="the agent console with a demo call, on the embedded database")
    p.add_argument("--seat", type=int, default=1)
    p.add_argument("--agent", default="demo01")
    p.add_argument("--model", help="Vosk model folder (default: the installed Chinese model)")
    p.add_argument("--no-fetch", action="store_true",
                   help="do not try to download the Chinese model when none is installed")
    p.set_defaults(func=cmd_demo)
