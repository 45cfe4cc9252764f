"""The supervisor's 督办 view under Pilot, as the supervisor role: returns reviewed,
extensions decided, overdue tickets chased — each an event; numbers masked."""

import datetime as dt

import asyncpg

from console.supervision.app import SupervisionApp
from console.ticket_views.prompt import StepPrompt
from db.lifecycle import LifecycleStore
from db.tickets import TicketStore
from domain.lifecycle import Request, Role, Step
from domain.tickets import TicketDraft, TicketRules
from domain.workdays import SHANGHAI
from conftest import wait_for


async def test_the_supervisor_acts_on_what_needs_it(dsn, role_dsn):
    conn = await asyncpg.connect(dsn)
    now = dt.datetime.now(SHANGHAI)
    tickets, store = TicketStore(conn, TicketRules.default()), LifecycleStore(conn)

    async def new(content: str, days_ago: float = 0) -> int:
        return (await tickets.submit(TicketDraft(
            ticket_type="咨询", content=content, caller_number="13805331234", unit_code="ZD",
            accepted_at=now - dt.timedelta(days=days_ago)))).id

    returned = await new("不归我管，电话13805331234")
    await store.apply(returned, Request(Step.RETURN, Role.UNIT, "ZD", "ZD", "非本单位职责"))
    extending = await new("需要时间")
    for step, text in ((Step.SIGN, ""), (Step.CONTACT, "已联系")):
        await store.apply(extending, Request(step, Role.UNIT, "ZD", "ZD", text))
    await store.apply(extending, Request(Step.REQUEST_EXTENSION, Role.UNIT, "ZD", "ZD", "需协调",
                                         due_at=now + dt.timedelta(days=5)))
    overdue = await new("拖了很久", days_ago=10)
    await new("刚派的")  # nothing to do yet: not on the board
    app = SupervisionApp(role_dsn("supervisor"), "B01")
    async with app.run_test(size=(120, 30)) as pilot:
        board = app.board
        await wait_for(pilot, lambda: len(board.tickets) == 3)
        order = [t["ticket_id"] for t in board.tickets]
        assert order == [returned, extending, overdue]  # returns, then extensions, then overdue
        assert "138****1234" in board.tickets[0]["content"]  # masked for the supervisor
        await pilot.press("y")  # 批准延期 on the return: refused at once
        await pilot.pause(0.3)
        assert app.screen is board
        await pilot.press("g")  # 改派 the return to CGJ
        await pilot.pause(0.2)
        assert isinstance(app.screen, StepPrompt)
        for key in "cgj":
            await pilot.press(key)
        await pilot.press("enter")
        for key in "城管职责":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: returned not in [t["ticket_id"] for t in board.tickets])
        app.query_one("#board").move_cursor(row=[t["ticket_id"] for t in board.tickets].index(extending))
        await pilot.press("y")  # approve the extension
        await wait_for(pilot, lambda: extending not in [t["ticket_id"] for t in board.tickets])
        app.query_one("#board").move_cursor(row=[t["ticket_id"] for t in board.tickets].index(overdue))
        await pilot.press("d")  # 督办 the overdue one
        await pilot.pause(0.2)
        for key in "今天办结":
            await pilot.press(key)
        await pilot.press("enter")
        for key in "2030-01-01 12:00":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(t["supervision_by"] for t in board.tickets))
    redispatched = await store.state(returned)
    assert (redispatched.status, redispatched.unit_code) == ("已派单", "CGJ")
    assert (await store.state(extending)).deadline == now + dt.timedelta(days=5)  # the approved one
    assert (await store.state(overdue)).open_supervision
    steps = [r["kind"] for r in await conn.fetch("SELECT kind FROM ticket_events WHERE actor = 'B01' ORDER BY id")]
    assert steps == ["status", "extension_decision", "deadline", "supervision"]  # each step recorded as B01
    await conn.close()
