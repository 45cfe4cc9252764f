"""One line under the seat bar: who is calling, and what the agent does next."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from console.display import ticket_badge


class CallerLine(Static):
    DEFAULT_CSS = """
    CallerLine {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def waiting(self, last_ticket: str | None = None) -> None:
        self.update("等待来电" + (f"  上一张工单 {last_ticket}" if last_ticket else ""))

    def ringing(self, number: str, history: list) -> None:
        earlier = "；".join(f"{r['ticket_no']} {r['ticket_type']} {ticket_badge(r['status'])}" for r in history)
        self.update(f"[b red]来电[/] {escape(number)}  "
                    + (f"[yellow]重复来电[/] {earlier}" if history else "首次来电") + "  F3接听")

    def talking(self, number: str) -> None:
        self.update(f"[b red]通话中[/] {escape(number)}  F4挂断")

    def missed(self, number: str) -> None:
        self.update(f"未接来电 {escape(number)}")

    def wrapping_up(self, number: str, seconds: float) -> None:
        self.update(f"[yellow]已挂断[/] {escape(number)}  通话 {int(seconds)}秒  "
                    "话后整理中：确认地址，Ctrl+S保存")
