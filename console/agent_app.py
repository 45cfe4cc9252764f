"""The agent console: from a ringing call to a saved ticket.

    hotline console --seat 12 --agent A012 [--call demo|FILE.wav|device] [--caller 138…]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import asyncpg
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from db.calls import CallStore
from db.rules import TicketDraft, TicketValidationError
from db.seat_state import BREAK_REASONS, change_state, heartbeat, sign_in
from db.tickets import TicketStore
from db.workdays import SHANGHAI
from geo.service import AddressTracker
from kb.classify import suggest_type
from speech.audio import AudioError
from speech.recognizer import CallTranscriber, Ended, Final, Partial, RecognizerPool
from speech.recorder import CallRecorder, recording_path

from .messages import CallEnded, TranscriptFinal, TranscriptPartial
from .services.context import ConsoleContext
from .widgets.address import AddressPane
from .widgets.knowledge import KnowledgePane
from .widgets.seat_bar import SeatBar
from .widgets.ticket_form import TicketForm
from .widgets.transcript import TranscriptPane

HEARTBEAT_SECONDS = 10
KB_UTTERANCES = 3  # the knowledge base is searched with the last few utterances


class BreakReason(ModalScreen[str | None]):
    """Choose why the seat goes on a break."""

    BINDINGS = [Binding("escape", "dismiss(None)", "取消")]

    def compose(self) -> ComposeResult:
        with Vertical(id="break-dialog"):
            yield Static("小休原因（回车确认，Esc取消）")
            yield OptionList(*[Option(r, id=r) for r in BREAK_REASONS], id="break-reasons")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class AgentConsole(App):
    CSS_PATH = "agent.tcss"
    TITLE = "淄博12345 座席"
    BINDINGS = [
        Binding("f2", "toggle_break", "小休"),
        Binding("f3", "answer", "接听"),
        Binding("f4", "hang_up", "挂断"),
        Binding("f5", "confirm_address(0)", "地址"),
        Binding("f6", "confirm_address(1)", "地址2", show=False),
        Binding("f7", "confirm_address(2)", "地址3", show=False),
        Binding("f8", "direct", "直办"),
        Binding("ctrl+s", "save", "保存"),
        Binding("ctrl+f", "focus_search", "查址"),
        Binding("f10", "sign_out", "签退"),
    ]

    def __init__(self, ctx: ConsoleContext, line=None, ring_after: float | None = None,
                 auto_answer: bool = False, clock=time.monotonic,
                 now=lambda: dt.datetime.now(SHANGHAI)):
        super().__init__()
        self.ctx = ctx
        self.now = now  # wall time (Asia/Shanghai); injectable for snapshots
        self.line = line
        self.ring_after = ring_after
        self.auto_answer = auto_answer
        self.clock = clock
        self.phase = "idle"  # idle | ringing | talking | wrapup
        self.state = "离线"
        self.incoming = None
        self.call_id: int | None = None
        self.finals: list[str] = []
        self.tracker = AddressTracker(ctx.matcher)
        self.transcriber: CallTranscriber | None = None
        self.recorder: CallRecorder | None = None
        self.pool = RecognizerPool(ctx.model) if ctx.model is not None else None
        self.conn: asyncpg.Connection | None = None
        self.address_latencies_ms: list[float] = []
        self._hang_up = threading.Event()  # asks a call without recognition to end
        self.saved: list[str] = []  # ticket numbers saved in this session
        self._replayer: asyncio.Task | None = None

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield SeatBar(self.ctx.seat_id, self.ctx.agent_id, clock=self.clock, id="seat-bar")
        yield Static("等待来电", id="caller")
        with Horizontal(id="live"):
            yield TranscriptPane(id="transcript")
            with Vertical(id="side"):
                yield AddressPane(id="address")
                yield KnowledgePane(id="knowledge")
        yield TicketForm([(c.path.split("/", 1)[-1], c.code) for c in self.ctx.categories], id="form")
        yield Footer()

    async def on_mount(self) -> None:
        self.conn = await asyncpg.connect(self.ctx.dsn)
        await sign_in(self.conn, self.ctx.seat_id, self.ctx.agent_id)
        self._show_state("就绪")
        self.set_interval(HEARTBEAT_SECONDS, self._heartbeat)
        self._replayer = asyncio.create_task(self.ctx.writer.run_replayer())
        if self.ctx.model is None:
            self.query_one(TranscriptPane).clear(
                f"[yellow]语音转写不可用：{self.ctx.model_problem}（hotline models fetch 安装中文模型）[/]")
        if self.line is not None and self.ring_after is not None:
            self.set_timer(self.ring_after, self.ring)

    async def on_unmount(self) -> None:
        if self.transcriber:
            self.transcriber.stop()
        if self._replayer:
            self._replayer.cancel()
        if self.conn and not self.conn.is_closed():
            await self.conn.close()
        await self.ctx.writer.close()

    # -- seat ------------------------------------------------------------------------------------
    def _show_state(self, state: str, reason: str = "") -> None:
        self.state = state
        self.query_one(SeatBar).set_state(state, reason)

    async def _set_state(self, state: str, reason: str | None = None) -> None:
        await change_state(self.conn, self.ctx.seat_id, self.ctx.agent_id, state, reason)
        self._show_state(state, reason or "")

    async def _heartbeat(self) -> None:
        await heartbeat(self.conn, self.ctx.seat_id, self.ctx.agent_id)

    async def action_toggle_break(self) -> None:
        if self.phase != "idle":
            self.notify("通话中不能小休", severity="warning")
            return
        if self.state == "小休":
            await self._set_state("就绪")
            return

        async def chosen(reason: str | None) -> None:
            if reason:
                await self._set_state("小休", reason)

        self.push_screen(BreakReason(), chosen)

    async def action_sign_out(self) -> None:
        if self.phase in ("ringing", "talking"):
            self.notify("通话中不能签退", severity="warning")
            return
        await self._set_state("离线")
        self.exit()

    # -- call ------------------------------------------------------------------------------------
    async def ring(self) -> None:
        if self.phase != "idle" or self.state != "就绪" or self.line is None:
            return
        try:
            self.incoming = self.line.incoming()
        except (AudioError, OSError) as exc:  # e.g. the headset is not plugged in
            self.notify(f"无法接入来电：{exc}", severity="error", timeout=10)
            return
        self.phase = "ringing"
        number = self.incoming.caller_number
        self.call_id = await CallStore(self.conn).ring(self.ctx.seat_id, number, self.now(),
                                                       self.ctx.agent_id)
        earlier = await TicketStore(self.conn, self.ctx.rules).by_caller(number, 3)
        history = "；".join(f"{r['ticket_no']} {r['ticket_type']} {r['status']}" for r in earlier)
        self.query_one("#caller", Static).update(
            f"[b red]来电[/] {number}  " + (f"[yellow]重复来电[/] {history}" if earlier else "首次来电")
            + "  F3接听")
        self.query_one(TicketForm).set_caller(number)
        self.bell()
        if self.auto_answer:
            await self.action_answer()

    async def action_answer(self) -> None:
        if self.phase != "ringing":
            return
        self.phase = "talking"
        await self._set_state("通话中")
        self.query_one("#caller", Static).update(f"[b red]通话中[/] {self.incoming.caller_number}  F4挂断")
        await CallStore(self.conn).answer(self.call_id, self.now())
        self.finals = []
        self.tracker = AddressTracker(self.ctx.matcher)
        when = self.now()
        self.recorder = CallRecorder(recording_path(self.ctx.recordings, self.ctx.seat_id, when,
                                                    self.incoming.caller_number), self.incoming.channels)
        if self.pool is None:
            self._hang_up.clear()
            self._drain_without_recognition()
            return
        self.query_one(TranscriptPane).clear()
        self.transcriber = CallTranscriber(self.pool.take(), self.incoming.source, self._speech_event,
                                           on_audio=self.recorder)
        self.transcriber.start()

    @work(thread=True)
    def _drain_without_recognition(self) -> None:
        """No model: the call is still recorded."""
        seconds = 0.0
        for chunk in self.incoming.source.chunks():
            if self._hang_up.is_set():
                break
            if hasattr(chunk, "pcm"):
                self.recorder(chunk)
                seconds = chunk.start + chunk.seconds
        self.post_message(CallEnded(seconds, "source ended"))

    def _speech_event(self, event) -> None:
        """Called on the recognition thread: hand over to the UI thread as a message."""
        if isinstance(event, Partial):
            self.post_message(TranscriptPartial(event.text, event.audio_end))
        elif isinstance(event, Final):
            self.post_message(TranscriptFinal(event.text, event.start, event.end))
        elif isinstance(event, Ended):
            self.post_message(CallEnded(event.seconds, event.reason))

    def on_transcript_partial(self, message: TranscriptPartial) -> None:
        self.query_one(TranscriptPane).partial(message.text)
        self._update_address("".join(self.finals) + message.text, message.posted)

    async def on_transcript_final(self, message: TranscriptFinal) -> None:
        self.finals.append(message.text)
        self.query_one(TranscriptPane).final(message.start, message.text)
        said = "".join(self.finals)
        self._update_address(said, message.posted)
        if self.ctx.kb is not None:
            self.run_worker(self._search_kb("".join(self.finals[-KB_UTTERANCES:])),
                            group="kb", exclusive=True)
        form = self.query_one(TicketForm)
        category = self.ctx.category_model.suggest(said) if self.ctx.category_model else None
        form.suggest(suggest_type(said).value,
                     category.value if category and category.confidence >= 0.2 else None)
        form.draft_content("来电人反映：" + "，".join(self.finals) + "。")
        await CallStore(self.conn).add_utterance(self.call_id, message.text, message.start, message.end)

    async def _search_kb(self, said: str) -> None:
        """Search off the UI loop (sentence vectors take tens of ms); a newer search cancels it."""
        result = await asyncio.to_thread(self.ctx.kb.search, said)
        self.query_one(KnowledgePane).show(result)

    def _update_address(self, said: str, posted: float) -> None:
        if self.query_one(AddressPane).confirmed is not None:
            return
        self.query_one(AddressPane).show(self.tracker.update(said))
        self.address_latencies_ms.append((time.monotonic() - posted) * 1000)

    async def on_call_ended(self, message: CallEnded) -> None:
        if self.phase != "talking":
            return
        self.phase = "wrapup"
        if self.transcriber and self.pool:
            self.transcriber.join(1.0)  # Ended is its last act
            if not self.transcriber.is_alive():
                self.pool.give_back(self.transcriber.recognizer)  # warm for the next call
        seconds = self.recorder.close() if self.recorder else None
        await CallStore(self.conn).hang_up(self.call_id, self.now(),
                                           str(self.recorder.path) if self.recorder else None, seconds)
        self.query_one("#caller", Static).update(
            f"[yellow]已挂断[/] {self.incoming.caller_number}  通话 {int(message.seconds)}秒  话后整理中：确认地址，Ctrl+S保存")
        await self._set_state("话后整理")
        await self._refresh_ticket_info()

    async def action_hang_up(self) -> None:
        if self.phase == "talking" and self.transcriber:
            self.transcriber.stop()  # the Ended event finishes the call
        elif self.phase == "talking":
            self._hang_up.set()  # the recording thread stops and reports CallEnded
        elif self.phase == "ringing":
            self.phase = "idle"
            self.query_one("#caller", Static).update("未接来电")

    # -- address ---------------------------------------------------------------------------------
    async def action_confirm_address(self, index: int) -> None:
        address = self.query_one(AddressPane).confirm(index)
        if address is None:
            self.notify("没有这个地址候选", severity="warning")
            return
        open_tickets = await self.conn.fetch(
            """SELECT t.ticket_no, t.ticket_type, s.status FROM tickets t
               JOIN ticket_status s ON s.ticket_id = t.id
               WHERE t.address_code = $1 AND s.status NOT IN ('已归档', '直办结', '已回访')
               ORDER BY t.id DESC LIMIT 3""", address.address_code)
        if open_tickets:
            self.notify("同地址未结工单：" + "；".join(f"{r['ticket_no']} {r['status']}" for r in open_tickets),
                        title="同址工单", timeout=8)
        await self._refresh_ticket_info()

    def action_focus_search(self) -> None:
        self.query_one("#address-search", Input).focus()

    @on(Input.Submitted, "#address-search")
    def typed_address(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one(AddressPane).show(self.ctx.matcher.match(event.value))
            self.query_one("#address-options", OptionList).focus()

    @on(OptionList.OptionSelected, "#address-options")
    async def picked_address(self, event: OptionList.OptionSelected) -> None:
        await self.action_confirm_address(event.option_index)

    @on(Select.Changed)
    async def form_changed(self) -> None:
        await self._refresh_ticket_info()

    async def _refresh_ticket_info(self):
        """Show (and return) the unit the ticket would go to, and its deadline."""
        form = self.query_one(TicketForm)
        address = self.query_one(AddressPane).confirmed
        unit = await self.ctx.route(self.conn, address, form.category)
        due = self.ctx.rules.deadline(form.ticket_type, form.urgency, self.now())
        form.info(f"承办单位：{unit.name if unit else '—'}   办理时限：{due:%m-%d %H:%M}")
        return unit

    # -- saving ----------------------------------------------------------------------------------
    async def action_save(self, handling_mode: str = "派单", kb_article_id: str | None = None) -> None:
        if self.phase not in ("wrapup", "talking", "idle"):
            return
        form = self.query_one(TicketForm)
        address = self.query_one(AddressPane).confirmed
        unit = await self._refresh_ticket_info()
        draft = TicketDraft(
            ticket_type=form.ticket_type, content=form.content, caller_number=form.caller_number,
            urgency=form.urgency, handling_mode=handling_mode, category_code=form.category,
            address_code=address.address_code if address else None,
            address_text=address.full_address if address else "",
            unit_code=unit.code if (unit and handling_mode == "派单") else None,
            kb_article_id=kb_article_id, call_id=self.call_id, seat_id=self.ctx.seat_id,
            agent_id=self.ctx.agent_id)
        try:
            submission = await self.ctx.writer.submit(draft)
        except TicketValidationError as exc:
            form.info("[red]" + "；".join(exc.errors.values()) + "[/]")
            self.notify("工单未保存：" + "；".join(exc.errors.values()), severity="error")
            return
        if submission.stored:
            number = submission.stored.ticket_no
            self.notify(f"工单 {number} 已保存" + (f"，派 {unit.name}" if unit and handling_mode == "派单" else "，直办结"))
        else:
            number = "（已暂存本地，数据库恢复后自动补录）"
            self.notify("数据库不可用：工单已暂存本地，恢复后自动补录", severity="warning")
        self.saved.append(number)
        await self._finish_call()

    async def action_direct(self) -> None:
        hit = self.query_one(KnowledgePane).selected()
        if hit is None:
            self.notify("没有知识库答案可直办", severity="warning")
            return
        await self.action_save("直办", hit.article.id)

    async def _finish_call(self) -> None:
        self.phase = "idle"
        self.incoming, self.call_id, self.transcriber = None, None, None
        self.query_one(AddressPane).reset()
        self.query_one(KnowledgePane).reset()
        self.query_one(TicketForm).reset()
        self.query_one("#caller", Static).update(f"等待来电  上一张工单 {self.saved[-1]}")
        if self.state != "就绪":
            await self._set_state("就绪")
