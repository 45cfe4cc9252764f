"""Least privilege: each application role can do its work and is refused the rest; none can
disable a trigger, truncate, replace a function or run a program on the server."""

import datetime as dt

import asyncpg
import pytest

from db.calls import CallStore
from db.outbox import Outbox, TicketWriter
from db.qa import QaStore
from db.seats import SeatStore
from db.tickets import TicketStore
from domain.tickets import TicketDraft, TicketRules
from domain.workdays import SHANGHAI, now

ROLES = ("agent", "supervisor", "inspector", "unit", "worker", "pbx")
FORBIDDEN_TO_ALL = [
    "TRUNCATE tickets",
    "TRUNCATE seat_events",
    "ALTER TABLE tickets DISABLE TRIGGER tickets_append_only",
    "SET session_replication_role = replica",
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TABLE x (a int)",
    "UPDATE tickets SET content = 'x'",
    "DELETE FROM seat_events",
    "DROP TABLE qa_scores",
    "CREATE ROLE intruder SUPERUSER",
]


async def _filed_call(dsn) -> tuple[int, int]:
    """A call with a ticket, filed by the admin connection: (call id, ticket id)."""
    conn = await asyncpg.connect(dsn)
    call_id = await CallStore(conn).ring(1, "13805331234", now(), None)
    await CallStore(conn).add_utterance(call_id, "我的电话幺三八零五三三幺二三四", 0.0, 2.0)
    ticket = await TicketStore(conn, TicketRules.default()).submit(TicketDraft(
        ticket_type="投诉", content="噪音扰民，回电13805331234", caller_number="13805331234",
        unit_code="ZD", call_id=call_id, seat_id=1))
    await conn.close()
    return call_id, ticket.id


@pytest.mark.parametrize("role", ROLES)
async def test_no_application_role_can_change_the_rules(role_dsn, role):
    conn = await asyncpg.connect(role_dsn(role))
    try:
        assert not await conn.fetchval("SELECT rolsuper OR rolcreaterole OR rolbypassrls FROM pg_roles "
                                       "WHERE rolname = current_user")
        for statement in FORBIDDEN_TO_ALL:
            with pytest.raises(asyncpg.PostgresError) as refused:
                await conn.execute(statement)
            invisible = ("42P01", "3F000") if role == "pbx" else ()  # the PBX does not even see public
            assert refused.value.sqlstate in ("42501", "55000", *invisible), (statement, refused.value)
    finally:
        await conn.close()


