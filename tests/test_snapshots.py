"""Every screen at the two sizes the floor has: an 80×24 SSH window and a 200×60 desk
monitor. The snapshots catch layout regressions; the checks beside them say what must be on
screen at 80×24 (nothing essential hidden) and that 200×60 is used."""

import asyncio
import datetime as dt
import uuid

import asyncpg
import pytest

from console.agent.app import AgentConsole
from console.base import HotlineApp
from console.callbacks.app import CallbackApp
from console.lookup.app import LookupApp
from console.qa.app import QaApp
from console.rankings.app import RankingsApp
from console.supervision.app import SupervisionApp
from console.unit.app import UnitApp
from console.ticket_views.history import HistoryScreen
from console.wallboard.app import Wallboard
from console.wallboard.seat_detail import SeatDetailScreen
from domain.seats import load_seats
from domain.settings import LifecycleSettings, load_settings
from domain.workdays import SHANGHAI
from floor.context import SeatContext
from floor.reference import load_reference
from quality.config import load_qa
from conftest import REPO

FIXED_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
SIZES = [(80, 24), (200, 60)]


@pytest.fixture
def snapshot_dsn(pg_admin_dsn, template_db, tmp_path, monkeypatch):
    """A database of its own with the reference data, for these synchronous tests."""
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    name = f"snap_{uuid.uuid4().hex[:10]}"
    base, _, query = pg_admin_dsn.partition("?")
    dsn = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")

    async def setup():
        admin = await asyncpg.connect(pg_admin_dsn)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        await admin.close()
        conn = await asyncpg.connect(dsn)
        await load_reference(conn, REPO / "seats.toml")
        await conn.close()

    asyncio.run(setup())
    yield dsn

    async def drop():
        admin = await asyncpg.connect(pg_admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    asyncio.run(drop())


def _apps(dsn: str) -> dict:
    """Each app on its first screen, as its user opens it (empty floor, fixed clocks)."""
    _, rubric = load_qa(REPO / "qa.toml")
    day = FIXED_NOW.replace(hour=0)
    return {
        "agent": lambda: AgentConsole(asyncio.run(SeatContext.load(dsn, 1, "A001", want_model=False)),
                                      clock=lambda: 0.0, now=lambda: FIXED_NOW),
        "wallboard": lambda: Wallboard(dsn, load_seats(REPO / "seats.toml"),
                                       load_settings(REPO / "hotline.toml").alerts, now=lambda: FIXED_NOW),
        "qa": lambda: QaApp(dsn, FIXED_NOW.date(), "Q09", rubric),
        "unit": lambda: UnitApp(dsn, "ZD", "张店区人民政府", "王五"),
        "supervision": lambda: SupervisionApp(dsn, "B01"),
        "callbacks": lambda: CallbackApp(dsn, "A012", day),
        "rankings": lambda: RankingsApp(dsn, day - dt.timedelta(days=30), day, LifecycleSettings()),
        "lookup": lambda: LookupApp(dsn, masked=True),
    }


def _nothing_essential_hidden(app) -> None:
    """At 80×24: the footer's keys all show (none cut at the edge), and no focusable widget
    lies off screen."""
    from textual.widgets import Footer

    region = app.screen.region
    footer = app.screen.query_one(Footer)
    assert region.contains_region(footer.region) and footer.region.height == 1
    keys = list(footer.children)
    assert keys and all(region.contains_region(k.region) for k in keys), \
        [(str(k.description), k.region) for k in keys if not region.contains_region(k.region)]
    off = [w for w in app.screen.query("*") if w.focusable and w.region.area
           and not region.contains_region(w.region)]
    assert not off, [(repr(w), w.region) for w in off]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", ["agent", "wallboard", "qa", "unit", "supervision", "callbacks",
                                    "rankings", "lookup"])
def test_screen_snapshot(snap_compare, snapshot_dsn, screen, size):
    app = _apps(snapshot_dsn)[screen]()
    checked = []

    async def settle(pilot) -> None:
        await pilot.pause(0.5)
        await pilot.app.workers.wait_for_complete()  # the first query of a screen, if any
        for field in pilot.app.screen.query("Input, TextArea"):
            field.cursor_blink = False  # a blinking cursor is caught on or off by chance
        await pilot.pause(0.5)
        if size == (80, 24):
            _nothing_essential_hidden(pilot.app)
        checked.append(size)

    assert snap_compare(app, terminal_size=size, run_before=settle)
    assert checked == [size]  # the checks ran (an error in them fails the test above)


class _Host(HotlineApp):
    """An empty app with one detail screen open on top, as its users see it over their list."""

    def __init__(self, detail):
        super().__init__()
        self.detail = detail

    def on_mount(self) -> None:
        self.push_screen(self.detail)


def _details() -> dict:
    at = FIXED_NOW
    ticket = {"ticket_no": "ZB20261123000042", "ticket_type": "投诉", "status": "办理中",
              "caller_number": "138****1234", "address_text": "张店区马尚街道松龄花园3号楼",
              "content": "来电人反映：楼道里的灯坏了一个多星期了，晚上特别黑，老人上下楼不安全。"}
    events = [
        {"at": at, "kind": "status", "status": "受理", "actor": "A001", "note": "", "payload": {}},
        {"at": at.replace(minute=1), "kind": "status", "status": "已派单", "actor": "A001", "note": "", "payload": {}},
        {"at": at.replace(minute=8), "kind": "warning", "status": None, "actor": "worker", "note": "",
         "payload": {"level": "yellow", "timer": "sign", "due_at": at.replace(minute=16).timestamp()}},
        {"at": at.replace(minute=12), "kind": "status", "status": "已签收", "actor": "王五", "note": "", "payload": {}},
        {"at": at.replace(minute=30), "kind": "contact", "status": None, "actor": "王五",
         "note": "已电话联系市民，明天上午维修", "payload": {}},
    ]
    others = [{"ticket_no": "ZB20261101000007", "accepted_at": at.replace(day=1), "ticket_type": "求助",
               "status": "已归档", "content": "楼道灯不亮"}]
    seat = {"call": {"caller_number": "13805331234", "transcript": [
        {"text": "喂你好"}, {"text": "我住马尚街道松龄花园三号楼"}, {"text": "楼道里的灯坏了"}]},
        "tickets": [{"ticket_no": "ZB20261123000041", "ticket_type": "咨询", "status": "直办结",
                     "content": "咨询公积金提取"}]}
    return {"ticket": lambda: HistoryScreen(ticket, events, others),
            "seat": lambda: SeatDetailScreen(7, seat)}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("detail", ["ticket", "seat"])
def test_detail_screen_snapshot(snap_compare, detail, size):
    """The ticket's history (every app's F9 lookup, the agent's caller history) and a seat's
    detail on the wallboard: modal screens, filled with fixed data."""
    app = _Host(_details()[detail]())
    assert snap_compare(app, terminal_size=size, run_before=lambda pilot: pilot.pause(0.5))
