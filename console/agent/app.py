"""The agent console app: one seat's call session on the agent's screen.

    hotline console --seat 12 --agent A012 [--call demo|FILE.wav|headset] [--caller 138…]
"""

from __future__ import annotations

import datetime as dt
import time

from textual.app import App

from domain.workdays import SHANGHAI
from floor.context import SeatContext
from floor.session import CallSession

from .screen import AgentScreen


class AgentConsole(App):
    CSS_PATH = "agent.tcss"
    TITLE = "淄博12345 座席"

    def __init__(self, ctx: SeatContext, line=None, ring_after: float | None = None,
                 auto_answer: bool = False, clock=time.monotonic,
                 now=lambda: dt.datetime.now(SHANGHAI)):
        super().__init__()
        self.line = line
        self.ring_after = ring_after
        self.auto_answer = auto_answer
        self.main = AgentScreen(CallSession(ctx, self._show, now=now), clock=clock)
        self.session = self.main.session

    def get_default_screen(self) -> AgentScreen:
        return self.main

    def _show(self, event) -> None:
        self.main.show_event(event)

    async def on_mount(self) -> None:
        await self.session.start()
        if self.line is not None and self.ring_after is not None:
            self.set_timer(self.ring_after, self.ring)

    async def ring(self) -> None:
        """The line rings on the seat (and is answered at once with auto_answer)."""
        await self.main.ring(self.line)
        if self.auto_answer:
            await self.main.action_answer()

    async def on_unmount(self) -> None:
        await self.session.close()
