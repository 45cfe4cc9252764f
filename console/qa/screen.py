"""The quality inspector's screen: the day's sample, replay with the transcript in sync,
the scorecard with automatic pre-checks, and immutable scores."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import asyncpg
from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.base import KeyBar
from console.display import speaker_tag

from db.qa import QaStore
from domain.privacy import mask
from domain.workdays import SHANGHAI
from quality.checks import run_check
from quality.config import Rubric
from quality.scores import current_score, submit_score
from speech.analysis import analyse
from speech.audio import AudioError
from speech.playback import Player

SEEK_SECONDS = 5.0
log = logging.getLogger(__name__)


def shown(text: str) -> str:
    """What came from callers, agents or files, ready for the screen: numbers masked (again:
    the views mask already), markup escaped."""
    return escape(mask(text or ""))


class InspectionScreen(Screen):
    """The sample, the replay with its transcript, and the scorecard, side by side."""

    DEFAULT_CSS = """
    InspectionScreen .title { text-style: bold; height: 1; }
    InspectionScreen #sample, InspectionScreen #items { border: none; }
    InspectionScreen #call-info { height: auto; color: $text-muted; }
    InspectionScreen #lines { border: round $secondary; }
    InspectionScreen #player { height: 1; text-style: bold; }
    InspectionScreen #ticket { border-top: solid $secondary; }
    InspectionScreen #comment { height: 3; }
    InspectionScreen #total { height: 2; text-style: bold; }
    """

    BINDINGS = [
        Binding("space", "play_pause", "播放/暂停"),
        Binding("left", "seek(-5)", "退5秒"),
        Binding("right", "seek(5)", "进5秒"),
        Binding("plus,equals_sign", "speed(0.25)", "加速", show=False),  # F1 lists them
        Binding("minus", "speed(-0.25)", "减速", show=False),
        Binding("j", "jump", "跳到该句"),
        Binding("t", "toggle_item", "改判该项"),
        Binding("ctrl+s", "submit", "提交评分"),
        Binding("q", "app.quit", "退出", show=False),
    ]

    def __init__(self, dsn: str, day: dt.date, inspector: str, rubric: Rubric,
                 output_device: str | int | None = None):
        super().__init__(name="inspection")
        self.dsn, self.day, self.inspector, self.rubric = dsn, day, inspector, rubric
        self.output_device = output_device
        self.conn: asyncpg.Connection | None = None
        self.sample: list[asyncpg.Record] = []
        self.call_id: int | None = None
        self.lines: list[dict] = []
        self.player: Player | None = None
        self.passed: dict[str, bool] = {}
        self.evidence: dict[str, str] = {}
        self.existing: asyncpg.Record | None = None
        self.current_line = -1

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="sample-pane"):
                yield Static(f"{self.day} 抽检", classes="title", id="title")
                yield OptionList(id="sample")
            with Vertical(id="replay-pane"):
                yield Static("", id="call-info")
                yield OptionList(id="lines")
                yield Static("", id="player")
                yield Static("", id="ticket")
            with Vertical(id="score-pane"):
                yield Static(self.rubric.name, classes="title")
                yield OptionList(id="items")
                yield Input(placeholder="评语", id="comment")
                yield Static("", id="total")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.conn = await asyncpg.connect(self.dsn)
        self.sample = await QaStore(self.conn).sample(self.day)
        options = self.query_one("#sample", OptionList)
        for r in self.sample:
            options.add_option(Option(self._sample_line(r, r["scored"]), id=str(r["call_id"])))
        if not self.sample:
            self.query_one("#call-info", Static).update(f"{self.day} 没有抽检样本：先运行 hotline qa sample --date {self.day}")
            return
        self._show_title()
        options.highlighted = 0  # the riskiest call is open at once
        options.focus()

    @staticmethod
    def _sample_line(r, scored: bool) -> str:
        mark = "[green]✔已评[/]" if scored else "[yellow]○待评[/]"
        return (f"{mark} {r['ring_at'].astimezone(SHANGHAI):%H:%M} {shown(r['agent_id'] or '-')} "
                f"{shown(r['caller_number'])}\n  [dim]{'、'.join(r['reasons'])}[/]")

    async def on_unmount(self) -> None:
        if self.player:
            self.player.stop()
        if self.conn and not self.conn.is_closed():
            await self.conn.close()

    # -- a call ----------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#sample")
    async def open_call(self, event: OptionList.OptionHighlighted) -> None:
        """The highlighted call is the open one: ↑↓ walk the sample, the keys act on it."""
        if event.option.id != str(self.call_id):
            await self.load_call(int(event.option.id))

    async def load_call(self, call_id: int) -> None:
        if self.player:
            self.player.stop()
            self.player = None
        self.call_id = call_id
        inspection = QaStore(self.conn)  # masked views: the inspector's role reads nothing else
        call = await inspection.call(call_id)
        ticket = await inspection.ticket_for_call(call_id)
        raw = call["transcript"]
        # in the order they were said (the agent's last words may be stored after the caller's)
        self.lines = sorted(json.loads(raw) if isinstance(raw, str) else list(raw or []),
                            key=lambda u: u.get("start", 0))
        lines = self.query_one("#lines", OptionList)
        lines.clear_options()
        for u in self.lines:
            s = int(u.get("start", 0))
            lines.add_option(Option(f"{s // 60:02d}:{s % 60:02d} {speaker_tag(u.get('speaker'))}{shown(u.get('text', ''))}"))
        self.current_line = -1
        self.query_one("#call-info", Static).update(
            f"通话 #{call_id}  工号 {shown(call['agent_id'] or '-')}  来电 {shown(call['caller_number'])}  "
            f"{call['ring_at'].astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
        self.query_one("#ticket", Static).update(
            (f"[b]工单[/b] {ticket['ticket_no']} {ticket['ticket_type']} {ticket['handling_mode']} {ticket['status']}\n"
             f"{shown(ticket['address_text'])}\n{shown(ticket['content'][:120])}") if ticket else "[dim]本次通话无工单[/]")
        stats = None
        if call["recording_path"] and Path(call["recording_path"]).exists():
            try:
                self.player = Player(Path(call["recording_path"]), self.output_device, self._on_position)
                stats = analyse(self.player.audio)
            except AudioError as exc:
                self.notify(f"录音无法读取：{exc}", severity="error")
        names = [n for n in ((ticket["compound"], ticket["road"], ticket["community"]) if ticket else ()) if n]
        self.passed, self.evidence = {}, {}
        for item in self.rubric.items:
            result = run_check(item.check, self.lines, names, stats)
            self.passed[item.key] = True if result.passed is None else result.passed
            self.evidence[item.key] = result.evidence
        self.existing = await current_score(self.conn, call_id)
        if self.existing:  # show the submitted grade; a new submission corrects it
            for item in json.loads(self.existing["items"]):
                self.passed[item["key"]] = item["passed"]
        self._show_items()
        self.query_one("#items", OptionList).highlighted = 0  # t acts at once on the first item
        self._show_player()

    def _show_items(self) -> None:
        items = self.query_one("#items", OptionList)
        highlighted = items.highlighted
        items.clear_options()
        for item in self.rubric.items:
            mark = "[green]✔[/]" if self.passed[item.key] else "[red]✘[/]"
            auto = "" if item.check else "[dim](人工)[/] "
            items.add_option(Option(f"{mark} {escape(item.name)} {item.points:g}分 {auto}\n  [dim]{shown(self.evidence[item.key])}[/]"))
        if highlighted is not None:
            items.highlighted = highlighted
        total = sum(i.points for i in self.rubric.items if self.passed[i.key])
        status = (f"已评分 {float(self.existing['total']):g} 分（{self.existing['inspector']}），再次提交即为更正"
                  if self.existing else "未评分")
        self.query_one("#total", Static).update(f"得分 {total:g} / {self.rubric.max_total:g}   {status}")

    # -- replay ----------------------------------------------------------------------------------
    def _on_position(self, seconds: float) -> None:
        """From the playback thread (or a seek): follow in the transcript."""
        try:
            self.app.call_from_thread(self._follow, seconds)
        except RuntimeError:  # already on the UI thread
            self._follow(seconds)

    def _follow(self, seconds: float) -> None:
        index = max((i for i, u in enumerate(self.lines) if u.get("start", 0) <= seconds), default=-1)
        if index != self.current_line and index >= 0:
            self.current_line = index
            self.query_one("#lines", OptionList).highlighted = index
        self._show_player()

    def _show_player(self) -> None:
        if not self.player:
            self.query_one("#player", Static).update("[dim]无录音[/]")
            return
        p = self.player
        state = "⏸" if p.paused else "▶"
        self.query_one("#player", Static).update(
            f"{state} {int(p.position) // 60:02d}:{int(p.position) % 60:02d} / "
            f"{int(p.duration) // 60:02d}:{int(p.duration) % 60:02d}  ×{p.speed:.2f}")

    def action_play_pause(self) -> None:
        if not self.player:
            self.notify("本次通话没有录音", severity="warning")
            return
        if self.player.paused:
            try:
                self.player.play()
            except AudioError as exc:
                log.warning("playback: %s", exc)
                self.notify("无法回放：本机没有可用的播放设备（用 hotline devices 查看；"
                            "hotline qa --device 指定设备）", severity="error", timeout=8)
                return
        else:
            self.player.pause()
        self._show_player()

    def action_seek(self, delta: float) -> None:
        if self.player:
            self.player.seek(self.player.position + delta)

    def action_speed(self, delta: float) -> None:
        if self.player:
            self.player.set_speed(min(2.0, max(1.0, self.player.speed + delta)))
            self._show_player()

    def action_jump(self) -> None:
        index = self.query_one("#lines", OptionList).highlighted
        if self.player and index is not None and index < len(self.lines):
            self.player.seek(self.lines[index].get("start", 0))

    @on(OptionList.OptionSelected, "#lines")
    def jump_to_line(self) -> None:
        self.action_jump()

    # -- scoring ---------------------------------------------------------------------------------
    def action_toggle_item(self) -> None:
        index = self.query_one("#items", OptionList).highlighted
        if self.call_id is None or index is None:
            return
        key = self.rubric.items[index].key
        self.passed[key] = not self.passed[key]
        self.evidence[key] = self.evidence[key].split("（质检员改判）")[0] + "（质检员改判）"
        self._show_items()

    @on(OptionList.OptionSelected, "#items")
    def toggle_selected(self) -> None:
        self.action_toggle_item()

    async def action_submit(self) -> None:
        if self.call_id is None:
            return
        comment = self.query_one("#comment", Input).value
        score_id = await submit_score(self.conn, self.call_id, self.inspector, self.rubric, self.passed,
                                      self.evidence, comment, self.existing["id"] if self.existing else None)
        self.existing = await current_score(self.conn, self.call_id)
        self.notify(f"评分已提交（#{score_id}）" + ("，为更正记录" if self.existing["corrects_id"] else ""))
        self._show_items()
        self._mark_scored(self.call_id)

    def _mark_scored(self, call_id: int) -> None:
        self.sample = [{**r, "scored": True} if r["call_id"] == call_id else r for r in self.sample]
        options = self.query_one("#sample", OptionList)
        row = next(r for r in self.sample if r["call_id"] == call_id)
        options.replace_option_prompt(str(call_id), self._sample_line(row, True))
        self._show_title()

    def _show_title(self) -> None:
        self.query_one("#title", Static).update(
            f"{self.day} 抽检 {len(self.sample)} 通，已评 {sum(r['scored'] for r in self.sample)}")

