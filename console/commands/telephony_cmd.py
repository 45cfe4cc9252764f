"""hotline dial: a citizen's phone — call a number through the PBX, play a recording into the
call, hang up at its end, and print how it went as one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path

from .common import err
from .pbx_cmd import sip_settings


async def _dial(args: argparse.Namespace) -> dict:
    from telephony.dialer import dial, wav_pcm
    from telephony.engine import CODEC_NAMES, SipEngine

    sip = sip_settings()
    via = args.to or sip.registrar
    target = f"sip:{args.number}@{via}"
    pcm = wav_pcm(Path(args.wav))
    codecs = (CODEC_NAMES[args.codec],) if args.codec else tuple(CODEC_NAMES.values())
    engine = SipEngine(transport=sip.transport, codecs=codecs).start()
    try:
        result = await dial(engine, target, pcm, args.caller, sip.domain, answer_timeout=args.timeout, proxy=via)
    finally:
        await engine.stop()
    return result.as_json()


def cmd_dial(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d{3,20}", args.number):
        raise ValueError(f"NUMBER must be 3-20 digits, got {args.number!r}")
    if args.caller and not re.fullmatch(r"\+?\d{3,20}|anonymous", args.caller):
        raise ValueError(f"--from must be a phone number or 'anonymous', got {args.caller!r}")
    if not Path(args.wav).exists():
        raise FileNotFoundError(f"--wav: no such file: {args.wav}")
    result = asyncio.run(_dial(args))
    print(json.dumps(result, ensure_ascii=False))
    if not result["answered"]:
        err.print(f"无人接听（{result['code']}）")
    return 0 if result["answered"] else 1


def register(sub) -> None:
    p = sub.add_parser("dial", help="call a number through the PBX and play a WAV into the call (a citizen's phone)")
    p.add_argument("number", help="the number to call, e.g. 12345 or a seat's extension")
    p.add_argument("--wav", required=True, help="what the caller says: any WAV the speech tools read")
    p.add_argument("--from", dest="caller", default="13805331234", help="the caller's number ('anonymous' to hide it)")
    p.add_argument("--to", help="host:port to send the call to (default: the registrar of seats.toml [sip])")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer")
    p.add_argument("--codec", choices=("G722", "PCMU", "PCMA"),
                   help="offer only this codec (a G.711 trunk offers PCMA or PCMU; default: all, G.722 first)")
    p.set_defaults(func=cmd_dial)
