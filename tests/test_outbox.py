"""No ticket is ever lost: PostgreSQL is stopped in the middle of concurrent writes."""

import asyncio
import datetime as dt
import json

import asyncpg
import pytest

from db import migrate
from db.embedded import EmbeddedPostgres
from db.outbox import Outbox, OutboxError, TicketWriter, decode_record
from domain.tickets import TicketDraft, TicketRules, TicketValidationError
from db.reference import ReferenceStore
from domain.routing import parse_units
from domain.workdays import SHANGHAI


def draft(i: int, **overrides) -> TicketDraft:
    base = dict(ticket_type="投诉", content=f"第{i}号工单：噪音扰民", caller_number="13805331234",
                unit_code="ZD", accepted_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))
    base.update(overrides)
    return TicketDraft(**base)


@pytest.fixture
async def own_server(tmp_path):
    """A server of this test's own: it is stopped and restarted mid-test."""
    server = EmbeddedPostgres(tmp_path / "pg")
    dsn = server.start()
    conn = await asyncpg.connect(dsn)
    await migrate.migrate(conn)
    await ReferenceStore(conn).replace_units(*parse_units())
    await conn.close()
    yield server, dsn
    server.stop()


async def test_stop_in_the_middle_of_concurrent_writes_loses_nothing(own_server, tmp_path):
    server, dsn = own_server
    outbox = Outbox(tmp_path / "outbox.jsonl")
    writer = TicketWriter(dsn, outbox, TicketRules.default(), pool_size=8)
    writers, per_writer = 20, 30
    submitted: list = []
    half_done = asyncio.Event()

    async def seat(n: int) -> None:
        for i in range(per_writer):
            result = await writer.submit(draft(n * 1000 + i))
            submitted.append(result)
            if len(submitted) >= writers * per_writer // 3:
                half_done.set()
            await asyncio.sleep(0.005)

    async def outage() -> None:
        await half_done.wait()
        await asyncio.to_thread(server.stop, "immediate")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(server.start)

    await asyncio.gather(outage(), *(seat(n) for n in range(writers)))
    queued = [s for s in submitted if s.queued]
    assert len(submitted) == writers * per_writer
    assert queued, "the outage should have sent some tickets to the outbox"
    assert len(outbox.pending()) == len(queued)

    # a fresh writer (as after a console restart) replays the outbox
    writer2 = TicketWriter(dsn, Outbox(tmp_path / "outbox.jsonl"), writer.rules)
    for _ in range(50):
        await writer2.replay()
        if not outbox.pending():
            break
        await asyncio.sleep(0.2)
    await writer.close()
    await writer2.close()
    assert outbox.pending() == []

    conn = await asyncpg.connect(dsn)
    keys = [r["idempotency_key"] for r in await conn.fetch("SELECT idempotency_key FROM tickets")]
    numbers = await conn.fetchval("SELECT count(DISTINCT ticket_no) FROM tickets")
    events = await conn.fetchval("SELECT count(*) FROM ticket_events")
    await conn.close()
    assert sorted(keys) == sorted(s.draft.idempotency_key for s in submitted)  # exactly once
    assert numbers == len(keys)
    assert events == 2 * len(keys)  # 受理 + 已派单 for every ticket, none doubled


