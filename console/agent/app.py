"""The agent console app: one seat's call session on the agent's screen.

    hotline console --seat 12 --agent A012 [--call sip|demo|FILE.wav|headset] [--caller 138…]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import sys
import threading
import time
from typing import Callable

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen

from domain.seats import SeatStateError
from domain.workdays import SHANGHAI
from floor.context import SeatContext
from floor.session import CallSession, PhoneStatus, Ringing

from .screen import AgentScreen

log = logging.getLogger(__name__)
LEAVE_SECONDS = 1.5  # to sign the seat out when the terminal is gone; then the process ends


class AgentConsole(HotlineApp):
    CSS_PATH = "agent.tcss"
    TITLE = "淄博12345 座席"

    def __init__(self, ctx: SeatContext, line=None, ring_after: float | None = None,
                 auto_answer: bool = False, clock=time.monotonic,
                 now=lambda: dt.datetime.now(SHANGHAI), take_over: bool = False, phone=None,
                 on_registered: Callable[[], None] | None = None):
        super().__init__()
        self.line = line
        # PhoneLine's arguments after the session — (SipSettings, extension, password, headset
        # opener[, known scripts]): calls come from the PBX
        self.phone = phone
        self.on_registered = on_registered  # once, when the phone first registers (the SIP demo dials)
        self.phone_line = None
        self.ring_after = ring_after
        self.auto_answer = auto_answer
        self.main = AgentScreen(CallSession(ctx, self._show, now=now, take_over=take_over), clock=clock)
        self.session = self.main.session
        self._leaving = False
        # run before the hard stop that ends a console whose leaving hangs (os._exit skips every
        # `finally`): the demo stops the PBX it started here, or a lost terminal left it running
        self.at_hard_stop: list[Callable[[], None]] = []

    def lookup_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.session.ctx.dsn)

    def get_default_screen(self) -> AgentScreen:
        return self.main

    def _show(self, event) -> None:
        self.main.show_event(event)
        if self.auto_answer and self.phone_line is not None and isinstance(event, Ringing):
            self.call_later(self.main.action_answer)  # a headless seat (benchmark) answers at once
        if self.on_registered is not None and isinstance(event, PhoneStatus) and event.registered:
            registered, self.on_registered = self.on_registered, None
            registered()

    async def on_mount(self) -> None:
        try:
            await self.session.start()
        except SeatStateError as exc:  # e.g. another console holds the seat
            self.exit(return_code=2, message=str(exc))
            return
        if not self.is_headless:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(sig, lambda s=sig: self.run_worker(self.leave(signal.Signals(s).name)))
            if sys.__stdin__ is not None and sys.__stdin__.isatty():
                self.set_interval(1.0, self._check_terminal)
        if self.line is not None and self.ring_after is not None:
            self.set_timer(self.ring_after, self.ring)
        if self.phone is not None:
            from floor.phone_line import PhoneLine

            self.phone_line = PhoneLine(self.session, *self.phone)
            try:
                await self.phone_line.start()
            except Exception as exc:  # SIP cannot start: the seat works without its phone, and says so
                log.exception("SIP phone failed")
                self.notify(f"话机无法启动：{exc}", severity="error", timeout=30)
                self.phone_line = None

    def _check_terminal(self) -> None:
        """An SSH session that drops or a tmux that is killed can leave the process without a
        terminal and no signal: notice it and leave."""
        try:
            os.tcgetpgrp(sys.__stdin__.fileno())
        except OSError:
            self.run_worker(self.leave("terminal lost"))

    async def leave(self, why: str) -> None:
        """Sign the seat out (ending a call with the reason) and end the process, within
        LEAVE_SECONDS and a little; a hard stop follows if anything hangs."""
        if self._leaving:
            return
        self._leaving = True
        log.warning("leaving: %s", why)
        threading.Timer(LEAVE_SECONDS + 1.0, self._hard_stop).start()
        try:
            await asyncio.wait_for(self.session.leave(f"控制台退出：{why}"), LEAVE_SECONDS)
        except Exception:
            log.exception("could not sign the seat out")
        self.exit(return_code=1)

    def _hard_stop(self) -> None:
        for hook in self.at_hard_stop:
            try:
                hook()
            except Exception:
                log.exception("could not run %s before the hard stop", hook)
        os._exit(1)

    async def ring(self) -> None:
        """The line rings on the seat (and is answered at once with auto_answer)."""
        await self.main.ring(self.line)
        if self.auto_answer:
            await self.main.action_answer()

    async def on_unmount(self) -> None:
        if self.phone_line is not None:
            await self.phone_line.close()
        await self.session.close()
