import asyncio
import datetime as dt
import re

import asyncpg
import pytest

from db import migrate
from domain.tickets import TicketDraft, TransitionError
from db.tickets import TicketStore
from domain.workdays import SHANGHAI


def draft(**overrides):
    base = dict(ticket_type="投诉", content="小区门口路灯坏了", caller_number="13805331234",
                unit_code="ZD", category_code="010201",
                accepted_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))
    base.update(overrides)
    return TicketDraft(**base)


async def test_migrations_are_recorded_and_idempotent(conn):
    assert await migrate.migrate(conn) == []
    versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    assert versions == [m.version for m in migrate.available()]
    assert await migrate.pending(conn) == []


async def test_submit_stores_ticket_with_deadline_and_events(conn, rules):
    store = TicketStore(conn, rules)
    stored = await store.submit(draft(caller_number="138 0533 1234"))
    assert stored.created and stored.ticket_no == "20261123-0001"
    assert stored.deadline_at == dt.datetime(2026, 11, 26, 23, 59, 59, tzinfo=SHANGHAI)
    row = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1", stored.id)
    assert row["caller_number"] == "13805331234" and row["unit_code"] == "ZD"
    assert [e["status"] for e in await store.history(stored.id)] == ["受理", "已派单"]
    assert await store.status(stored.id) == "已派单"


async def test_resubmitting_the_same_key_stores_once(conn, rules):
    store = TicketStore(conn, rules)
    d = draft()
    first, second = await store.submit(d), await store.submit(d)
    assert first.created and not second.created
    assert (first.id, first.ticket_no) == (second.id, second.ticket_no)
    assert await conn.fetchval("SELECT count(*) FROM tickets") == 1
    assert await conn.fetchval("SELECT count(*) FROM ticket_events") == 2


async def test_numbering_is_unique_with_50_concurrent_writers(dsn, rules):
    pool = await asyncpg.create_pool(dsn, min_size=50, max_size=50)
    store = TicketStore(pool, rules)
    try:
        results = await asyncio.gather(*(
            store.submit(draft(content=f"第{i}件")) for i in range(50) for _ in range(4)
        ))
    finally:
        await pool.close()
    numbers = [r.ticket_no for r in results]
    assert len(set(numbers)) == 200
    assert all(re.fullmatch(r"20261123-\d{4}", n) for n in numbers)
    assert sorted(numbers) == [f"20261123-{i:04d}" for i in range(1, 201)]


async def test_numbering_restarts_each_day(conn, rules):
    store = TicketStore(conn, rules)
    a = await store.submit(draft(accepted_at=dt.datetime(2026, 11, 23, 23, 59, tzinfo=SHANGHAI)))
    b = await store.submit(draft(accepted_at=dt.datetime(2026, 11, 24, 0, 1, tzinfo=SHANGHAI)))
    assert (a.ticket_no, b.ticket_no) == ("20261123-0001", "20261124-0001")


@pytest.mark.parametrize("statement", [
    "UPDATE tickets SET content = 'edited'",
    "DELETE FROM tickets",
    "TRUNCATE tickets CASCADE",
    "UPDATE ticket_events SET note = 'edited'",
    "DELETE FROM ticket_events",
])
async def test_original_record_and_events_cannot_be_changed(conn, rules, statement):
    await TicketStore(conn, rules).submit(draft())
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await conn.execute(statement)
    assert await conn.fetchval("SELECT content FROM tickets") == "小区门口路灯坏了"


async def test_status_changes_are_appended_and_checked(conn, rules):
    store = TicketStore(conn, rules)
    t = await store.submit(draft())
    await store.append_status(t.id, "已签收", actor="ZD")
    await store.append_status(t.id, "退单", actor="ZD", note="不属于本单位职责")
    await store.append_status(t.id, "已派单", actor="agent-7", unit_code="CGJ")
    with pytest.raises(TransitionError):
        await store.append_status(t.id, "已归档", actor="agent-7")
    await store.add_note(t.id, "市民来电催办", actor="agent-7")
    history = await store.history(t.id)
    assert [(e["kind"], e["status"]) for e in history] == [
        ("status", "受理"), ("status", "已派单"), ("status", "已签收"), ("status", "退单"),
        ("status", "已派单"), ("note", None)]
    assert await store.status(t.id) == "已派单"
    with pytest.raises(LookupError):
        await store.append_status(999999, "已签收", actor="x")


async def test_concurrent_status_changes_cannot_both_win(dsn, rules):
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=8)
    try:
        store = TicketStore(pool, rules)
        t = await store.submit(draft())
        outcomes = await asyncio.gather(
            *(store.append_status(t.id, "已签收", actor=f"u{i}") for i in range(8)),
            return_exceptions=True)
    finally:
        await pool.close()
    assert sum(1 for o in outcomes if isinstance(o, int)) == 1
    assert all(isinstance(o, (int, TransitionError)) for o in outcomes)


async def test_unknown_category_is_refused_by_the_database(conn, rules):
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await TicketStore(conn, rules).submit(draft(category_code="999999"))


async def test_repeat_caller_lookup(conn, rules):
    store = TicketStore(conn, rules)
    for i in range(3):
        await store.submit(draft(content=f"第{i}次来电"))
    await store.submit(draft(caller_number="0533-2181234"))
    rows = await store.by_caller("13805331234")
    assert len(rows) == 3 and all(r["status"] == "已派单" for r in rows)


async def test_ticket_search_counts_everything_that_matches(conn, rules, dsn, tmp_path):
    """1,706 stored once showed as '10 tickets today': the count is of every match."""
    import csv
    import os
    import subprocess
    import sys
    from conftest import REPO
    store = TicketStore(conn, rules)
    day = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    for i in range(30):
        await store.submit(TicketDraft(
            ticket_type="投诉", content=f"第{i}件", caller_number="13805331234" if i % 3 else "0533-2181234",
            unit_code="ZD" if i % 2 else "CGJ", address_text="张店区松龄花园3号楼" if i < 10 else "淄川区般阳路",
            accepted_at=day + dt.timedelta(minutes=i)))
    await store.submit(TicketDraft(ticket_type="咨询", content="次日", caller_number="13805331234",
                                   unit_code="ZD", accepted_at=day + dt.timedelta(days=1)))
    start, end = day.replace(hour=0), day.replace(hour=0) + dt.timedelta(days=1)
    total, rows = await store.search(start, end, limit=5)
    assert (total, len(rows)) == (30, 5)
    assert (await store.search(start, end, caller="0533-2181234"))[0] == 10
    assert (await store.search(start, end, address="松龄花园"))[0] == 10
    assert (await store.search(start, end, unit="CGJ"))[0] == 15
    assert (await store.search(None, None, number="20261124"))[0] == 1
    assert (await store.search(start, end, status="已派单", unit="ZD", address="般阳路"))[0] == 10
    env = {**os.environ, "HOTLINE_DSN": dsn}

    def hotline(*args):
        return subprocess.run([sys.executable, "-m", "console.cli", "tickets", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)

    listed = hotline("--date", "2026-11-23", "--caller", "138 0533 1234")
    assert listed.returncode == 0 and "20 tickets 2026-11-23" in listed.stdout, listed.stdout
    export = tmp_path / "t.csv"
    assert hotline("--from", "2026-11-23", "--to", "2026-11-24", "--csv", str(export)).returncode == 0
    with open(export, encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == 31
    bad = hotline("--status", "done")
    assert bad.returncode == 2 and "--status must be one of" in bad.stderr
