"""Ticket write benchmark: N concurrent writers against the embedded server.

Every writer is one seat submitting tickets through the product's TicketWriter (validation,
deadline, numbering, idempotent insert, outbox fallback).  By default the writers offer a
fixed total rate (open loop, as seats do: a seat files a ticket when a call ends), and the
latency of each ticket is measured from the moment it was due, so a stalled server shows
up as latency instead of hiding behind a slower offered load.  `--rate 0` runs the writers
back to back (closed loop) to find the saturation throughput.

    python bench/tickets.py [--writers 150] [--seconds 10] [--rate 1200]

Prints one JSON line: writers, tickets, tickets_per_s, p50_ms, p99_ms, lost (tickets
submitted but not stored, counted over the warm-up too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db import migrate  # noqa: E402
from db.embedded import scratch_server  # noqa: E402
from common.heap import freeze_startup_heap  # noqa: E402
from db.outbox import Outbox, TicketWriter  # noqa: E402
from db.reference import ReferenceStore  # noqa: E402
from domain.routing import parse_units  # noqa: E402
from domain.tickets import TicketDraft, TicketRules  # noqa: E402
from domain.taxonomy import DEFAULT_TAXONOMY, parse_taxonomy  # noqa: E402
from common.metrics import percentile  # noqa: E402


async def run(dsn: str, writers: int, seconds: float, rate: float, pool_size: int,
              workdir: Path, warmup: float = 1.0) -> dict:
    conn = await asyncpg.connect(dsn)
    await migrate.migrate(conn)
    await ReferenceStore(conn).import_taxonomy(parse_taxonomy(DEFAULT_TAXONOMY))
    await ReferenceStore(conn).replace_units(*parse_units())
    before = await conn.fetchval("SELECT count(*) FROM tickets")
    await conn.close()

    writer = TicketWriter(dsn, Outbox(workdir / "outbox.jsonl"), TicketRules.default(),
                          pool_size=pool_size, min_pool_size=pool_size)
    await writer.replay()  # opens the pool before the clock starts
    # One process plays 150 seats here, so a full collection of its start-up heap (pinyin
    # tables and all) would stall every seat at once; the consoles freeze theirs the same way.
    freeze_startup_heap()
    latencies: list[float] = []
    keys = []
    start = time.perf_counter()
    measure_from = start + warmup  # connections prepare their statements during warm-up
    stop_at = measure_from + seconds
    interval = writers / rate if rate > 0 else 0.0

    async def seat(n: int) -> None:
        due = start + (n / writers) * interval  # spread the seats over one interval
        i = 0
        while True:
            if interval:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent = due if interval else time.perf_counter()
            if sent >= stop_at:
                return
            draft = TicketDraft(
                ticket_type=("投诉", "咨询", "求助")[i % 3], content=f"座席{n}第{i}件：噪音扰民",
                caller_number=f"138{n:04d}{i % 10000:04d}", unit_code="ZD", category_code="030101",
                address_text="张店区马尚街道西寨社区", seat_id=n % 150 + 1)
            result = await writer.submit(draft)
            if sent >= measure_from:
                latencies.append((time.perf_counter() - sent) * 1000)
            keys.append(result.draft.idempotency_key)
            i += 1
            due += interval

    await asyncio.gather(*(seat(n) for n in range(writers)))
    elapsed = time.perf_counter() - measure_from
    await writer.replay()
    await writer.close()

    conn = await asyncpg.connect(dsn)
    stored = await conn.fetchval(
        "SELECT count(*) FROM tickets WHERE idempotency_key = ANY($1::uuid[])", keys)
    total = await conn.fetchval("SELECT count(*) FROM tickets")
    await conn.close()
    return {
        "writers": writers,
        "tickets": len(latencies),
        "tickets_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "lost": len(keys) - stored,
        "offered_rate": rate or "closed-loop",
        "pool_size": pool_size,
        "seconds": round(elapsed, 2),
        "stored_total": total - before,
        "warmup_s": warmup,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1200,
                        help="total tickets/s offered by all writers (0 = back to back)")
    parser.add_argument("--pool-size", type=int, default=16,
                        help="PostgreSQL connections shared by the writers")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of load before measuring (not counted, still checked for loss)")
    parser.add_argument("--dsn", help="benchmark this server instead of a fresh embedded one")
    args = parser.parse_args()
    server = nullcontext(args.dsn) if args.dsn else scratch_server("hotline-bench-")
    with server as dsn, tempfile.TemporaryDirectory(prefix="hotline-bench-outbox-") as tmp:
        result = asyncio.run(run(dsn, args.writers, args.seconds, args.rate,
                                 args.pool_size, Path(tmp), args.warmup))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
