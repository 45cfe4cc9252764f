"""A ticket's whole event history and, where the reader may see numbers, the caller's other
tickets (a repeat caller is often the same problem unsolved)."""

from __future__ import annotations

import json

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.display import EVENT_LABEL, event_detail, ticket_badge
from domain.workdays import SHANGHAI


class HistoryScreen(ModalScreen):
    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen #history { width: 90%; height: 80%; border: thick $primary; background: $surface; padding: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss", "关闭")]

    def __init__(self, ticket: dict, events: list, others: list[dict] | None = None):
        super().__init__()
        self.ticket, self.events, self.others = ticket, events, others or []

    def compose(self) -> ComposeResult:
        t = self.ticket
        lines = [f"[b]{t['ticket_no']}[/b] {t['ticket_type']} {ticket_badge(t['status'])}  来电 {escape(t['caller_number'])}",
                 escape(t["address_text"] or ""), escape(t["content"]), ""]
        for e in self.events:
            payload = json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"]
            status = ticket_badge(e["status"]) if e["status"] else ""
            lines.append(f"{e['at'].astimezone(SHANGHAI):%m-%d %H:%M} {EVENT_LABEL[e['kind']]} {status} "
                         f"{escape(e['actor'])} {escape(e['note'][:60])} {event_detail(e['kind'], payload)}")
        if self.others:
            lines += ["", f"[b]同一来电的其他工单（{len(self.others)}）[/b]"]
            lines += [f"{o['ticket_no']} {o['accepted_at'].astimezone(SHANGHAI):%Y-%m-%d} {o['ticket_type']} "
                      f"{ticket_badge(o['status'])} {escape(o['content'][:40])}" for o in self.others]
        with VerticalScroll(id="history"):
            yield Static("\n".join(lines))
