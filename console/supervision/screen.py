"""督办: what needs a supervisor now, most urgent first — returns (退单) to accept (改派) or
refuse back, extension requests to approve or refuse, tickets overdue or under an orange or
red warning to chase (督办 with an answer-by time), and 督办 not yet answered."""

from __future__ import annotations

import datetime as dt

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
LEVEL_STYLE = {"orange": "black on dark_orange", "red": "white on red"}
# key → (step, who takes it, what the prompt asks: text, unit, due)
ACTIONS = {
    Step.REDISPATCH: (Role.HOTLINE, "改派：新的承办单位和理由", dict(ask_unit=True)),
    Step.REFUSE_RETURN: (Role.HOTLINE, "驳回退单：理由（退回原单位办理）", {}),
    Step.APPROVE_EXTENSION: (Role.HOTLINE, None, {}),
    Step.REFUSE_EXTENSION: (Role.HOTLINE, "驳回延期：理由", {}),
    Step.SUPERVISE: (Role.SUPERVISOR, "督办：要求和回复时限", dict(ask_due=True, due_label="回复时限，如 2026-12-03 12:00")),
}


def what_needs_doing(row: dict, now: dt.datetime) -> str:
    if row["status"] == "退单":
        return "退单待审"
    if row["extension_to"]:
        return f"延期至 {row['extension_to'].astimezone(SHANGHAI):%m-%d %H:%M}？"
    if row["supervision_by"]:
        return f"督办待复（{row['supervision_by'].astimezone(SHANGHAI):%m-%d %H:%M}前）"
    return "已超期" if row["overdue"] else "预警"


class SupervisionScreen(TicketListScreen):
    ID_KEY = "ticket_id"

    DEFAULT_CSS = """
    SupervisionScreen #heading { height: 1; background: $boost; padding: 0 1; }
    SupervisionScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("g", f"act('{Step.REDISPATCH}')", "改派"),
        Binding("j", f"act('{Step.REFUSE_RETURN}')", "驳回退单"),
        Binding("y", f"act('{Step.APPROVE_EXTENSION}')", "批准延期"),
        Binding("x", f"act('{Step.REFUSE_EXTENSION}')", "驳回延期"),
        Binding("d", f"act('{Step.SUPERVISE}')", "督办"),
        Binding("f5", "reload", "刷新", show=False),
        Binding("q", "app.quit", "退出", show=False),
    ]

    def __init__(self, dsn: str, supervisor_id: str, now=lambda: dt.datetime.now(SHANGHAI)):
        super().__init__(dsn, name="supervision")
        self.supervisor_id, self.now = supervisor_id, now

    def compose(self) -> ComposeResult:
        yield Static("", id="heading")
        yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("预警", "待办", "工单号", "状态", "承办单位", "期限", "诉求")
        self.conn = await connect(self.dsn)
        await self.conn.add_listener("ticket_warnings", lambda *_: self.call_later(self.action_reload))
        self.set_interval(REFRESH_SECONDS, self.action_reload)
        await self.action_reload()

    async def action_reload(self) -> None:
        now = self.now()
        self.tickets = [dict(r) for r in await LifecycleStore(self.conn).needing_supervision(now)]
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for t in self.tickets:
            level = "red" if t["overdue"] else t["warning"]
            flag = Text(" 红 " if level == "red" else " 橙 ", style=LEVEL_STYLE[level]) if level in LEVEL_STYLE \
                else Text("")
            table.add_row(flag, what_needs_doing(t, now), t["ticket_no"], Text.from_markup(ticket_badge(t["status"])),
                          Text(t["unit_name"] or t["unit_code"] or ""), f"{t['deadline'].astimezone(SHANGHAI):%m-%d %H:%M}",
                          Text(t["content"][:24]), key=str(t["ticket_id"]))
        if self.tickets:
            table.move_cursor(row=min(cursor, len(self.tickets) - 1))
        counts = {k: sum(1 for t in self.tickets if what_needs_doing(t, now).startswith(k))
                  for k in ("退单", "延期", "已超期", "督办")}
        self.query_one("#heading", Static).update(
            f"[b]督办[/b] 退单待审 {counts['退单']}  延期待批 {counts['延期']}  [red]超期 {counts['已超期']}[/]  "
            f"督办待复 {counts['督办']}  班长 {escape(self.supervisor_id)}  [dim]回车看详情[/]")

    async def action_act(self, step_name: str) -> None:
        step = Step(step_name)
        role, question, asks = ACTIONS[step]
        ticket = self._current()
        prompt = StepPrompt(f"{ticket['ticket_no'] if ticket else ''} {question}", **asks) if question else None
        await self.offer(step, role, self.supervisor_id, prompt=prompt)
