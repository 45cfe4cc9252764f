"""A ticket's life after the call: every step and every refusal, timers and their warnings at
the right minute (injected clock), two workers at once, a worker killed and restarted."""

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import asyncpg
import pytest

from db.lifecycle import LifecycleStore
from db.tickets import TicketStore
from domain.lifecycle import RULES, LifecycleError, Request, Role, Step, TicketState
from domain.settings import LifecycleSettings
from domain.tickets import TRANSITIONS, TicketDraft, TicketRules
from domain.vocabulary import TicketStatus
from domain.workdays import SHANGHAI
from conftest import REPO, wait_for

H, U, SUP = Role.HOTLINE, Role.UNIT, Role.SUPERVISOR
FRIDAY = dt.datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)  # a complaint's 3 working days span a weekend


async def ticket(conn, accepted_at=FRIDAY, unit="ZD", kind="投诉") -> int:
    stored = await TicketStore(conn, TicketRules.default()).submit(TicketDraft(
        ticket_type=kind, content="楼道灯坏了", caller_number="13805331234", unit_code=unit,
        accepted_at=accepted_at))
    return stored.id


async def step(store, ticket_id, step, role, actor="x", at=None, **fields) -> TicketState:
    await store.apply(ticket_id, Request(step, role, actor, **fields), at=at)
    return await store.state(ticket_id)


async def test_every_step_by_the_role_that_takes_it(conn):
    store = LifecycleStore(conn)
    t = await ticket(conn)
    assert (await store.state(t)).status == "已派单"
    with pytest.raises(LifecycleError, match="工单由ZD承办，CGJ不能签收"):
        await step(store, t, Step.SIGN, U, unit_code="CGJ")
    with pytest.raises(LifecycleError, match="“签收”须由承办单位办理，不能由热线办理"):
        await step(store, t, Step.SIGN, H)
    with pytest.raises(LifecycleError, match="工单处于“已派单”，不能办结（承办单位现在可以：签收、退单、督办回复）"):
        await step(store, t, Step.REPLY, U, unit_code="ZD", text="已修好")
    assert (await step(store, t, Step.SIGN, U, "王五", unit_code="ZD")).status == "已签收"
    assert (await step(store, t, Step.CONTACT, U, unit_code="ZD", text="电话联系市民")).status == "办理中"
    await step(store, t, Step.NOTE, U, unit_code="ZD", text="已派电工")
    with pytest.raises(LifecycleError, match="延期申请须填写：期限"):
        await step(store, t, Step.REQUEST_EXTENSION, U, unit_code="ZD", text="需采购灯具")
    new_due = dt.datetime(2026, 12, 11, 18, 0, tzinfo=SHANGHAI)
    await step(store, t, Step.REQUEST_EXTENSION, U, unit_code="ZD", text="需采购灯具", due_at=new_due)
    assert (await step(store, t, Step.APPROVE_EXTENSION, H, "A012")).deadline == new_due  # the deadline moves
    with pytest.raises(LifecycleError, match="没有待审批的延期申请"):
        await step(store, t, Step.REFUSE_EXTENSION, H, text="不同意")
    with pytest.raises(LifecycleError, match="办结须填写：说明"):
        await step(store, t, Step.REPLY, U, unit_code="ZD")
    assert (await step(store, t, Step.REPLY, U, unit_code="ZD", text="灯已更换")).status == "已办结"
    with pytest.raises(LifecycleError, match="满意度须为满意/基本满意/不满意"):
        await step(store, t, Step.VISIT, H, outcome="还行")
    state = await step(store, t, Step.VISIT, H, "A012", outcome="不满意", text="灯还是不亮")
    assert (state.status, state.unit_code) == ("重办", "ZD")  # the same unit again
    await step(store, t, Step.SIGN, U, unit_code="ZD")
    await step(store, t, Step.CONTACT, U, unit_code="ZD", text="上门查看")
    await step(store, t, Step.REPLY, U, unit_code="ZD", text="线路已修复")
    assert (await step(store, t, Step.VISIT, H, outcome="满意")).status == "已回访"
    assert (await step(store, t, Step.ARCHIVE, H)).status == "已归档"
    with pytest.raises(LifecycleError, match="热线现在可以：无"):
        await step(store, t, Step.DISPATCH, H, unit_code="ZD")
    kinds = [(e["kind"], e["status"]) for e in await store.history(t)]
    assert kinds[:3] == [("status", "受理"), ("status", "已派单"), ("status", "已签收")]
    assert ("extension_request", None) in kinds and ("deadline", None) in kinds and ("visit", None) in kinds
    actors = {e["actor"] for e in await store.history(t)}
    assert {"王五", "A012"} <= actors


