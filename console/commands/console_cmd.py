"""hotline console: the agent's screen for one seat."""

from __future__ import annotations

import argparse
from pathlib import Path

from common.paths import data_dir
from db import config
from domain.seats import load_seats
from floor.reference import load_reference

from .common import database, default_seats_file, run


async def make_console(seat_id: int, agent_id: str, call: str | None, caller: str, model: str | None,
                       auto_answer: bool = False, ring_after: float = 2.0, realtime: bool = True,
                       take_over: bool = False, headset: bool = True, scripts: dict | None = None,
                       on_registered=None):
    """The console app for a seat, with its data loaded (await it, then run the app). A SIP
    seat without `headset` sends silence into its calls (the demo: no sound card needed)."""
    from floor.context import SeatContext
    from floor.lines import CallSimulator, HeadsetLine, demo_call, demo_utterances
    from speech.audio import PyAudioSource

    from ..agent.app import AgentConsole

    seats = {s.id: s for s in load_seats(default_seats_file())}
    if seat_id not in seats:
        raise ValueError(f"seat {seat_id} is not in {default_seats_file()}")

    async with database() as conn:
        await load_reference(conn, default_seats_file())
    ctx = await SeatContext.load(config.resolve_dsn("agent"), seat_id, agent_id, model)
    line = None
    if call == "demo":
        line = CallSimulator(demo_call(data_dir()), caller, realtime, script=demo_utterances())
    elif call == "headset":
        line = HeadsetLine(seats[seat_id].audio_device, caller)
    elif call == "sip":
        from domain.sip import SipSettings, load_sip
        from telephony.credentials import password_for

        sip = load_sip(default_seats_file()) or SipSettings()
        extension = seats[seat_id].extension
        device = seats[seat_id].audio_device
        opener = (lambda: PyAudioSource(device)) if headset else None
        return AgentConsole(ctx, None, auto_answer=auto_answer, take_over=take_over, on_registered=on_registered,
                            phone=(sip, extension, password_for(extension), opener, scripts))
    elif call:
        line = CallSimulator(Path(call), caller, realtime)
    return AgentConsole(ctx, line, ring_after=ring_after if line else None, auto_answer=auto_answer,
                        take_over=take_over)


def cmd_console(args: argparse.Namespace) -> int:
    app = run(make_console(args.seat, args.agent, args.call, args.caller, args.model,
                           auto_answer=args.auto_answer, take_over=args.take_over))
    app.run()
    return app.return_code or 0


def register(sub) -> None:
    p = sub.add_parser("console", help="the agent console for one seat")
    p.add_argument("--seat", type=int, required=True)
    p.add_argument("--agent", required=True, help="agent id (工号)")
    p.add_argument("--call", help="'sip' (the seat's SIP phone: calls from the PBX, seats.toml [sip]), 'demo', "
                                  "a WAV file to play as an incoming call, or 'headset'")
    p.add_argument("--caller", default="13805331234", help="caller number of the simulated call")
    p.add_argument("--model", help="Vosk model folder")
    p.add_argument("--auto-answer", action="store_true", help="answer the call by itself")
    p.add_argument("--take-over", action="store_true",
                   help="sign out another console that holds this seat (logged as a seat event)")
    p.set_defaults(func=cmd_console)
