"""The agent's 回访 list under Pilot, as the agent role: replied tickets oldest first, the
unit's reply shown, satisfaction in one key; 不满意 reopens the ticket to the same unit."""

import datetime as dt

import asyncpg

from console.callbacks.app import CallbackApp
from db.lifecycle import LifecycleStore
from db.tickets import TicketStore
from domain.lifecycle import Request, Role, Step
from domain.tickets import TicketDraft, TicketRules
from domain.workdays import SHANGHAI
from conftest import wait_for


async def _replied(conn, content: str, hours_ago: float) -> int:
    at = dt.datetime.now(SHANGHAI) - dt.timedelta(hours=hours_ago)
    t = await TicketStore(conn, TicketRules.default()).submit(TicketDraft(
        ticket_type="投诉", content=content, caller_number="13805331234", unit_code="ZD", accepted_at=at))
    store = LifecycleStore(conn)
    for step, text in ((Step.SIGN, ""), (Step.CONTACT, "已联系"), (Step.REPLY, f"{content}：已处理")):
        await store.apply(t.id, Request(step, Role.UNIT, "ZD", "ZD", text), at=at + dt.timedelta(minutes=10))
    return t.id


async def test_the_agent_calls_citizens_back(dsn, role_dsn):
    conn = await asyncpg.connect(dsn)
    older = await _replied(conn, "路灯不亮", 30)
    newer = await _replied(conn, "噪音扰民", 26)
    await _replied(conn, "今天刚办结", 0.5)  # replied today: tomorrow's list
    today = dt.datetime.now(SHANGHAI).date()  # the hotline's day, not the machine's (UTC)
    app = CallbackApp(role_dsn("agent"), "A012", dt.datetime.combine(today, dt.time(0), SHANGHAI))
    async with app.run_test(size=(110, 24)) as pilot:
        screen = app.callbacks
        await wait_for(pilot, lambda: len(screen.tickets) == 2)
        assert [t["id"] for t in screen.tickets] == [older, newer]  # oldest reply first
        assert "路灯不亮：已处理" in str(app.query_one("#reply").content)
        await pilot.press("1")  # 满意
        await wait_for(pilot, lambda: len(screen.tickets) == 1)
        await pilot.press("3")  # 不满意: 重办 to ZD
        await wait_for(pilot, lambda: not screen.tickets)
    store = LifecycleStore(conn)
    assert (await store.state(older)).status == "已回访"
    state = await store.state(newer)
    assert (state.status, state.unit_code) == ("重办", "ZD")
    visits = await conn.fetch("SELECT actor, payload->>'outcome' AS outcome FROM ticket_events "
                              "WHERE kind = 'visit' ORDER BY id")
    assert [(v["actor"], v["outcome"]) for v in visits] == [("A012", "满意"), ("A012", "不满意")]
    await conn.close()
