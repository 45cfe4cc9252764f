"""Days of the city's hotline in compressed time (`hotline simulate --days N --units`): the floor,
the units, the call-backs, the supervisors and the warning worker through the real stores."""

import datetime as dt
import json
import os
import subprocess
import sys

import asyncpg

from db.rankings import unit_rankings
from domain.settings import LifecycleSettings
from domain.tickets import TicketRules
from domain.workdays import SHANGHAI
from floor.city import CitySimulation, _on_duty
from conftest import REPO

START = dt.datetime(2026, 12, 3, tzinfo=SHANGHAI)  # Thursday: the three days span a weekend


def test_units_act_only_on_duty():
    assert _on_duty(START.replace(hour=3)) == START.replace(hour=8)
    assert _on_duty(START.replace(hour=21)) == START.replace(day=4, hour=8)
    assert _on_duty(START.replace(hour=12, minute=5)) == START.replace(hour=12, minute=5)


async def test_three_days_of_the_city(dsn):
    from geo.service import DEMO_GAZETTEER, import_csv
    from kb.library import DEMO_KB, import_articles

    conn = await asyncpg.connect(dsn)
    await import_csv(conn, DEMO_GAZETTEER)
    await import_articles(conn, DEMO_KB)
    await conn.close()
    settings = LifecycleSettings()
    result = await CitySimulation(dsn, dsn, START, 3, 150, True, TicketRules.default(), settings,
                                  seed=7).run()
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM tickets")
        dispatched = await conn.fetchval("SELECT count(*) FROM tickets WHERE handling_mode = '派单'")
        calls = await conn.fetchval("SELECT count(*) FROM calls")
        warnings = dict(await conn.fetch(
            "SELECT payload->>'level', count(*) FROM ticket_events WHERE kind = 'warning' GROUP BY 1"))
        doubled = await conn.fetchval(
            """SELECT count(*) FROM (SELECT 1 FROM ticket_events WHERE kind = 'warning'
               GROUP BY ticket_id, payload->>'timer', payload->>'level', payload->>'due_at' HAVING count(*) > 1) d""")
        ranked = await unit_rankings(conn, START, START + dt.timedelta(days=3), settings, START + dt.timedelta(days=3))
        kept = [tuple(r) for r in await conn.fetch("SELECT * FROM ticket_open ORDER BY ticket_id")]
        rebuilt = await conn.fetchval("SELECT rebuild_open_tickets()")
        derived = [tuple(r) for r in await conn.fetch("SELECT * FROM ticket_open ORDER BY ticket_id")]
        turns_kept = [tuple(r) for r in await conn.fetch("SELECT * FROM ticket_turns ORDER BY turn_id")]
        turns_rebuilt = await conn.fetchval("SELECT rebuild_ticket_turns()")
        turns_derived = [tuple(r) for r in await conn.fetch("SELECT * FROM ticket_turns ORDER BY turn_id")]
    finally:
        await conn.close()
    assert 380 <= result["calls"] <= 520 and result["calls"] == calls == stored == result["tickets"]
    assert 0.25 <= dispatched / stored <= 0.55 and dispatched == result["dispatched"]
    steps = result["steps"]
    for step in ("签收", "联系群众", "办结", "回访", "归档"):
        assert steps.get(step, 0) > 0, (step, steps)
    assert steps["签收"] + steps.get("退单", 0) >= 0.8 * dispatched  # nearly every ticket reached a unit
    # Every warning the worker counted is stored once; nights and slow units make all three levels.
    assert warnings == result["warnings"] and min(warnings.values()) > 0 and doubled == 0
    assert result["units_ranked"] == len(ranked) > 3
    assert result["worker_lag_p99_ms"] is not None and result["events"] > stored * 2
    # What the trigger kept, event by event, equals the open tickets derived again from the events.
    assert len(kept) == rebuilt > 0 and kept == derived
    # … and so do the units' turns the rankings read (returns, extensions and 重办 among them).
    assert len(turns_kept) == turns_rebuilt > dispatched and turns_kept == turns_derived
    assert any(t[7] for t in turns_kept) and any(t[8] for t in turns_kept)  # returned, extended


def test_the_simulate_command(dsn):
    env = {**os.environ, "HOTLINE_DSN": dsn}
    done = subprocess.run([sys.executable, "-m", "console.cli", "simulate", "--days", "1", "--calls-per-day", "40",
                           "--units", "--start", "2026-12-07"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(line) >= {"days", "tickets", "events", "warnings", "units_ranked", "worker_lag_p99_ms"}
    assert line["days"] == 1 and line["tickets"] > 15 and set(line["warnings"]) == {"yellow", "orange", "red"}
    bad = subprocess.run([sys.executable, "-m", "console.cli", "simulate", "--days", "0"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--days must be from 1 to 366" in bad.stderr


def test_a_warning_is_due_no_earlier_than_its_timer_began():
    """The simulation's worker lag: a warning whose moment passed before its timer was set (an
    extension approved late, a re-dispatch) is due at that step, not before the timer existed;
    other kinds of step do not move it."""
    from floor.city import _timer_began

    starts = [(100.0, "turn"), (500.0, "deadline"), (800.0, "supervision"), (900.0, "turn")]
    assert _timer_began(starts, "handle", 600.0) == 500.0  # the deadline moved at 500
    assert _timer_began(starts, "sign", 600.0) == 100.0  # a moved deadline does not restart signing
    assert _timer_began(starts, "supervision", 850.0) == 800.0
    assert _timer_began(starts, "contact", 950.0) == 900.0  # dispatched again at 900
    assert _timer_began(starts, "supervision", 700.0) == 0.0  # no 督办 yet: its own moment counts
