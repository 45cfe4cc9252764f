"""The top bar: seat, agent, state and how long the seat has been in it."""

from __future__ import annotations

import time

from textual.reactive import reactive
from textual.widgets import Static

STATE_STYLE = {"就绪": "green", "通话中": "red", "话后整理": "yellow", "小休": "blue", "离线": "grey50"}


class SeatBar(Static):
    state: reactive[str] = reactive("离线")
    reason: reactive[str] = reactive("")
    note: reactive[str] = reactive("")

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

    def refresh_text(self) -> None:
        seconds = int(self.clock() - self.since)
        style = STATE_STYLE.get(self.state, "white")
        reason = f"（{self.reason}）" if self.reason else ""
        note = f"  {self.note}" if self.note else ""
        self.update(f"[b]淄博12345[/b]  座席 {self.seat_id:03d}  工号 {self.agent_id}  "
                    f"[{style} b]{self.state}{reason}[/] {seconds // 60:02d}:{seconds % 60:02d}{note}")
