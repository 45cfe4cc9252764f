"""A seat's detail: its current call's transcript tail and its tickets of today."""

from __future__ import annotations

import json

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.display import speaker_tag, ticket_badge
from domain.privacy import mask


class SeatDetailScreen(ModalScreen):
    DEFAULT_CSS = """
    SeatDetailScreen { align: center middle; }
    SeatDetailScreen #detail {
        width: 70;
        height: auto;
        max-height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 1;
    }
    """
    BINDINGS = [Binding("escape", "dismiss", "关闭")]

    def __init__(self, seat_id: int, detail: dict):
        super().__init__()
        self.seat_id, self.detail = seat_id, detail

    def compose(self) -> ComposeResult:
        call = self.detail["call"]
        lines = [f"[b]座席 {self.seat_id:03d}[/b]"]
        if call:
            utterances = json.loads(call["transcript"]) if isinstance(call["transcript"], str) else call["transcript"]
            # the supervisor is not the agent on the call: numbers are masked
            lines.append(f"当前通话 {escape(mask(call['caller_number']))}")
            lines += [f"  {speaker_tag(u.get('speaker'))}{escape(mask(u.get('text', '')))}" for u in utterances[-6:]] or ["  （尚无转写）"]
        else:
            lines.append("当前无通话")
        lines.append(f"今日工单 {len(self.detail['tickets'])}")
        lines += [f"  {t['ticket_no']} {t['ticket_type']} {ticket_badge(t['status'])} {escape(mask(t['content'])[:20])}"
                  for t in self.detail["tickets"][:10]]
        with VerticalScroll(id="detail"):
            yield Static("\n".join(lines))