async def test_database_down_from_the_start_queues_and_replays(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg")
    dsn = server.dsn()  # not started yet
    outbox = Outbox(tmp_path / "outbox.jsonl")
    writer = TicketWriter(dsn, outbox, TicketRules.default())
    result = await writer.submit(draft(1))
    assert result.queued and len(outbox.pending()) == 1
    assert await writer.replay() == 0  # still down
    server.start()
    try:
        conn = await asyncpg.connect(dsn)
        await migrate.migrate(conn)
        await ReferenceStore(conn).replace_units(*parse_units())
        assert await writer.replay() == 1
        assert await conn.fetchval("SELECT ticket_no FROM tickets") == "20261123-0001"
        await conn.close()
        await writer.close()
    finally:
        server.stop()
    assert outbox.pending() == [] and outbox.path.stat().st_size == 0


async def test_invalid_ticket_is_refused_not_queued(tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    writer = TicketWriter("postgresql://nobody@/none?host=/nonexistent", outbox, TicketRules.default())
    with pytest.raises(TicketValidationError):
        await writer.submit(draft(1, caller_number="12345"))
    assert outbox.pending() == []


def test_outbox_survives_a_torn_write_and_a_new_process(tmp_path):
    path = tmp_path / "outbox.jsonl"
    first = Outbox(path)
    a, b = draft(1), draft(2)
    first.put(a)
    first.put(b)
    first.mark_done(a.idempotency_key, "20261123-0001")
    with open(path, "a") as fh:  # a crash in the middle of a write
        fh.write(json.dumps({"ticket": {"idempotency_key": "x"}})[:20])
    pending = Outbox(path).pending()
    assert [p.idempotency_key for p in pending] == [b.idempotency_key]
    assert pending[0] == b


async def test_permanently_refused_ticket_is_parked_with_its_reason(own_server, tmp_path):
    _, dsn = own_server
    outbox = Outbox(tmp_path / "outbox.jsonl")
    bad = draft(1, category_code="999999")  # no such category: the database refuses it
    outbox.put(bad)
    outbox.put(draft(2))
    writer = TicketWriter(dsn, outbox, TicketRules.default())
    assert await writer.replay() == 1
    await writer.close()
    assert outbox.pending() == []
    parked = [decode_record(line) for line in outbox.rejected_path.read_bytes().splitlines(keepends=True)]
    assert parked[0]["ticket"]["idempotency_key"] == str(bad.idempotency_key)
    assert "foreign key" in parked[0]["error"]


def test_a_damaged_line_is_moved_aside_and_the_rest_replays(tmp_path):
    path = tmp_path / "outbox.jsonl"
    outbox = Outbox(path)
    a, b, c = draft(1), draft(2), draft(3)
    outbox.put(a)
    with open(path, "ab") as fh:
        fh.write(b"\x00\x00garbage from a bad sector\n")
        fh.write(b'{"ticket": {"idempotency_key": "not-a-ticket"}}\n')  # valid JSON, not a ticket
    outbox.put(b)
    lines = path.read_bytes().splitlines(keepends=True)
    altered = lines[-1].replace("第2号".encode(), "第9号".encode())  # a changed byte: checksum fails
    path.write_bytes(b"".join(lines[:-1]) + altered)
    outbox.put(c)
    assert [p.idempotency_key for p in outbox.pending()] == [a.idempotency_key, c.idempotency_key]
    aside = [json.loads(line.split(b" ", 1)[1]) for line in outbox.corrupt_path.read_bytes().splitlines()]
    assert [r["line"] for r in aside] == [2, 3, 4]
    outbox.pending()  # read again: nothing is set aside twice
    assert len(outbox.corrupt_path.read_bytes().splitlines()) == 3


def test_a_torn_line_does_not_swallow_the_next_record(tmp_path):
    path = tmp_path / "outbox.jsonl"
    outbox = Outbox(path)
    outbox.put(draft(1))
    with open(path, "ab") as fh:  # a crash in the middle of a write, then the console restarts
        fh.write(b"1234abcd {\"ticket\": {\"idempo")
    later = draft(2)
    Outbox(path).put(later)
    assert [p.idempotency_key for p in Outbox(path).pending()][-1] == later.idempotency_key


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: the outbox's disk fills up."""
    import os
    import shutil
    import subprocess
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


async def test_a_full_disk_refuses_loudly_and_keeps_what_was_queued(full_disk):
    outbox = Outbox(full_disk / "outbox.jsonl")
    writer = TicketWriter("postgresql://nobody@/none?host=/nonexistent", outbox, TicketRules.default())
    acknowledged = []
    with pytest.raises(OutboxError):
        for i in range(1000):
            result = await writer.submit(draft(i, content="很长的诉求内容" * 100))
            assert result.queued
            acknowledged.append(result.draft.idempotency_key)
    assert acknowledged, "some tickets fit before the disk was full"
    # every acknowledged ticket is there, whole; the refused one left nothing behind
    assert [p.idempotency_key for p in outbox.pending()] == acknowledged
    assert not outbox.corrupt_path.exists()


async def test_the_database_refusing_a_ticket_is_a_validation_error(own_server, tmp_path):
    _, dsn = own_server
    writer = TicketWriter(dsn, Outbox(tmp_path / "outbox.jsonl"), TicketRules.default())
    with pytest.raises(TicketValidationError) as refused:
        await writer.submit(draft(1, category_code="999999"))
    await writer.close()
    assert refused.value.errors == {"category_code": "未知分类"}
