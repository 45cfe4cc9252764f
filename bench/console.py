"""Agent console benchmark: keys from hang-up to saved ticket, and the latency from a
transcript event to the updated address pane.

    python bench/console.py [--calls 20]

Runs the real console (Textual, headless) on a fresh embedded database with the demo data.
The call audio is silence played in real time; during it, the utterances of the demo
script are posted as transcript events — exactly what a correct recogniser emits (partials
growing word by word, then the final) — because no Chinese model can be installed here.
After the hang-up the benchmark presses only the keys a trained agent would when the
suggestions are right, and checks that the saved ticket has the right address.
Prints one JSON line: calls, keys_after_hang_up (per call), tickets_right,
address_pane_p50_ms, address_pane_p95_ms (event posted → pane updated), events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.metrics import percentile  # noqa: E402

UTTERANCES = ["喂你好", "我住马尚街道松龄花园三号楼二单元", "楼道里的灯坏了一个多星期了", "晚上特别黑麻烦派人来修一下"]
EXPECTED_ADDRESS = "370303009001200103"




async def one_call(app, pilot) -> tuple[int, float]:
    from speech.recognizer import Final, Partial

    session = app.session
    await app.ring()
    while session.phase != "talking":
        await pilot.pause(0.05)
    clock = 0.0
    for utterance in UTTERANCES:  # what a correct recogniser emits: partials growing, a final
        for end in range(2, len(utterance) + 1, 3):
            session.hear(Partial(utterance[:end], clock, time.monotonic()))
            await pilot.pause(0.02)
        clock += len(utterance) * 0.25
        session.hear(Final(utterance, clock - len(utterance) * 0.25, clock, (), None, time.monotonic()))
        await pilot.pause(0.05)
    while session.phase != "wrapup":
        await pilot.pause(0.05)
    keys = ["f5", "ctrl+s"]  # confirm the suggested address, save the pre-filled ticket
    for key in keys:
        await pilot.press(key)
        await pilot.pause(0.05)
    while session.phase != "idle":
        await pilot.pause(0.05)
    return len(keys), time.monotonic()


async def run(calls: int, folder: Path) -> dict:
    os.environ["HOTLINE_DATA_DIR"] = str(folder)
    os.environ.pop("HOTLINE_DSN", None)
    from console.agent.app import AgentConsole
    from console.commands.common import database
    from db import config
    from floor.context import SeatContext
    from floor.lines import CallSimulator
    from floor.reference import load_reference

    silence = folder / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(silence), "trim", "0", "3"], check=True)
    async with database() as conn:
        await load_reference(conn, ROOT / "seats.toml")
    dsn = config.resolve_dsn()
    ctx = await SeatContext.load(dsn, 1, "B001", want_model=False)
    app = AgentConsole(ctx, CallSimulator(silence, "13805331234", realtime=True), auto_answer=True)
    keys = []
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(calls):
            n, _ = await one_call(app, pilot)
            keys.append(n)
        latencies = list(app.main.address_latencies_ms)
    conn = await asyncpg.connect(dsn)
    right = await conn.fetchval("SELECT count(*) FROM tickets WHERE address_code = $1", EXPECTED_ADDRESS)
    await conn.close()
    config.embedded_server().stop()
    return {"calls": calls, "keys_after_hang_up": max(keys), "tickets_right": right,
            "address_pane_p50_ms": round(percentile(latencies, 0.5), 2),
            "address_pane_p95_ms": round(percentile(latencies, 0.95), 2), "events": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-console-bench-") as tmp:
        print(json.dumps(asyncio.run(run(args.calls, Path(tmp))), ensure_ascii=False))


if __name__ == "__main__":
    main()
