"""The unit's queue: its open tickets, soonest deadline first, coloured by the warning in force;
its steps from the keyboard on the highlighted ticket."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from console.base import KeyBar

from console.display import ticket_badge
from console.ticket_views.prompt import StepPrompt
from console.ticket_views.ticket_list import TicketListScreen
from db.connect import connect
from db.lifecycle import LifecycleStore
from domain.lifecycle import Role, Step
from domain.workdays import SHANGHAI

REFRESH_SECONDS = 30
WARNING_STYLE = {"yellow": "black on yellow", "orange": "black on dark_orange", "red": "white on red"}
WARNING_WORD = {"yellow": "黄", "orange": "橙", "red": "红"}
NEEDS_TEXT = {Step.NOTE: "进展", Step.REPLY: "办结：答复市民的内容", Step.RETURN: "退单原因",
              Step.ANSWER_SUPERVISION: "督办回复", Step.CONTACT: "联系情况"}


class UnitQueueScreen(TicketListScreen):
    DEFAULT_CSS = """
    UnitQueueScreen #heading { height: 1; background: $boost; padding: 0 1; }
    UnitQueueScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("s", f"step('{Step.SIGN}')", "签收"),
        Binding("c", f"step('{Step.CONTACT}')", "联系群众"),
        Binding("n", f"step('{Step.NOTE}')", "进展"),
        Binding("r", f"step('{Step.REPLY}')", "办结"),
        Binding("b", f"step('{Step.RETURN}')", "退单"),
        Binding("e", f"step('{Step.REQUEST_EXTENSION}')", "延期"),
        Binding("a", f"step('{Step.ANSWER_SUPERVISION}')", "督办回复"),
        Binding("f5", "reload", "刷新", show=False),
        Binding("q", "app.quit", "退出", show=False),
    ]

    def __init__(self, dsn: str, unit_code: str, unit_name: str, actor: str):
        super().__init__(dsn, name="queue")
        self.unit_code, self.unit_name, self.actor = unit_code, unit_name, actor

    def compose(self) -> ComposeResult:
        yield Static("", id="heading")
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    async def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("预警", "工单号", "类型", "状态", "期限", "诉求", "地址")
        self.conn = await connect(self.dsn)
        # a warning the worker fires shows at once; the timer catches anything else
        await self.conn.add_listener("ticket_warnings", lambda *_: self.call_later(self.action_reload))
        self.set_interval(REFRESH_SECONDS, self.action_reload)
        await self.action_reload()

    async def action_reload(self) -> None:
        rows = await LifecycleStore(self.conn).unit_queue(self.unit_code)
        self.tickets = [dict(r) for r in rows]
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for t in self.tickets:
            level = t["warning"]
            flag = Text(f" {WARNING_WORD[level]} ", style=WARNING_STYLE[level]) if level else Text("")
            table.add_row(flag, t["ticket_no"], t["ticket_type"], Text.from_markup(ticket_badge(t["status"])),
                          f"{t['deadline'].astimezone(SHANGHAI):%m-%d %H:%M}", Text(t["content"][:24]),
                          Text((t["address_text"] or "")[:20]), key=str(t["id"]))
        if self.tickets:
            table.move_cursor(row=min(cursor, len(self.tickets) - 1))
        red = sum(1 for t in self.tickets if t["warning"] == "red")
        self.query_one("#heading", Static).update(
            f"[b]{escape(self.unit_name)}[/b] 待办 {len(self.tickets)}" + (f"  [red]超时 {red}[/]" if red else "")
            + f"  经办 {escape(self.actor)}  [dim]回车看详情[/]")

    async def action_step(self, step_name: str) -> None:
        step = Step(step_name)
        ticket = self._current()
        number = ticket["ticket_no"] if ticket else ""
        if step == Step.REQUEST_EXTENSION:
            prompt = StepPrompt(f"{number} 延期申请：原因和新期限", ask_due=True)
        elif step in NEEDS_TEXT:
            prompt = StepPrompt(f"{number} {NEEDS_TEXT[step]}")
        else:
            prompt = None
        await self.offer(step, Role.UNIT, self.actor, self.unit_code, prompt)
