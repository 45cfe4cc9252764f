"""The supervisor's wallboard: 150 seats as on the floor, today's figures, alerts.

Live by PostgreSQL LISTEN/NOTIFY (seat events, heartbeats, call activity); the
one-second timer only re-draws times in state and checks heartbeats it already knows.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

import asyncpg
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Sparkline, Static

from db.wallboard import AlertLimits, seat_detail, seat_snapshot, today_figures
from db.workdays import SHANGHAI

SHORT = {"就绪": "就绪", "通话中": "通话", "话后整理": "整理", "小休": "小休", "离线": "离线"}
STATE_CLASS = {"就绪": "ready", "通话中": "talking", "话后整理": "wrapup", "小休": "break", "离线": "offline"}
CHANNELS = ("seat_events", "seat_heartbeats", "hotline_activity")


@dataclass
class SeatView:
    seat_id: int
    row: int
    col: int
    state: str = "离线"
    reason: str = ""
    agent: str = ""
    since: float = field(default_factory=time.time)  # epoch seconds
    heartbeat: float | None = None

    def shown_state(self, now: float, limits: AlertLimits) -> str:
        """The state to show: a seat whose console stopped beating is offline."""
        if self.state != "离线" and (self.heartbeat is None or now - self.heartbeat > limits.offline_seconds):
            return "离线"
        return self.state

    def alert(self, now: float, limits: AlertLimits) -> str | None:
        minutes = (now - self.since) / 60
        shown = self.shown_state(now, limits)
        if shown == "离线" and self.state != "离线":
            return f"座席{self.seat_id:03d} 心跳中断（{self.agent}）"
        if shown == "通话中" and minutes > limits.long_call_minutes:
            return f"座席{self.seat_id:03d} 通话超过{limits.long_call_minutes:g}分钟"
        if shown == "话后整理" and minutes > limits.wrapup_minutes:
            return f"座席{self.seat_id:03d} 话后整理超时"
        if shown == "小休" and minutes > limits.break_minutes:
            return f"座席{self.seat_id:03d} 小休超时（{self.reason}）"
        return None


@dataclass
class Notified(Message):
    channel: str
    payload: dict
    received: float


class SeatTile(Static, can_focus=True):
    def __init__(self, view: SeatView, **kwargs):
        super().__init__(**kwargs)
        self.view = view

    def show(self, now: float, limits: AlertLimits) -> None:
        v = self.view
        state = v.shown_state(now, limits)
        seconds = int(now - v.since)
        self.set_classes(f"seat {STATE_CLASS[state]}" + (" alert" if v.alert(now, limits) else ""))
        label = SHORT[state] if state != "小休" else (v.reason or "小休")[:2]
        timer = "" if state == "离线" else f" {min(seconds // 60, 99)}:{seconds % 60:02d}"
        self.update(f"{v.seat_id:03d} {v.agent[:5]}\n{label}{timer}")


class SeatDetail(ModalScreen):
    BINDINGS = [Binding("escape", "dismiss", "关闭")]

    def __init__(self, seat_id: int, detail: dict):
        super().__init__()
        self.seat_id, self.detail = seat_id, detail

    def compose(self) -> ComposeResult:
        call = self.detail["call"]
        lines = [f"[b]座席 {self.seat_id:03d}[/b]"]
        if call:
            utterances = json.loads(call["transcript"]) if isinstance(call["transcript"], str) else call["transcript"]
            lines.append(f"当前通话 {call['caller_number']}")
            lines += [f"  {u.get('text', '')}" for u in utterances[-6:]] or ["  （尚无转写）"]
        else:
            lines.append("当前无通话")
        lines.append(f"今日工单 {len(self.detail['tickets'])}")
        lines += [f"  {t['ticket_no']} {t['ticket_type']} {t['status']} {t['content'][:20]}"
                  for t in self.detail["tickets"][:10]]
        with VerticalScroll(id="detail"):
            yield Static("\n".join(lines))


class Wallboard(App):
    CSS_PATH = "wallboard.tcss"
    TITLE = "淄博12345 班长看板"
    BINDINGS = [Binding("enter", "drill", "座席详情"), Binding("q", "quit", "退出")]

    def __init__(self, dsn: str, seats, limits: AlertLimits, now=lambda: dt.datetime.now(SHANGHAI)):
        super().__init__()
        self.dsn = dsn
        self.limits = limits
        self.now = now
        self.views = {s.id: SeatView(s.id, s.row, s.col) for s in seats}
        self.rows = max(s.row for s in seats)
        self.cols = max(s.col for s in seats)
        self.notify_lags_ms: list[float] = []
        self._figures_stale = True
        self.conn: asyncpg.Connection | None = None
        self.listener: asyncpg.Connection | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            grid = Grid(id="floor")
            grid.styles.grid_size_columns = self.cols
            grid.styles.grid_size_rows = self.rows
            with grid:
                for row in range(1, self.rows + 1):
                    for col in range(1, self.cols + 1):
                        view = next((v for v in self.views.values() if v.row == row and v.col == col), None)
                        if view:
                            yield SeatTile(view, id=f"seat-{view.seat_id}")
                        else:
                            yield Static("", classes="aisle")
            with Vertical(id="side"):
                yield Static("", id="counts")
                yield Static("今日来电（每小时）", classes="caption")
                yield Sparkline([0] * 24, id="hourly")
                yield Static("", id="figures")
                yield Static("", id="alerts")
        yield Footer()

    async def on_mount(self) -> None:
        self.conn = await asyncpg.connect(self.dsn)
        self.listener = await asyncpg.connect(self.dsn)
        for channel in CHANNELS:
            await self.listener.add_listener(channel, self._on_notify)
        for r in await seat_snapshot(self.conn):
            view = self.views.get(r["id"])
            if view and r["state"]:
                view.state, view.reason, view.agent = r["state"], r["reason"] or "", r["agent_id"] or ""
                view.since = r["since"].timestamp()
            if view and r["heartbeat"]:
                view.heartbeat = r["heartbeat"].timestamp()
        self.set_interval(1.0, self._tick)
        await self._tick()

    async def on_unmount(self) -> None:
        for c in (self.listener, self.conn):
            if c and not c.is_closed():
                await c.close()

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
            if (board := self._board()) is not None:
                board.query_one(f"#seat-{view.seat_id}", SeatTile).show(time.time(), self.limits)
            self._figures_stale = True  # a ticket is saved just before the seat is 就绪 again
        elif message.channel == "seat_heartbeats":
            view = self.views.get(p["seat_id"])
            if view:
                view.heartbeat = dt.datetime.fromisoformat(p["at"]).timestamp()
        else:
            self._figures_stale = True

    def _board(self) -> Screen | None:
        """The floor screen — also while a seat's detail is open on top of it; None while the
        app is starting or shutting down."""
        if not self.screen_stack or not self.screen_stack[0].query("#counts"):
            return None
        return self.screen_stack[0]

    async def _tick(self) -> None:
        board = self._board()
        if board is None or self.conn is None or self.conn.is_closed():
            return
        now = time.time()
        counts: dict[str, int] = {}
        alerts = []
        for tile in board.query(SeatTile):
            tile.show(now, self.limits)
            state = tile.view.shown_state(now, self.limits)
            counts[state] = counts.get(state, 0) + 1
            if (alert := tile.view.alert(now, self.limits)):
                alerts.append(alert)
        board.query_one("#counts", Static).update(
            "  ".join(f"{s} {counts.get(s, 0)}" for s in ("就绪", "通话中", "话后整理", "小休", "离线")))
        board.query_one("#alerts", Static).update(
            ("[b red]告警[/]\n" + "\n".join(alerts[:12])) if alerts else "[green]无告警[/]")
        if self._figures_stale:
            await self._refresh_figures(board)

    async def _refresh_figures(self, board: Screen) -> None:
        self._figures_stale = False
        f = await today_figures(self.conn, self.now())
        board.query_one("#hourly", Sparkline).data = f["calls_per_hour"]

        def pct(x):
            return f"{x * 100:.0f}%" if x is not None else "—"

        def secs(x):
            return f"{x / 60:.1f}分" if x is not None else "—"

        lines = [
            f"来电 {f['offered']}  接通 {f['answered']}  服务水平(15秒) {pct(f['service_level'])}",
            f"平均通话 {secs(f['handle_s'])}  平均整理 {secs(f['wrapup_s'])}",
            f"工单 {f['tickets']}  直办率 {pct(f['direct_rate'])}",
            "类型 " + " ".join(f"{k}{v}" for k, v in f["by_type"].items()),
            "[b]热点分类[/b] " + "、".join(f"{n}{c}" for n, c in f["categories"]),
            "[b]热点区域[/b] " + "、".join(f"{n}{c}" for n, c in f["hotspots"]),
        ]
        board.query_one("#figures", Static).update("\n".join(lines))

    async def action_drill(self) -> None:
        tile = self.focused
        if isinstance(tile, SeatTile):
            detail = await seat_detail(self.conn, tile.view.seat_id, self.now())
            self.push_screen(SeatDetail(tile.view.seat_id, detail))