async def test_returns_are_reviewed_and_supervision_is_answered(conn):
    store = LifecycleStore(conn)
    t = await ticket(conn)
    with pytest.raises(LifecycleError, match="退单须填写：说明"):
        await step(store, t, Step.RETURN, U, unit_code="ZD")
    assert (await step(store, t, Step.RETURN, U, unit_code="ZD", text="不属于本单位")).status == "退单"
    state = await step(store, t, Step.REFUSE_RETURN, H, text="属于街道职责，请办理")
    assert (state.status, state.unit_code) == ("已签收", "ZD")  # refused back to the unit
    await step(store, t, Step.RETURN, U, unit_code="ZD", text="确非本单位")
    state = await step(store, t, Step.REDISPATCH, H, unit_code="CGJ", text="改派城管")
    assert (state.status, state.unit_code) == ("已派单", "CGJ")
    with pytest.raises(LifecycleError, match="没有待回复的督办"):
        await step(store, t, Step.ANSWER_SUPERVISION, U, unit_code="CGJ", text="在办")
    with pytest.raises(LifecycleError, match="须由班长办理"):
        await step(store, t, Step.SUPERVISE, H, text="尽快", due_at=FRIDAY)
    await step(store, t, Step.SUPERVISE, SUP, "B01", text="市民多次来电", due_at=FRIDAY + dt.timedelta(hours=4))
    assert (await store.state(t)).open_supervision
    with pytest.raises(LifecycleError, match="已有待回复的督办"):  # one at a time
        await step(store, t, Step.SUPERVISE, SUP, "B02", text="再次督办", due_at=FRIDAY + dt.timedelta(hours=2))
    await step(store, t, Step.ANSWER_SUPERVISION, U, unit_code="CGJ", text="今日处理")
    assert not (await store.state(t)).open_supervision
    await step(store, t, Step.SUPERVISE, SUP, "B02", text="仍未办结", due_at=FRIDAY + dt.timedelta(days=1))


def test_the_status_changes_of_every_step_are_allowed_transitions():
    for step_, rule in RULES.items():
        for source in rule.from_statuses:
            if rule.to_status is not None:
                assert rule.to_status in TRANSITIONS[source], (step_, source)
    assert {TicketStatus.VISITED, TicketStatus.REOPENED} <= set(TRANSITIONS[TicketStatus.REPLIED])  # 回访


def _levels(fired) -> list[tuple[str, str]]:
    return sorted((json.loads(r["payload"])["timer"], json.loads(r["payload"])["level"]) for r in fired)


