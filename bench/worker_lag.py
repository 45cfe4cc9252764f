"""The warning worker's lag in real time: from the moment a warning falls due to the moment the
screens hear of it (NOTIFY ticket_warnings), with the real `hotline worker` in its own process.

    python bench/worker_lag.py [--backlog 5000] [--tickets 600] [--seconds 60]

`bench/lifecycle.py` measures the lag inside a simulation that compresses days into seconds on
the same cores; this one runs on the wall clock. A throwaway embedded server holds a backlog
of `--backlog` open tickets (a month's worth of open tickets is ~4,600) and the worker runs
with the sign-for and contact times shortened to 1 and 2 minutes (so that warnings fall due
within the run; the worker's work per warning does not depend on them). `--tickets` tickets
are dispatched evenly over `--seconds` — far denser than a city's ~1,250 a day — and each gets
its six warnings (sign yellow/orange/red at 30/48/60 s, contact at 60/96/120 s). A listener
takes the time of every NOTIFY and reads the warnings stored since the last one.

Prints one JSON line: warnings, lag_p50_ms, lag_p99_ms, lag_max_ms, backlog, tickets.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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
from db import migrate  # noqa: E402
from db.embedded import scratch_server  # noqa: E402
from db.tickets import TicketStore  # noqa: E402
from domain.tickets import TicketDraft, TicketRules  # noqa: E402
from domain.workdays import SHANGHAI  # noqa: E402
from floor.reference import load_reference  # noqa: E402

UNIT = "ZD"  # 张店区人民政府 in the default units


def draft(i: int, accepted_at: dt.datetime) -> TicketDraft:
    return TicketDraft(ticket_type="求助", content=f"路灯不亮（压测{i}）", caller_number="13805331234",
                       unit_code=UNIT, accepted_at=accepted_at)


def short_settings(folder: Path) -> Path:
    """hotline.toml with the unit's timers shortened so that warnings fall due during the run."""
    text = (ROOT / "hotline.toml").read_text(encoding="utf-8")
    text = text.replace("sign_minutes = 15", "sign_minutes = 1").replace("contact_minutes = 30", "contact_minutes = 2")
    path = folder / "hotline.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def bench(dsn: str, backlog: int, tickets: int, seconds: float, folder: Path) -> dict:
    conn = await asyncpg.connect(dsn)
    await migrate.migrate(conn)
    await load_reference(conn, ROOT / "seats.toml")
    store = TicketStore(conn, TicketRules.default())
    old = dt.datetime.now(SHANGHAI) - dt.timedelta(days=1)
    for i in range(backlog):  # open for a day: their sign/contact warnings fire at the first pass
        await store.submit(draft(i, old))
        if i % 500 == 0:
            print(f"\r  backlog {i}/{backlog}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    env = {**os.environ, "HOTLINE_DSN": dsn, "HOTLINE_SETTINGS": str(short_settings(folder)),
           "HOTLINE_DATA_DIR": str(folder)}
    worker = subprocess.Popen([sys.executable, "-m", "console.cli", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listener = await asyncpg.connect(dsn)
    reader = await asyncpg.connect(dsn)
    heard: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener("ticket_warnings", lambda *_: heard.put_nowait(time.time()))
    start = time.time()
    lags: list[float] = []
    last_id = await reader.fetchval("SELECT coalesce(max(id), 0) FROM ticket_events")

    async def collect() -> None:
        nonlocal last_id
        while True:
            at = await heard.get()
            rows = await reader.fetch(
                "SELECT id, payload FROM ticket_events WHERE kind = 'warning' AND id > $1 ORDER BY id", last_id)
            for r in rows:
                last_id = max(last_id, r["id"])
                payload = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
                fire_at = float(payload["fire_at"])
                if fire_at >= start:  # the backlog's old warnings are not lag
                    lags.append(max(0.0, (at - fire_at) * 1000))

    collector = asyncio.create_task(collect())
    try:
        for i in range(tickets):  # dispatched evenly over `seconds`, on the wall clock
            due = start + i * seconds / tickets
            await asyncio.sleep(max(0.0, due - time.time()))
            await store.submit(draft(backlog + i, dt.datetime.now(SHANGHAI)))
        await asyncio.sleep(125)  # the last ticket's contact red is 120 s after its dispatch
        print(f"  {len(lags)} warnings heard", file=sys.stderr)
    finally:
        collector.cancel()
        worker.terminate()
        worker.wait(10)
        for c in (listener, reader, conn):
            await c.close()
    return {"warnings": len(lags), "lag_p50_ms": round(percentile(lags, 0.5), 1),
            "lag_p99_ms": round(percentile(lags, 0.99), 1), "lag_max_ms": round(max(lags), 1),
            "backlog": backlog, "tickets": tickets}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backlog", type=int, default=5000)
    ap.add_argument("--tickets", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with scratch_server() as dsn, tempfile.TemporaryDirectory(prefix="hotline-lag-") as tmp:
        result = asyncio.run(bench(dsn, args.backlog, args.tickets, args.seconds, Path(tmp)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
