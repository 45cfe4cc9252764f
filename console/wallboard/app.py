"""The supervisor's wallboard app: 150 seats as on the floor, today's figures, alerts.

Live by PostgreSQL LISTEN/NOTIFY (seat events, heartbeats, call activity); the one-second
timer only re-draws times in state and checks the heartbeats it already knows.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

import asyncpg
from textual.message import Message

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen
from db.connect import connect, is_unavailable
from db.seats import SeatStore
from db.wallboard import WallboardStore
from domain.alerts import SeatView
from domain.seats import Seat
from domain.settings import AlertLimits
from domain.workdays import SHANGHAI

from .screen import FloorScreen
from .seat_detail import SeatDetailScreen

CHANNELS = ("seat_events", "seat_heartbeats", "hotline_activity")
CLOSE_SILENT_EVERY = 5  # ticks (seconds) between looks for seats whose console died


@dataclass
class Notified(Message):
    channel: str
    payload: dict
    received: float


class Wallboard(HotlineApp):
    CSS_PATH = "wallboard.tcss"
    TITLE = "淄博12345 班长看板"

    def __init__(self, dsn: str, seats: list[Seat], limits: AlertLimits,
                 now=lambda: dt.datetime.now(SHANGHAI)):
        super().__init__()
        self.dsn = dsn
        self.limits = limits
        self.now = now
        self.views = {s.id: SeatView(s.id, s.row, s.col) for s in seats}
        self.floor = FloorScreen(self.views, limits)
        self.notify_lags_ms: list[float] = []
        self._figures_stale = True
        self.conn: asyncpg.Connection | None = None
        self.listener: asyncpg.Connection | None = None
        self.online = False
        self._next_try = 0.0  # when to try reconnecting (monotonic)
        self._backoff = 0.5
        self._ticks = 0

    def get_default_screen(self) -> FloorScreen:
        return self.floor

    def lookup_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.dsn, masked=True)

    async def on_mount(self) -> None:
        await self._connect()
        self.set_interval(1.0, self._tick)
        await self._tick()

    async def _connect(self) -> bool:
        """(Re)connect, listen, and read every seat's state afresh (events were missed while
        away); False while the database is still away."""
        try:
            conn = await connect(self.dsn, timeout=5)
            listener = await connect(self.dsn, timeout=5)
            for channel in CHANNELS:
                await listener.add_listener(channel, self._on_notify)
            listener.add_termination_listener(lambda _: self._lost())
            seats = await WallboardStore(conn).seats()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self._lost()
            return False
        await self._close()
        self.conn, self.listener, self.online, self._backoff = conn, listener, True, 0.5
        for r in seats:
            view = self.views.get(r["id"])
            if view and r["state"]:
                view.state, view.reason, view.agent = r["state"], r["reason"] or "", r["agent_id"] or ""
                view.since = r["since"].timestamp()
            if view and r["heartbeat"]:
                view.heartbeat = r["heartbeat"].timestamp()
        self._figures_stale = True
        return True

    def _lost(self) -> None:
        if self.online or not self._next_try:
            self._next_try = time.monotonic() + self._backoff
        self.online = False

    async def _close(self) -> None:
        for c in (self.listener, self.conn):
            if c and not c.is_closed():
                c.terminate()

    async def on_unmount(self) -> None:
        await self._close()

    def _on_notify(self, connection, pid, channel, payload) -> None:
        self.post_message(Notified(channel, json.loads(payload), time.time()))

    def on_notified(self, message: Notified) -> None:
        p = message.payload
        if message.channel == "seat_events":
            view = self.views.get(p["seat_id"])
            if view is None:
                return
            at = dt.datetime.fromisoformat(p["at"]).timestamp()
            self.notify_lags_ms.append(max(0.0, (message.received - at) * 1000))
            view.state, view.reason, view.agent, view.since = p["state"], p["reason"] or "", p["agent_id"] or "", at
            view.heartbeat = max(view.heartbeat or 0, at)
            if self.floor.is_mounted:
                self.floor.show_seat(view.seat_id)
            self._figures_stale = True  # a ticket is saved just before the seat is 就绪 again
        elif message.channel == "seat_heartbeats":
            view = self.views.get(p["seat_id"])
            if view:
                view.heartbeat = dt.datetime.fromisoformat(p["at"]).timestamp()
        else:
            self._figures_stale = True

    async def _tick(self) -> None:
        # the floor keeps following while a seat's detail is open on top of it
        if not self.floor.is_mounted:
            return
        if not self.online and time.monotonic() >= self._next_try:
            self._backoff = min(self._backoff * 2, 10.0)
            self._next_try = time.monotonic() + self._backoff
            await self._connect()
        self.floor.tick()
        self.floor.show_connection(self.online)
        if self.online and self._ticks % CLOSE_SILENT_EVERY == 0:
            await self._close_silent_seats()
        self._ticks += 1
        if self._figures_stale and self.online:
            try:
                figures = await WallboardStore(self.conn).today(self.now())
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self._lost()
                return
            self._figures_stale = False
            self.floor.show_figures(figures)

    async def _close_silent_seats(self) -> None:
        """Whoever notices first closes a seat whose console stopped beating (see SeatStore)."""
        try:
            await SeatStore(self.conn).close_silent(self.limits.offline_seconds)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self._lost()

    async def action_drill(self) -> None:
        seat_id = self.floor.focused_seat()
        if seat_id is not None and self.online:
            detail = await WallboardStore(self.conn).seat_detail(seat_id, self.now())
            self.push_screen(SeatDetailScreen(seat_id, detail))