async def test_warnings_fire_at_the_right_minute_once(conn):
    store, settings = LifecycleStore(conn), LifecycleSettings()
    t = await ticket(conn)  # dispatched at FRIDAY 10:00 (with its acceptance)
    minute = dt.timedelta(minutes=1)
    assert await store.fire_warnings(FRIDAY + 7 * minute, settings) == []
    assert _levels(await store.fire_warnings(FRIDAY + 7.5 * minute, settings)) == [("sign", "yellow")]
    assert await store.fire_warnings(FRIDAY + 7.5 * minute, settings) == []  # once
    assert _levels(await store.fire_warnings(FRIDAY + 12 * minute, settings)) == [("sign", "orange")]
    assert _levels(await store.fire_warnings(FRIDAY + 15 * minute, settings)) == [("contact", "yellow"), ("sign", "red")]
    await step(store, t, Step.SIGN, U, unit_code="ZD", at=FRIDAY + 16 * minute)
    assert _levels(await store.fire_warnings(FRIDAY + 24 * minute, settings)) == [("contact", "orange")]
    await step(store, t, Step.CONTACT, U, unit_code="ZD", text="已联系", at=FRIDAY + 25 * minute)
    assert await store.fire_warnings(FRIDAY + 31 * minute, settings) == []  # contacted in time
    # handling: 3 working days after Friday = Wednesday 23:59:59 (the weekend does not count)
    due = dt.datetime(2026, 12, 9, 23, 59, 59, tzinfo=SHANGHAI)
    half = FRIDAY + (due - FRIDAY) / 2
    assert await store.fire_warnings(half - dt.timedelta(seconds=1), settings) == []
    assert _levels(await store.fire_warnings(half, settings)) == [("handle", "yellow")]
    assert _levels(await store.fire_warnings(due - dt.timedelta(seconds=1), settings)) == [("handle", "orange")]
    assert _levels(await store.fire_warnings(due, settings)) == [("handle", "red")]
    # an approved extension is a new deadline: its warnings start over
    later = due + dt.timedelta(days=2)
    await step(store, t, Step.REQUEST_EXTENSION, U, unit_code="ZD", text="需协调", due_at=later, at=due)
    await step(store, t, Step.APPROVE_EXTENSION, H, at=due)
    assert _levels(await store.fire_warnings(later, settings)) == [("handle", "orange"), ("handle", "red"),
                                                                   ("handle", "yellow")]


@pytest.mark.parametrize("accepted, kind, due", [
    # National Day: 10-01..07 off, Saturday 10-10 a make-up working day (调休) — the third day
    (dt.datetime(2026, 9, 30, 10, 0), "投诉", dt.datetime(2026, 10, 10, 23, 59, 59)),
    # Spring Festival eve: Saturday 02-14 is a make-up working day, the one day of a 咨询
    (dt.datetime(2026, 2, 13, 16, 0), "咨询", dt.datetime(2026, 2, 14, 23, 59, 59)),
    # a public holiday on a Monday-to-Wednesday (清明 04-04..06): the days after it count
    (dt.datetime(2026, 4, 3, 9, 0), "求助", dt.datetime(2026, 4, 8, 23, 59, 59)),
])
async def test_handling_warnings_across_holidays_and_make_up_days(conn, accepted, kind, due):
    store, settings = LifecycleStore(conn), LifecycleSettings()
    accepted, due = accepted.replace(tzinfo=SHANGHAI), due.replace(tzinfo=SHANGHAI)
    t = await ticket(conn, accepted_at=accepted, kind=kind)
    await step(store, t, Step.SIGN, U, unit_code="ZD", at=accepted + dt.timedelta(minutes=5))
    await step(store, t, Step.CONTACT, U, unit_code="ZD", text="已联系", at=accepted + dt.timedelta(minutes=6))
    assert (await store.state(t)).deadline == due
    second = dt.timedelta(seconds=1)

    def handle(fired):
        return [level for timer, level in _levels(fired) if timer == "handle"]

    moments = [accepted + (due - accepted) * share for share in (0.5, 0.8, 1.0)]
    for level, moment, after in zip(("yellow", "orange", "red"), moments, moments[1:] + [None]):
        assert handle(await store.fire_warnings(moment - second, settings)) == [], (level, moment)
        assert handle(await store.fire_warnings(moment, settings)) == [level]
        assert await store.next_fire_at(moment, settings) == after  # what the worker sleeps until


