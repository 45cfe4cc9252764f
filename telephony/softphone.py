"""A headless seat phone in a process of its own, for tests and load: registers an extension
and answers after a delay, or never; prints each phone event as a JSON line.

    python -m telephony.softphone --extension 8001 --registrar 127.0.0.1:5060 \\
        --domain hotline.local [--answer-after 0.5 | --never-answer] [--seconds 60]

The password comes as for every seat (HOTLINE_SIP_PASSWORD_<extension>, or the passwords file).

A seat in its own process is how a floor runs (one console per seat): one SIP endpoint
offered the same call twice would take the second offer for a loop (482).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys

from domain.sip import SipSettings

from .credentials import password_for
from .engine import SipEngine
from .phone import IncomingCall, SeatPhone


def _as_json(event) -> str:
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "line"}
    return json.dumps({"event": type(event).__name__, **fields}, ensure_ascii=False)


async def run(args: argparse.Namespace) -> None:
    sip = SipSettings(domain=args.domain, registrar=args.registrar)
    engine = SipEngine().start()
    phone = None

    def on(event) -> None:
        print(_as_json(event), flush=True)
        if isinstance(event, IncomingCall) and args.answer_after is not None:
            asyncio.get_running_loop().call_later(args.answer_after, phone.answer)

    phone = SeatPhone(engine, sip, args.extension, password_for(args.extension), on)
    try:
        await asyncio.sleep(args.seconds)
    finally:
        phone.close()
        await engine.settle(0.3)
        await engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extension", required=True)
    parser.add_argument("--registrar", required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--answer-after", type=float, default=None)
    parser.add_argument("--never-answer", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.never_answer:
        args.answer_after = None
    elif args.answer_after is None:
        args.answer_after = 0.2
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
