"""One seat on the floor plan: number, agent, state and time in it, coloured by state."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from console.display import SEAT_LOOK
from domain.alerts import SeatView
from domain.settings import AlertLimits
from domain.vocabulary import SeatState


class SeatTile(Static, can_focus=True):
    DEFAULT_CSS = """
    SeatTile {
        height: 2;
        width: 10;
        content-align: center middle;
        color: black;
    }
    SeatTile.ready { background: green; }
    SeatTile.talking { background: red; color: white; }
    SeatTile.wrapup { background: yellow; }
    SeatTile.break { background: dodgerblue; color: white; }
    SeatTile.offline { background: $panel; color: $text-muted; }
    SeatTile.alert { text-style: bold reverse; }
    SeatTile:focus { border: none; text-style: bold underline; }
    """

    def __init__(self, view: SeatView, **kwargs):
        super().__init__(**kwargs)
        self.view = view

    def show(self, now: float, limits: AlertLimits) -> None:
        v = self.view
        state = v.shown_state(now, limits)
        look = SEAT_LOOK[state]
        seconds = int(now - v.since)
        self.set_classes(look.css + (" alert" if v.alert(now, limits) else ""))
        label = look.short if state != SeatState.BREAK else (v.reason or look.short)[:2]
        timer = "" if state == SeatState.OFFLINE else f" {min(seconds // 60, 99)}:{seconds % 60:02d}"
        self.update(f"{v.seat_id:03d} {escape(v.agent[:5])}\n{escape(label)}{timer}")
