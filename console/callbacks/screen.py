"""Call-backs (回访): the replied tickets oldest first; the agent calls the citizen, reads the
unit's reply, and records satisfaction with one key (1 满意, 2 基本满意, 3 不满意 → 重办)."""

from __future__ import annotations

import datetime as dt

import asyncpg
from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.base import KeyBar

from db.connect import connect
from db.lifecycle import LifecycleStore
from domain.lifecycle import LifecycleError, Request, Role, Satisfaction, Step
from domain.workdays import SHANGHAI


class CallbackScreen(Screen):
    DEFAULT_CSS = """
    CallbackScreen #heading { height: 1; background: $boost; padding: 0 1; }
    CallbackScreen DataTable { height: 1fr; }
    CallbackScreen #reply { height: auto; max-height: 6; border-top: solid $secondary; padding: 0 1; }
    """
    BINDINGS = [
        Binding("1", f"visit('{Satisfaction.SATISFIED}')", "满意"),
        Binding("2", f"visit('{Satisfaction.BASICALLY}')", "基本满意"),
        Binding("3", f"visit('{Satisfaction.DISSATISFIED}')", "不满意(重办)"),
        Binding("f5", "reload", "刷新", show=False),
        Binding("q", "app.quit", "退出"),
    ]

    def __init__(self, dsn: str, agent_id: str, replied_before: dt.datetime):
        super().__init__(name="callbacks")
        self.dsn, self.agent_id, self.replied_before = dsn, agent_id, replied_before
        self.conn: asyncpg.Connection | None = None
        self.tickets: list[dict] = []
        self.done = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="heading")
        yield DataTable(id="callbacks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="reply")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("工单号", "来电号码", "承办单位", "办结时间", "诉求")
        self.conn = await connect(self.dsn)
        await self.action_reload()

    async def on_unmount(self) -> None:
        if self.conn and not self.conn.is_closed():
            await self.conn.close()

    async def action_reload(self) -> None:
        self.tickets = [dict(r) for r in await LifecycleStore(self.conn).to_call_back(self.replied_before)]
        table = self.query_one(DataTable)
        table.clear()
        for t in self.tickets:
            table.add_row(t["ticket_no"], t["caller_number"], t["unit_name"] or t["unit_code"] or "",
                          f"{t['replied_at'].astimezone(SHANGHAI):%m-%d %H:%M}", t["content"][:30], key=str(t["id"]))
        self.query_one("#heading", Static).update(
            f"[b]回访[/b] 待回访 {len(self.tickets)}  本次已回访 {self.done}  工号 {escape(self.agent_id)}")
        self._show_reply()

    def _current(self) -> dict | None:
        row = self.query_one(DataTable).cursor_row
        return self.tickets[row] if self.tickets and row < len(self.tickets) else None

    @on(DataTable.RowHighlighted)
    def _show_reply(self) -> None:
        t = self._current()
        self.query_one("#reply", Static).update(
            f"[b]承办单位答复[/b]：{escape(t['reply'])}\n[dim]{escape(t['address_text'] or '')}[/]" if t else "没有待回访的工单")

    async def action_visit(self, outcome: str) -> None:
        ticket = self._current()
        if ticket is None:
            return
        request = Request(Step.VISIT, Role.HOTLINE, self.agent_id, outcome=outcome)
        try:
            await LifecycleStore(self.conn).apply(ticket["id"], request)
        except LifecycleError as exc:  # e.g. someone else called back first
            self.notify(str(exc), severity="warning")
        else:
            self.done += 1
            reopened = "，已重办给原承办单位" if outcome == Satisfaction.DISSATISFIED else ""
            self.notify(f"{ticket['ticket_no']} 回访：{outcome}{reopened}")
        await self.action_reload()
