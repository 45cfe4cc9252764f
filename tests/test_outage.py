"""A seat survives its database: PostgreSQL is stopped under a running console — idle, in a
call, in 话后整理 — and every seat event, call and ticket is stored once when it is back."""

import asyncio

import asyncpg
import pytest

from console.agent.app import AgentConsole
from db import migrate
from db.embedded import EmbeddedPostgres
from db.roles import ensure_roles
from domain.settings import parse_settings
from floor.context import SeatContext
from floor.lines import CallSimulator
from floor.reference import load_reference
from conftest import REPO, silent_call, wait_for


@pytest.fixture
async def own_server(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    server = EmbeddedPostgres(tmp_path / "pg")
    dsn = server.start()
    conn = await asyncpg.connect(dsn)
    await migrate.migrate(conn)
    await load_reference(conn, REPO / "seats.toml")
    await ensure_roles(conn, server.passwords())
    await conn.close()
    yield server, dsn
    server.stop("immediate")


@pytest.fixture
def long_call(tmp_path):
    return silent_call(tmp_path / "call.wav", 60)


async def stop(server) -> None:
    await asyncio.to_thread(server.stop, "immediate")


async def start(server) -> None:
    await asyncio.to_thread(server.start)


async def fill_ticket(app, pilot, content: str) -> None:
    app.query_one("#content").text = content
    app.query_one("#caller-number").value = "13805331234"
    await pilot.press("ctrl+s")


async def test_a_console_works_through_database_outages(own_server, long_call):
    server, dsn = own_server
    settings = parse_settings("[console]\nheartbeat_seconds = 0.3\n")
    ctx = await SeatContext.load(server.role_dsn("agent"), 3, "A003", want_model=False, settings=settings)
    app = AgentConsole(ctx, CallSimulator(long_call, "0533-2181234", realtime=True))
    session = app.session
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: session.online and session.state == "就绪")

        # 1. idle: the heartbeat notices, the bar says so, the agent takes a break and comes back
        await stop(server)
        await wait_for(pilot, lambda: not session.online)
        assert "数据库连接中断" in str(app.query_one("#seat-bar").content)
        await pilot.press("f2")
        await pilot.pause(0.2)
        await pilot.press("down", "enter")  # 休息
        await wait_for(pilot, lambda: session.state == "小休")
        await pilot.press("f2")
        await wait_for(pilot, lambda: session.state == "就绪")
        await start(server)
        await wait_for(pilot, lambda: session.online)
        assert "数据库连接中断" not in str(app.query_one("#seat-bar").content)

        # 2. in a call: the database goes away after the answer, the agent hangs up and saves
        await app.ring()
        await pilot.press("f3")
        await wait_for(pilot, lambda: session.phase == "talking")
        await stop(server)
        await pilot.pause(0.5)
        await pilot.press("f4")
        await wait_for(pilot, lambda: session.phase == "wrapup")
        await fill_ticket(app, pilot, "通话中断库：楼道灯坏了。")
        await wait_for(pilot, lambda: session.phase == "idle")
        assert session.saved[-1].startswith("（已暂存本地")
        await start(server)
        await wait_for(pilot, lambda: session.online)

        # 3. in 话后整理: the call ended normally, the database goes away before Ctrl+S
        await app.ring()
        await pilot.press("f3")
        await wait_for(pilot, lambda: session.phase == "talking")
        await pilot.press("f4")
        await wait_for(pilot, lambda: session.phase == "wrapup")
        await stop(server)
        await fill_ticket(app, pilot, "整理时断库：路灯不亮。")
        await wait_for(pilot, lambda: session.phase == "idle")

        # 4. a call that rings while the database is away is stored whole afterwards
        await app.ring()
        await pilot.press("f3")
        await wait_for(pilot, lambda: session.phase == "talking")
        await pilot.press("f4")
        await wait_for(pilot, lambda: session.phase == "wrapup")
        await fill_ticket(app, pilot, "断库时来电：噪音扰民。")
        await wait_for(pilot, lambda: session.phase == "idle")
        await start(server)
        await wait_for(pilot, lambda: session.online)
        await wait_for(pilot, lambda: not ctx.writer.outbox.pending(), seconds=30)  # the replayer ran
        await pilot.press("f10")

    conn = await asyncpg.connect(dsn)
    try:
        tickets = await conn.fetch("SELECT content, call_id FROM tickets ORDER BY id")
        assert sorted(t["content"] for t in tickets) == sorted(
            ["通话中断库：楼道灯坏了。", "整理时断库：路灯不亮。", "断库时来电：噪音扰民。"])  # each once
        calls = await conn.fetch("SELECT id, answer_at, end_at, recording_path FROM calls ORDER BY ring_at")
        assert len(calls) == 3 and all(c["answer_at"] and c["end_at"] and c["recording_path"] for c in calls)
        linked = {t["content"]: t["call_id"] for t in tickets}
        assert linked["通话中断库：楼道灯坏了。"] == calls[0]["id"]  # the call row existed before the outage
        states = [(r["state"], r["reason"]) for r in await conn.fetch(
            "SELECT state, reason FROM seat_events WHERE seat_id = 3 ORDER BY at, id")]
        assert states == [("就绪", None), ("小休", "休息"), ("就绪", None),
                          ("通话中", None), ("话后整理", None), ("就绪", None),
                          ("通话中", None), ("话后整理", None), ("就绪", None),
                          ("通话中", None), ("话后整理", None), ("就绪", None), ("离线", None)]
    finally:
        await conn.close()


async def test_the_wallboard_reconnects_and_catches_up(own_server):
    from console.wallboard.app import Wallboard
    from console.wallboard.seat_tile import SeatTile
    from db.seats import SeatStore
    from domain.seats import load_seats
    from domain.settings import AlertLimits

    server, dsn = own_server
    app = Wallboard(server.role_dsn("supervisor"), load_seats(REPO / "seats.toml"), AlertLimits())
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.online)
        await stop(server)
        await wait_for(pilot, lambda: not app.online)
        await wait_for(pilot, lambda: "数据库连接中断" in str(app.query_one("#connection").content))
        await start(server)
        conn = await asyncpg.connect(dsn)
        seats = SeatStore(conn)
        await seats.ensure_agent(7, "W007")  # signed in while the board was away
        await seats.record_state(7, "W007", "就绪")
        await wait_for(pilot, lambda: app.online, seconds=30)
        await wait_for(pilot, lambda: app.query_one("#seat-7", SeatTile).view.state == "就绪")
        assert str(app.query_one("#connection").content) == ""
        await seats.record_state(7, "W007", "小休", "用餐")  # and it listens again
        await wait_for(pilot, lambda: app.query_one("#seat-7", SeatTile).view.state == "小休")
        await conn.close()
