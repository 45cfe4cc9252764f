"""Ticket lifecycle at city scale: a simulated month, then a year of it, ranked.

1. Simulates `--days` of the hotline (3,200 calls a day, units, call-backs, supervision and the
   warning worker; floor/city.py, the code of `hotline simulate --days N --units`) on a
   throwaway embedded server.
2. Makes a year of data from those days: their tickets and events (not their warnings)
   copied `--copies - 1` times, each copy `--days` earlier (deadlines and due dates moved with
   it; only tickets closed by the end of the simulation) — the real simulation's shape at a
   year's volume (~1.2 M tickets), loaded like a restore (the open-ticket and unit-turn
   projections rebuilt once at the end rather than per row).
3. Times, on the year: the unit rankings of the last month and of the whole year (`hotline
   rankings`), and one pass of the warning worker over the open tickets (`hotline worker`).

    python bench/lifecycle.py [--days 30] [--copies 12] [--calls-per-day 3200]
    python bench/lifecycle.py --days 10 --copies 37     # the same year from a shorter simulation

Prints one JSON line: days, tickets, events, warnings, worker_lag_p99_ms, simulate_s,
year_tickets, year_events, rankings_month_s, rankings_year_s, worker_pass_s, units_ranked.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db import migrate  # noqa: E402
from db.embedded import scratch_server  # noqa: E402
from db.lifecycle import LifecycleStore  # noqa: E402
from db.rankings import unit_rankings  # noqa: E402
from db.reference import ReferenceStore  # noqa: E402
from db.seats import SeatStore  # noqa: E402
from domain.routing import parse_units  # noqa: E402
from domain.seats import load_seats  # noqa: E402
from domain.settings import LifecycleSettings  # noqa: E402
from domain.taxonomy import DEFAULT_TAXONOMY, parse_taxonomy  # noqa: E402
from domain.tickets import TicketRules  # noqa: E402
from domain.workdays import SHANGHAI  # noqa: E402
from floor.city import CitySimulation  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# Copy number $1 of the simulated days, $1 × $4 days earlier: ids moved past the originals.
# Only tickets closed by the end of the simulation are copied: in an older period they were
# closed long ago (a copy of a ticket still open would stay open for ever, 37 times over).
_COPY_TICKETS = """
INSERT INTO tickets (id, ticket_no, idempotency_key, accepted_at, stored_at, ticket_type, urgency, channel,
                     handling_mode, category_code, caller_number, caller_name, address_code, address_text,
                     content, unit_code, kb_article_id, deadline_at, call_id, seat_id, agent_id)
SELECT id + $1::bigint * $2::bigint, ticket_no || '~' || $1::text,  -- a copy's number says so
       gen_random_uuid(), accepted_at - $1::int * $3::int * interval '1 day', stored_at, ticket_type, urgency, channel,
       handling_mode, category_code, caller_number, caller_name, address_code, address_text, content, unit_code,
       kb_article_id, deadline_at - $1::int * $3::int * interval '1 day', NULL, seat_id, agent_id
FROM tickets WHERE id <= $2::bigint AND id NOT IN (SELECT ticket_id FROM ticket_open)
"""
_COPY_EVENTS = """
INSERT INTO ticket_events (id, ticket_id, at, kind, status, unit_code, actor, note, payload)
SELECT id + $1::bigint * $3::bigint, ticket_id + $1::bigint * $2::bigint, at - $1::int * $4::int * interval '1 day', kind, status, unit_code, actor, note,
       CASE WHEN payload ? 'due_at' AND kind IN ('deadline', 'extension_request')
                THEN jsonb_set(payload, '{due_at}', to_jsonb(((payload->>'due_at')::timestamptz
                                                              - $1::int * $4::int * interval '1 day')::text))
            WHEN kind = 'supervision'
                THEN jsonb_set(payload, '{answer_by}', to_jsonb(((payload->>'answer_by')::timestamptz
                                                                 - $1::int * $4::int * interval '1 day')::text))
            ELSE payload END
FROM ticket_events WHERE id <= $3::bigint AND kind <> 'warning'
  AND ticket_id NOT IN (SELECT ticket_id FROM ticket_open)