async def test_the_agent_files_tickets_and_reads_what_a_seat_needs(role_dsn, tmp_path):
    conn = await asyncpg.connect(role_dsn("agent"))
    try:
        seats = SeatStore(conn)
        await seats.ensure_agent(3, "R003")
        await seats.claim(3, "R003", 30)
        await seats.record_state(3, "R003", "就绪")
        call_id = await CallStore(conn).ring(3, "13805331234", now(), "R003")
        await CallStore(conn).answer(call_id, now(), "/r/x.wav")
        await CallStore(conn).add_utterance(call_id, "喂", 0.0, 1.0)
        await CallStore(conn).hang_up(call_id, now(), "/r/x.wav", 1.0)
        assert await seats.close_silent(30) == 0
        history = await TicketStore(conn).by_caller("13805331234")
        assert history == []
        for statement in ("SELECT * FROM qa_scores", "SELECT * FROM inspection_calls",
                          "INSERT INTO units (code, name) VALUES ('X', 'x')"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
    writer = TicketWriter(role_dsn("agent"), Outbox(tmp_path / "outbox.jsonl"), TicketRules.default())
    submitted = await writer.submit(TicketDraft(ticket_type="投诉", content="路灯不亮", caller_number="13805331234",
                                                unit_code="ZD", call_id=call_id, seat_id=3, agent_id="R003",
                                                accepted_at=dt.datetime.now(SHANGHAI)))
    await writer.close()
    assert submitted.stored is not None and submitted.stored.ticket_no


async def test_the_inspector_reads_only_masked_calls(role_dsn, dsn):
    call_id, _ = await _filed_call(dsn)
    conn = await asyncpg.connect(role_dsn("inspector"))
    try:
        for statement in ("SELECT caller_number FROM calls", "SELECT content FROM tickets",
                          "SELECT * FROM seat_heartbeats"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        call = await QaStore(conn).call(call_id)
        ticket = await QaStore(conn).ticket_for_call(call_id)
        assert call["caller_number"] == "138****1234"
        assert "幺三八****幺二三四" in call["transcript"]
        assert ticket["caller_number"] == "138****1234" and "138****1234" in ticket["content"]
    finally:
        await conn.close()


async def test_the_supervisor_counts_calls_but_reads_them_masked(role_dsn, dsn):
    from db.wallboard import WallboardStore
    call_id, _ = await _filed_call(dsn)
    conn = await asyncpg.connect(role_dsn("supervisor"))
    try:
        figures = await WallboardStore(conn).today(now())
        assert figures["offered"] >= 1 and figures["tickets"] >= 1
        detail = await WallboardStore(conn).seat_detail(1, now())
        assert detail["call"]["caller_number"] == "138****1234"
        assert "138****1234" in detail["tickets"][0]["content"]
        for statement in ("SELECT caller_number FROM calls", "SELECT transcript FROM calls",
                          "SELECT content FROM tickets", "INSERT INTO tickets DEFAULT VALUES"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_the_socket_and_the_passwords(app_roles):
    import stat
    socket_path = app_roles.socket_dir / ".s.PGSQL.5432"
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o770  # the server's group only
    assert stat.S_IMODE(app_roles.credentials_file.stat().st_mode) == 0o600
    bad = app_roles.role_dsn("agent").replace(app_roles.passwords()["agent"][:8], "wrong123")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(bad)


def test_db_roles_prints_the_sql_for_an_external_server():
    import os
    import subprocess
    import sys
    from conftest import REPO
    env = {**os.environ, "HOTLINE_DSN": "postgresql://owner@db.example/hotline"}
    printed = subprocess.run([sys.executable, "-m", "console.cli", "db", "roles"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    for role in ("hotline_agent", "hotline_supervisor", "hotline_inspector", "hotline_unit"):
        assert f"CREATE ROLE {role} LOGIN NOSUPERUSER" in printed
    assert "GRANT SELECT ON inspection_calls" in printed and "HOTLINE_DSN_AGENT" in printed


async def test_db_roles_creates_them_on_an_external_server(tmp_path):
    import os
    import subprocess
    import sys
    from conftest import REPO
    from db.embedded import EmbeddedPostgres
    from db import migrate

    server = EmbeddedPostgres(tmp_path / "external")  # stands for a centre's own server
    admin_dsn = server.start()
    try:
        conn = await asyncpg.connect(admin_dsn)
        await migrate.migrate(conn)
        await conn.close()
        env = {**os.environ, "HOTLINE_DSN": admin_dsn}
        printed = subprocess.run([sys.executable, "-m", "console.cli", "db", "roles", "--create"], cwd=REPO,
                                 env=env, capture_output=True, text=True, timeout=60, check=True).stdout
        dsns = dict(line.split("=", 1) for line in printed.splitlines() if line.startswith("HOTLINE_DSN_"))
        assert set(dsns) == {"HOTLINE_DSN_AGENT", "HOTLINE_DSN_SUPERVISOR", "HOTLINE_DSN_INSPECTOR",
                             "HOTLINE_DSN_UNIT", "HOTLINE_DSN_WORKER", "HOTLINE_DSN_PBX"}
        agent = await asyncpg.connect(dsns["HOTLINE_DSN_AGENT"])
        assert await agent.fetchval("SELECT current_user") == "hotline_agent"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await agent.execute("TRUNCATE calls")
        await agent.close()
    finally:
        server.stop()


def test_the_schema_is_owned_and_migrated_by_a_non_superuser(tmp_path):
    """`hotline db init` on the embedded server: hotline_owner (no superuser) owns the database
    and every table, view and function of it, and applied the migrations."""
    import os
    import subprocess
    import sys
    from conftest import REPO
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path)}
    try:
        subprocess.run([sys.executable, "-m", "console.cli", "db", "init"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300, check=True)
        probe = subprocess.run(
            [sys.executable, "-c",
             "import asyncio, asyncpg\nfrom db import config\n"
             "async def main():\n"
             "    c = await asyncpg.connect(config.resolve_dsn())\n"
             "    print(await c.fetchval(\"SELECT rolsuper::text || ' ' || rolcreaterole::text FROM pg_roles WHERE rolname = 'hotline_owner'\"))\n"
             "    print(await c.fetchval(\"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()\"))\n"
             "    print(await c.fetchval(\"SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')\"))\n"
             "    print(await c.fetchval(\"SELECT string_agg(DISTINCT pg_get_userbyid(p.proowner), ',') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname IN ('next_ticket_no', 'close_silent_seats', 'mask_text')\"))\n"
             "asyncio.run(main())"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True).stdout.split()
        assert probe == ["false", "false", "hotline_owner", "hotline_owner", "hotline_owner"], probe
    finally:
        subprocess.run([sys.executable, "-m", "console.cli", "db", "stop"], cwd=REPO, env=env, capture_output=True)


async def test_the_pbx_reads_credentials_and_runs_the_queue_and_nothing_else(dsn, role_dsn):
    from db.pbx import PbxStore

    admin = await asyncpg.connect(dsn)
    await PbxStore(admin).set_subscribers("hotline.test", {"8001": "secret"})
    await _filed_call(dsn)
    await admin.close()
    conn = await asyncpg.connect(role_dsn("pbx"))
    try:
        assert await conn.fetchval("SELECT ha1 FROM pbx.subscriber WHERE username = '8001'") == \
            __import__("hashlib").md5(b"8001:hotline.test:secret").hexdigest()
        assert await conn.fetchval("SELECT pbx.acd_join('call-1', '13805331234', 5, 300)") == 1
        assert await conn.fetchval("SELECT pbx.acd_ring_now('call-1', 15, 30)") == ""  # no seat is ready
        assert await conn.fetchval("SELECT pbx.acd_leave('call-1')") >= 0
        for statement in ("SELECT * FROM public.calls", "SELECT * FROM public.tickets", "SELECT * FROM pbx.waiting",
                          "SELECT pbx.acd_free_seat(',', 30)", "DELETE FROM pbx.subscriber"):
            with pytest.raises(asyncpg.PostgresError) as refused:
                await conn.execute(statement)
            assert refused.value.sqlstate == "42501", statement
    finally:
        await conn.close()
