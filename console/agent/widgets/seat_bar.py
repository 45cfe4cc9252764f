"""The top bar: seat, agent, state and how long the seat has been in it."""

from __future__ import annotations

import time

from textual.reactive import reactive
from textual.widgets import Static

from console.display import seat_badge
from domain.vocabulary import SeatState


class SeatBar(Static):
    DEFAULT_CSS = """
    SeatBar {
        height: 1;
        background: $boost;
        padding: 0 1;
    }
    """

    state: reactive[str] = reactive(SeatState.OFFLINE)
    reason: reactive[str] = reactive("")
    note: reactive[str] = reactive("")
    phone: reactive[str] = reactive("")  # the SIP phone's registration, when the seat has one

    def __init__(self, seat_id: int, agent_id: str, clock=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self.seat_id, self.agent_id, self.clock = seat_id, agent_id, clock
        self.since = clock()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_text)
        self.refresh_text()

    def set_state(self, state: str, reason: str = "") -> None:
        self.since = self.clock()
        self.state, self.reason = state, reason

    def watch_state(self) -> None:
        self.refresh_text()

    def watch_note(self) -> None:
        self.refresh_text()

    def watch_phone(self) -> None:
        self.refresh_text()

    def refresh_text(self) -> None:
        seconds = int(self.clock() - self.since)
        note = "".join(f"  {part}" for part in (self.phone, self.note) if part)
        self.update(f"[b]淄博12345[/b]  座席 {self.seat_id:03d}  工号 {self.agent_id}  "
                    f"{seat_badge(self.state, self.reason)} {seconds // 60:02d}:{seconds % 60:02d}{note}")
