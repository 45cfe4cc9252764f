"""Ticket lookup, the same in every app (F9): one search box (see query.py), the matching
tickets newest first with how many there are in all, and on Enter a ticket's whole history
with the caller's other tickets. A supervisor's lookup reads numbers and content masked; a
unit's only its own tickets."""

from __future__ import annotations

import asyncpg
from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from console.base import KeyBar

from console.display import ticket_badge
from db.connect import connect, is_unavailable
from db.lifecycle import LifecycleStore
from db.tickets import TicketStore
from domain.workdays import SHANGHAI

from .history import HistoryScreen
from .query import QueryError, parse_query

SHOWN = 200  # rows listed; the count says how many match in all


class TicketSearchScreen(Screen):
    DEFAULT_CSS = """
    TicketSearchScreen #query { height: 3; }
    TicketSearchScreen #found { height: 1; padding: 0 1; background: $boost; }
    TicketSearchScreen DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "返回"), Binding("f9", "focus_query", "查询框")]

    def __init__(self, dsn: str, masked: bool = False, only_unit: str | None = None, first_query: str = ""):
        super().__init__(name="ticket-search")
        self.dsn, self.masked, self.only_unit, self.first_query = dsn, masked, only_unit, first_query
        self.conn: asyncpg.Connection | None = None
        self.tickets: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="查工单：来电号码 / 工单号 / 2026-12-01[..2026-12-02] / 状态 / 单位代码 / 地址词，回车查询",
                    id="query")
        yield Static("", id="found")
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("工单号", "受理时间", "类型", "状态", "承办单位", "期限", "来电", "地址",
                                              "诉求")
        box = self.query_one("#query", Input)
        box.focus()
        if self.first_query:
            box.value = self.first_query
            await self.search()

    async def on_unmount(self) -> None:
        if self.conn and not self.conn.is_closed():
            await self.conn.close()

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#found", Static).update(text)

    @on(Input.Submitted, "#query")
    async def search(self, event: Input.Submitted | None = None) -> None:
        try:
            query = parse_query(self.query_one("#query", Input).value)
        except QueryError as exc:
            self._say(f"[red]{escape(str(exc))}[/]")
            return
        if self.only_unit:
            query.unit = self.only_unit
        try:
            if self.conn is None or self.conn.is_closed():
                self.conn = await connect(self.dsn)
            total, rows = await TicketStore(self.conn).search(**query.filters(), limit=SHOWN, masked=self.masked)
        except PermissionError as exc:
            self._say(f"[red]{escape(str(exc))}[/]")
            return
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self.conn = None
            self._say("[red]数据库连接中断，稍后再查[/]")
            return
        self.tickets = [dict(r) for r in rows]
        table = self.query_one(DataTable)
        table.clear()
        for t in self.tickets:
            table.add_row(t["ticket_no"], f"{t['accepted_at'].astimezone(SHANGHAI):%m-%d %H:%M}", t["ticket_type"],
                          Text.from_markup(ticket_badge(t["status"])), t["unit_name"] or "—",
                          f"{t['deadline_at'].astimezone(SHANGHAI):%m-%d %H:%M}", t["caller_number"],
                          Text((t["address_text"] or "")[:24]), Text(t["content"][:30]), key=str(t["id"]))
        more = f"，列出最新 {len(rows)} 张" if total > len(rows) else ""
        self._say(f"{escape(query.describe())}：共 {total} 张{more}" + ("  [dim]回车看详情[/]" if rows else ""))
        if rows:
            table.focus()

    @on(DataTable.RowSelected, "#results")
    async def detail(self, event: DataTable.RowSelected) -> None:
        ticket = self.tickets[event.cursor_row]
        events = await LifecycleStore(self.conn).history(ticket["id"])
        others = [] if self.masked else [
            dict(r) for r in await TicketStore(self.conn).by_caller(ticket["caller_number"], limit=10)
            if r["id"] != ticket["id"]]
        self.app.push_screen(HistoryScreen(ticket, events, others))
