"""Ticket lookup for everyone (F9 in every app, `hotline tickets --screen`): one search box read
word by word, counts that are right, a ticket's history with the caller's other tickets, numbers
masked for a supervisor, a unit kept to its own tickets."""

import datetime as dt

import asyncpg
import pytest

from console.lookup.app import LookupApp
from console.ticket_views.history import HistoryScreen
from console.ticket_views.query import QueryError, parse_query
from console.ticket_views.search import TicketSearchScreen
from console.unit.app import UnitApp
from db.lifecycle import LifecycleStore
from db.tickets import TicketStore
from domain.lifecycle import Request, Role, Step
from domain.tickets import TicketDraft, TicketRules
from domain.workdays import SHANGHAI
from conftest import wait_for

DAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


def test_the_search_box_reads_each_word_for_what_it_is():
    q = parse_query("13805331234 已派单 ZD 2026-11-30..2026-12-01 华光路 38号")
    assert (q.caller, q.status, q.unit, q.address) == ("13805331234", "已派单", "ZD", "华光路 38号")
    assert (q.start, q.end) == (DAY.replace(hour=0), DAY.replace(hour=0) + dt.timedelta(days=2))
    assert parse_query("20261130-0002").number == "20261130-0002"
    assert parse_query("20261130").number == "20261130"
    assert parse_query("0533-2181234").caller == "0533-2181234"
    assert parse_query("+86138-0533-1234").caller == "13805331234"  # as people write it
    assert parse_query("").describe() == "全部工单"
    assert parse_query("2026-12-01 已办结").describe() == "受理 2026-12-01；状态 已办结"
    with pytest.raises(QueryError, match="日期不对"):
        parse_query("2026-13-01")
    with pytest.raises(QueryError, match="日期范围倒了"):
        parse_query("2026-12-02..2026-12-01")


async def _tickets(dsn) -> list:
    conn = await asyncpg.connect(dsn)
    store = TicketStore(conn, TicketRules.default())
    made = []
    for i, (caller, unit, address) in enumerate([("13805331234", "ZD", "张店区华光路38号"),
                                                 ("13805331234", "CGJ", "张店区共青团路1号"),
                                                 ("13905339999", "ZD", "淄川区般阳路2号")]):
        made.append(await store.submit(TicketDraft(
            ticket_type="投诉", content=f"第{i + 1}件事，回电13805331234", caller_number=caller, unit_code=unit,
            address_text=address, accepted_at=DAY + dt.timedelta(hours=i))))
    await LifecycleStore(conn).apply(made[0].id, Request(Step.SIGN, Role.UNIT, "王五", "ZD"), DAY)
    await conn.close()
    return made


async def test_an_agent_looks_up_a_caller_and_reads_a_ticket(dsn, role_dsn):
    made = await _tickets(dsn)
    app = LookupApp(role_dsn("agent"), masked=False)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, TicketSearchScreen)
        for key in "13805331234":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(screen.tickets) == 2)
        assert "来电 13805331234：共 2 张" in str(app.query_one("#found").content)
        assert screen.tickets[0]["ticket_no"] == made[1].ticket_no  # newest first
        await pilot.press("down", "enter")  # the older one: signed by ZD
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        text = str(app.screen.query_one("Static").content)
        assert made[0].ticket_no in text and "签收" in text and "王五" in text
        assert "同一来电的其他工单（1）" in text and made[1].ticket_no in text
        await pilot.press("escape", "f9")
        box = app.screen.query_one("#query")
        box.value = "已签收"
        await pilot.press("enter")
        await wait_for(pilot, lambda: [t["ticket_no"] for t in screen.tickets] == [made[0].ticket_no])
        box.value = "2026-13-01"
        await pilot.press("f9", "enter")
        await wait_for(pilot, lambda: "日期不对" in str(app.query_one("#found").content))


async def test_a_supervisor_reads_masked_and_a_unit_only_its_own(dsn, role_dsn):
    made = await _tickets(dsn)
    app = LookupApp(role_dsn("supervisor"), masked=True, first_query="2026-11-30")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.tickets) == 3)
        assert all("*" in t["caller_number"] and "1380533" not in t["content"] for t in screen.tickets)
        screen.query_one("#query").value = "13805331234"
        await pilot.press("f9", "enter")
        await wait_for(pilot, lambda: "须话务员权限" in str(app.query_one("#found").content))
    unit = UnitApp(role_dsn("unit"), "ZD", "张店区人民政府", "王五")
    async with unit.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(unit.screen, TicketSearchScreen))
        await pilot.press("enter")  # everything — of ZD's
        await wait_for(pilot, lambda: len(unit.screen.tickets) == 2)
        assert {t["ticket_no"] for t in unit.screen.tickets} == {made[0].ticket_no, made[2].ticket_no}
