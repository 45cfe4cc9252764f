"""The unit's work queue under Pilot, connected as the unit role: its tickets soonest first
with their warnings, steps from the keyboard, refusals shown, the history."""

import datetime as dt

import asyncpg

from console.unit.app import UnitApp
from console.ticket_views.history import HistoryScreen
from db.lifecycle import LifecycleStore
from db.tickets import TicketStore
from domain.settings import LifecycleSettings
from domain.tickets import TicketDraft, TicketRules
from domain.workdays import SHANGHAI
from conftest import wait_for


async def test_a_unit_works_its_queue(dsn, role_dsn):
    conn = await asyncpg.connect(dsn)
    now = dt.datetime.now(SHANGHAI)
    store = TicketStore(conn, TicketRules.default())
    late = await store.submit(TicketDraft(ticket_type="求助", content="家里停水了", caller_number="13805331234",
                                          unit_code="ZD", accepted_at=now - dt.timedelta(minutes=20)))
    fresh = await store.submit(TicketDraft(ticket_type="投诉", content="路灯不亮", caller_number="13905331234",
                                           unit_code="ZD", accepted_at=now))
    await store.submit(TicketDraft(ticket_type="投诉", content="别家的", caller_number="13905331234",
                                   unit_code="CGJ", accepted_at=now))
    await LifecycleStore(conn).fire_warnings(now, LifecycleSettings())  # the late one is red (sign)
    app = UnitApp(role_dsn("unit"), "ZD", "张店区人民政府", "王五")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.queue.tickets) == 2)
        queue = app.queue

        def on(number: str) -> None:
            """Put the cursor on a ticket (the queue re-sorts as statuses change)."""
            app.query_one("#queue").move_cursor(row=[t["ticket_no"] for t in queue.tickets].index(number))
        by_no = {t["ticket_no"]: t for t in queue.tickets}
        assert set(by_no) == {late.ticket_no, fresh.ticket_no}  # not CGJ's
        assert by_no[late.ticket_no]["warning"] == "red" and by_no[fresh.ticket_no]["warning"] is None
        assert "超时 1" in str(app.query_one("#heading").content)
        on(fresh.ticket_no)
        await pilot.press("r")  # 办结 before signing: refused at once, with what is allowed
        await pilot.pause(0.3)
        assert app.screen is app.queue  # no prompt was opened
        assert any("不能办结（承办单位现在可以：签收、退单" in n.message for n in app._notifications)
        assert (await LifecycleStore(conn).state(fresh.id)).status == "已派单"
        await pilot.press("s")
        await wait_for(pilot, lambda: any(t["status"] == "已签收" for t in queue.tickets))
        on(fresh.ticket_no)
        await pilot.press("c")
        await pilot.pause(0.2)
        for key in "已电话联系":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(t["status"] == "办理中" for t in queue.tickets))
        on(fresh.ticket_no)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape")
    events = await LifecycleStore(conn).history(fresh.id)
    assert [(e["kind"], e["status"], e["actor"]) for e in events[2:]] == [
        ("status", "已签收", "王五"), ("contact", None, "王五"), ("status", "办理中", "王五")]
    assert events[3]["note"] == "已电话联系"
    await conn.close()
