"""The ticket benchmark runs end to end (a short run; the figures themselves live in the README)."""

from __future__ import annotations

import json
import subprocess
import sys

import asyncpg

from conftest import REPO


async def test_ticket_bench_stores_every_ticket(dsn):
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "tickets.py"), "--dsn", dsn, "--writers", "20",
         "--seconds", "1", "--rate", "200", "--warmup", "0.2"],
        capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result) >= {"writers", "tickets", "tickets_per_s", "p50_ms", "p99_ms", "lost"}
    assert result["writers"] == 20
    assert 150 <= result["tickets"] <= 220  # 200/s offered for 1 s
    assert result["lost"] == 0
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM tickets")
        events = await conn.fetchval("SELECT count(*) FROM ticket_events")
    finally:
        await conn.close()
    assert stored == result["stored_total"] > result["tickets"]  # the warm-up is stored too
    assert events >= stored