async def test_two_workers_at_once_never_fire_a_warning_twice(conn, dsn):
    store, settings = LifecycleStore(conn), LifecycleSettings()
    for _ in range(30):
        await ticket(conn)
    late = FRIDAY + dt.timedelta(minutes=40)  # sign red, contact red for all 30
    other = await asyncpg.connect(dsn)
    try:
        a, b = await asyncio.gather(store.fire_warnings(late, settings),
                                    LifecycleStore(other).fire_warnings(late, settings))
    finally:
        await other.close()
    assert len(a) + len(b) == 30 * 6  # sign and contact, three levels each, fired once in all
    assert await conn.fetchval("SELECT count(*) FROM ticket_events WHERE kind = 'warning'") == 180


def test_a_worker_killed_and_restarted_loses_and_doubles_nothing(dsn, pg_admin_dsn):
    """The real `hotline worker`: killed (SIGKILL) mid-run, restarted, every warning once."""
    env = {**os.environ, "HOTLINE_DSN": dsn}
    admin = asyncio.run(_tickets_due_now(dsn, 20))

    def worker_until(count: int) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", "console.cli", "worker"], cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while asyncio.run(_warnings(dsn)) < count:
            assert time.monotonic() < deadline, "the worker fired nothing"
            time.sleep(0.2)
        return process

    first = worker_until(1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    asyncio.run(_tickets_due_now(dsn, 5))  # more fall due while no worker runs
    second = worker_until(25 * 4)  # sign yellow/orange/red + contact yellow for all 25
    time.sleep(1.5)
    second.terminate()
    second.wait(10)
    assert admin == 20
    assert asyncio.run(_warnings(dsn)) == 25 * 4
    doubles = asyncio.run(_fetchval(dsn, """SELECT count(*) FROM (SELECT 1 FROM ticket_events WHERE kind = 'warning'
        GROUP BY ticket_id, payload->>'timer', payload->>'level', payload->>'due_at' HAVING count(*) > 1) d"""))
    assert doubles == 0


async def _tickets_due_now(dsn, n: int) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(n):  # dispatched 16 minutes ago: sign is over, contact half used
            await ticket(conn, accepted_at=dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=16))
    finally:
        await conn.close()
    return n


async def _fetchval(dsn, sql):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _warnings(dsn) -> int:
    return await _fetchval(dsn, "SELECT count(*) FROM ticket_events WHERE kind = 'warning'")