"""


# Projections kept by triggers on ticket_events: off while copying, rebuilt once after.
_PROJECTIONS = ("ticket_events_track_open", "ticket_events_track_turn")


async def prepare(dsn: str) -> None:
    from geo.service import DEMO_GAZETTEER, import_csv
    from kb.library import DEMO_KB, import_articles

    conn = await asyncpg.connect(dsn)
    await migrate.migrate(conn)
    reference = ReferenceStore(conn)
    await reference.import_taxonomy(parse_taxonomy(DEFAULT_TAXONOMY))
    await reference.replace_units(*parse_units())
    await SeatStore(conn).sync(load_seats(REPO / "seats.toml"))
    await import_csv(conn, DEMO_GAZETTEER)
    await import_articles(conn, DEMO_KB)
    await conn.close()


async def grow_to_a_year(dsn: str, days: int, copies: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        tickets, events = await conn.fetchval("SELECT max(id) FROM tickets"), \
            await conn.fetchval("SELECT max(id) FROM ticket_events")
        for trigger in _PROJECTIONS:
            await conn.execute(f"ALTER TABLE ticket_events DISABLE TRIGGER {trigger}")
        for k in range(1, copies):
            await conn.execute(_COPY_TICKETS, k, tickets, days)
            await conn.execute(_COPY_EVENTS, k, tickets, events, days)
            print(f"\r  copied {k + 1}/{copies}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        for trigger in _PROJECTIONS:
            await conn.execute(f"ALTER TABLE ticket_events ENABLE TRIGGER {trigger}")
        await conn.execute("SELECT rebuild_open_tickets()")
        await conn.execute("SELECT rebuild_ticket_turns()")
        await conn.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
        await conn.execute("SELECT setval('ticket_events_id_seq', (SELECT max(id) FROM ticket_events))")
        await conn.execute("VACUUM ANALYZE tickets")
        await conn.execute("VACUUM ANALYZE ticket_events")
        await conn.execute("VACUUM ANALYZE ticket_open")
        await conn.execute("VACUUM ANALYZE ticket_turns")
    finally:
        await conn.close()


async def timed(make) -> tuple[float, object]:
    began = time.perf_counter()
    result = await make()
    return time.perf_counter() - began, result


async def run(dsn: str, days: int, copies: int, calls_per_day: int) -> dict:
    await prepare(dsn)
    settings = LifecycleSettings()
    end = dt.datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    month = await CitySimulation(dsn, dsn, start, days, calls_per_day, True, TicketRules.default(), settings,
                                 progress=lambda now, r: print(f"\r  simulating {now:%Y-%m-%d %H:%M}",
                                                               end="", file=sys.stderr, flush=True)).run()
    print(file=sys.stderr)
    await grow_to_a_year(dsn, days, copies)
    conn = await asyncpg.connect(dsn)
    try:
        year_tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        year_events = await conn.fetchval("SELECT count(*) FROM ticket_events")
        year_start = end - dt.timedelta(days=days * copies)
        runs = []
        for _ in range(3):
            month_s, ranked = await timed(lambda: unit_rankings(conn, end - dt.timedelta(days=30), end, settings, end))
            year_s, _ = await timed(lambda: unit_rankings(conn, year_start, end, settings, end))
            runs.append((month_s, year_s))
        store = LifecycleStore(conn)
        await store.fire_warnings(end, settings)  # the backlog of the copies, once
        passes = [(await timed(lambda: store.fire_warnings(end + dt.timedelta(seconds=i), settings)))[0]
                  for i in range(1, 6)]
    finally:
        await conn.close()
    return {"days": month["days"], "tickets": month["tickets"], "events": month["events"],
            "warnings": month["warnings"], "worker_lag_p99_ms": month["worker_lag_p99_ms"],
            "simulate_s": month["seconds"], "year_tickets": year_tickets, "year_events": year_events,
            "rankings_month_s": round(sorted(r[0] for r in runs)[1], 3),
            "rankings_year_s": round(sorted(r[1] for r in runs)[1], 3),
            "worker_pass_s": round(sorted(passes)[2], 3), "units_ranked": len(ranked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--copies", type=int, default=12, help="the simulated days copied back this many times")
    parser.add_argument("--calls-per-day", type=int, default=3200)
    args = parser.parse_args()
    with scratch_server("hotline-bench-lifecycle-") as dsn:
        print(json.dumps(asyncio.run(run(dsn, args.days, args.copies, args.calls_per_day)), ensure_ascii=False))


if __name__ == "__main__":
    main()
