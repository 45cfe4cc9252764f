"""One seat on the floor plan: number, agent, state and time in it, coloured by state."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from console.display import SEAT_LOOK
from domain.alerts import SeatView
from domain.settings import AlertLimits
from domain.vocabulary import SeatState


class SeatTile(Static, can_focus=True):
    """Fills its cell of the floor grid and says as much as its width allows: 150 seats fit
    at 120 columns (number and state) and even at 80 (number and minutes), in colour."""

    DEFAULT_CSS = """
    SeatTile {
        height: 2;
        width: 100%;
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
    FULL_WIDTH = 9  # "015 A001" over "就绪 1:23"

    def __init__(self, view: SeatView, **kwargs):
        super().__init__(**kwargs)
        self.view = view
        self._last: tuple[float, AlertLimits] | None = None

    def show(self, now: float, limits: AlertLimits) -> None:
        self._last = (now, limits)
        v = self.view
        state = v.shown_state(now, limits)
        look = SEAT_LOOK[state]
        seconds = max(0, int(now - v.since))
        self.set_classes(look.css + (" alert" if v.alert(now, limits) else ""))
        label = look.short if state != SeatState.BREAK else (v.reason or look.short)[:2]
        width = self.size.width or self.FULL_WIDTH
        offline = state == SeatState.OFFLINE
        if width >= self.FULL_WIDTH:
            timer = "" if offline else f" {min(seconds // 60, 99)}:{seconds % 60:02d}"
            text = f"{v.seat_id:03d} {escape(v.agent[:width - 4])}\n{escape(label)}{timer}"
        elif width >= 5:
            text = f"{v.seat_id:03d}\n{escape(label)}"
        else:  # the colour says the state; the minutes in it are what a supervisor watches
            text = f"{v.seat_id:03d}\n" + ("" if offline else f"{min(seconds // 60, 99)}")
        self.update(text)

    def on_resize(self) -> None:
        if self._last:
            self.show(*self._last)