def test_the_ticket_command(dsn):
    number = asyncio.run(_first_ticket_no(dsn))
    env = {**os.environ, "HOTLINE_DSN": dsn}

    def hotline(*args):
        return subprocess.run([sys.executable, "-m", "console.cli", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)

    refused = hotline("ticket", "签收", number, "--unit", "CGJ")
    assert refused.returncode == 2 and "工单由ZD承办，CGJ不能签收" in refused.stderr
    signed = hotline("ticket", "签收", number, "--unit", "ZD")
    assert signed.returncode == 0 and "现在 已签收" in signed.stdout
    shown = hotline("ticket", "show", number)
    assert "已签收" in shown.stdout and "ZD" in shown.stdout
    missing = hotline("ticket", "show", "20990101-0001")
    assert missing.returncode == 2 and "没有工单 20990101-0001" in missing.stderr


async def _first_ticket_no(dsn) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        t = await ticket(conn)
        return await conn.fetchval("SELECT ticket_no FROM tickets WHERE id = $1", t)
    finally:
        await conn.close()


async def test_rankings_are_recomputed_from_the_raw_events(conn, dsn):
    """A month of varied tickets for three units; every figure of the report equals the one
    recomputed here from nothing but the events."""
    import random
    from db.rankings import unit_rankings
    store, settings, rnd = LifecycleStore(conn), LifecycleSettings(), random.Random(7)
    minute = dt.timedelta(minutes=1)
    for n in range(45):
        unit = ("ZD", "CGJ", "ZJJ")[n % 3]
        start = FRIDAY + dt.timedelta(hours=5 * n)
        t = await ticket(conn, accepted_at=start, unit=unit)
        at = start + rnd.choice([5, 14, 20, 40]) * minute
        if rnd.random() < 0.15:
            await step(store, t, Step.RETURN, U, unit_code=unit, text="非本单位", at=at)
            await step(store, t, Step.REDISPATCH, H, unit_code="ZD" if unit != "ZD" else "CGJ", at=at + minute)
            continue
        await step(store, t, Step.SIGN, U, unit_code=unit, at=at)
        at += rnd.choice([3, 10, 25]) * minute
        await step(store, t, Step.CONTACT, U, unit_code=unit, text="已联系", at=at)
        if rnd.random() < 0.2:
            await step(store, t, Step.REQUEST_EXTENSION, U, unit_code=unit, text="需协调",
                       due_at=start + dt.timedelta(days=9), at=at)
            await step(store, t, Step.APPROVE_EXTENSION, H, at=at)
        at = start + dt.timedelta(days=rnd.choice([1, 4, 7]))
        await step(store, t, Step.REPLY, U, unit_code=unit, text="已处理", at=at)
        outcome = rnd.choice(["满意", "满意", "基本满意", "不满意"])
        await step(store, t, Step.VISIT, H, outcome=outcome, at=at + dt.timedelta(hours=20))
    end = FRIDAY + dt.timedelta(days=31)
    report = {u["unit"]: u for u in await unit_rankings(conn, FRIDAY, end, settings, end)}
    expected = _recompute(await conn.fetch("SELECT * FROM ticket_events ORDER BY id"),
                          {r["id"]: r["deadline_at"] for r in await conn.fetch("SELECT id, deadline_at FROM tickets")},
                          settings, end)
    assert set(report) == set(expected) == {"ZD", "CGJ", "ZJJ"}
    for unit, figures in expected.items():
        for name, value in figures.items():
            assert report[unit][name] == value, (unit, name, report[unit][name], value)


def _recompute(events, deadlines, settings, now) -> dict:
    """The report's definitions, applied event by event in Python."""
    by_ticket: dict[int, list] = {}
    for e in events:
        by_ticket.setdefault(e["ticket_id"], []).append(e)
    units: dict[str, dict] = {}
    for ticket_id, evs in by_ticket.items():
        starts = [i for i, e in enumerate(evs) if e["kind"] == "status" and e["status"] in ("已派单", "重办")
                  and e["unit_code"]]
        for k, i in enumerate(starts):
            turn = evs[i + 1: starts[k + 1] if k + 1 < len(starts) else len(evs)]
            dispatch = evs[i]
            u = units.setdefault(dispatch["unit_code"], {"turns": 0, "tickets": set(), "signed": 0, "contacted": 0,
                                                         "judged": 0, "on_time": 0, "replied": 0, "returned": 0,
                                                         "extended": 0, "visited": 0, "satisfied": 0, "reopened": 0})
            u["turns"] += 1
            u["tickets"].add(ticket_id)
            first = {}
            for e in turn:
                key = e["status"] if e["kind"] == "status" else e["kind"]
                first.setdefault(key, e)
            if "已签收" in first and first["已签收"]["at"] <= dispatch["at"] + dt.timedelta(minutes=settings.sign_minutes):
                u["signed"] += 1
            if "contact" in first and first["contact"]["at"] <= dispatch["at"] + dt.timedelta(minutes=settings.contact_minutes):
                u["contacted"] += 1
            replied = first.get("已办结")
            cutoff = replied["at"] if replied else now
            due = deadlines[ticket_id]
            for e in evs:
                if e["kind"] == "deadline" and e["at"] <= cutoff:
                    due = dt.datetime.fromisoformat(json.loads(e["payload"])["due_at"])
            if replied or due < now:
                u["judged"] += 1
            if replied:
                u["replied"] += 1
                u["on_time"] += replied["at"] <= due
            u["returned"] += "退单" in first
            u["extended"] += "extension_request" in first
            if "visit" in first:
                outcome = json.loads(first["visit"]["payload"])["outcome"]
                u["visited"] += 1
                u["satisfied"] += outcome in ("满意", "基本满意")
                u["reopened"] += outcome == "不满意"

    def rate(a, b):
        return round(a / b, 4) if b else None

    return {unit: {"办件量": len(u["tickets"]), "按时签收率": rate(u["signed"], u["turns"]),
                   "按时联系率": rate(u["contacted"], u["turns"]), "按期办结率": rate(u["on_time"], u["judged"]),
                   "退单率": rate(u["returned"], u["turns"]), "延期率": rate(u["extended"], u["turns"]),
                   "重办率": rate(u["reopened"], u["replied"]), "满意率": rate(u["satisfied"], u["visited"])}
            for unit, u in units.items()}


async def test_weekly_hot_spots(conn):
    from db.rankings import hot_spots
    from geo.service import DEMO_GAZETTEER, import_csv
    await import_csv(conn, DEMO_GAZETTEER)
    tickets = TicketStore(conn, TicketRules.default())
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    spots = [("010201", "370303009001200103", 5), ("030101", "370303009001200103", 3),
             ("010201", "370303009003102000", 2)]  # 东寨村: another community
    for category, address, n in spots:
        for i in range(n):
            await tickets.submit(TicketDraft(ticket_type="投诉", content="x", caller_number="13805331234",
                                             unit_code="ZD", category_code=category, address_code=address,
                                             accepted_at=monday + dt.timedelta(hours=i)))
    await tickets.submit(TicketDraft(ticket_type="投诉", content="没有分类", caller_number="13805331234",
                                     unit_code="ZD", address_code="370303009001200103", accepted_at=monday))
    await tickets.submit(TicketDraft(ticket_type="投诉", content="下周", caller_number="13805331234",
                                     unit_code="ZD", category_code="010201", address_code="370303009001200103",
                                     accepted_at=monday + dt.timedelta(days=7)))
    found = await hot_spots(conn, monday, monday + dt.timedelta(days=14))
    this_week = [(s["分类"].split("/")[-1], s["社区"], s["工单数"]) for s in found if s["week"] == "2026-11-30"]
    assert [n for *_, n in this_week] == [5, 3, 2]  # most first; the one without a category is not a spot
    assert this_week[0][1] == "松龄社区"
    assert [s["工单数"] for s in found if s["week"] == "2026-12-07"] == [1]


async def test_the_rankings_screen(dsn, role_dsn):
    """The supervisor's rankings screen: units best first with their bars, and the hot spots."""
    from console.rankings.app import RankingsApp
    conn = await asyncpg.connect(dsn)
    store = LifecycleStore(conn)
    for unit, replies in (("ZD", True), ("CGJ", False)):
        t = await ticket(conn, unit=unit)
        await step(store, t, Step.SIGN, U, unit_code=unit, at=FRIDAY + dt.timedelta(minutes=5))
        if replies:
            await step(store, t, Step.CONTACT, U, unit_code=unit, text="已联系", at=FRIDAY + dt.timedelta(minutes=9))
            await step(store, t, Step.REPLY, U, unit_code=unit, text="已办", at=FRIDAY + dt.timedelta(hours=5))
    await conn.close()
    app = RankingsApp(role_dsn("supervisor"), FRIDAY.replace(hour=0), FRIDAY.replace(hour=0) + dt.timedelta(days=30),
                      LifecycleSettings())
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.rankings.units) == 2)
        assert [u["unit"] for u in app.rankings.units] == ["ZD", "CGJ"]  # the one that replied on time first
        first_row = app.query_one("#units").get_row_at(0)
        assert str(first_row[3]).startswith("█" * 20) and "100.0%" in str(first_row[3])
