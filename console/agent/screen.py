"""The agent's main screen: renders the call session's events, sends the agent's keys to it."""

from __future__ import annotations

import time

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from console.base import KeyBar

from domain.category_search import CategoryFinder
from domain.seats import SeatStateError
from domain.tickets import TicketValidationError
from domain.vocabulary import CallPhase, HandlingMode, SeatState
from db.outbox import OutboxError
from floor.session import (AddressSuggested, Answered, CallFinished, CallHeld, CallSession, DatabaseStatus,
                           Heard, KeyPressed, KnowledgeFound, Missed, PhoneStatus, Ringing, SeatChanged,
                           SessionEvent, SessionRefused, TicketSaved, TicketSuggested)

from .break_reason import BreakReasonScreen
from .confirm import ConfirmScreen
from .transfer import TransferPrompt
from .widgets.address import AddressPane
from .widgets.caller_line import CallerLine
from .widgets.knowledge import KnowledgePane
from .widgets.seat_bar import SeatBar
from .widgets.ticket_form import TicketForm
from .widgets.transcript import TranscriptPane


class AgentScreen(Screen):
    # Ctrl keys win over the focused field's own (an Input's ctrl+e/k/f edit the line): the
    # agent's shortcuts work wherever the cursor is.
    BINDINGS = [
        Binding("f2", "toggle_break", "小休"),
        Binding("f3", "answer", "接听"),
        Binding("f4", "hang_up", "挂断"),
        Binding("f5", "confirm_address(0)", "地址"),
        Binding("f6", "confirm_address(1)", "地址2", show=False),
        Binding("f7", "confirm_address(2)", "地址3", show=False),
        Binding("f8", "direct", "直办"),
        Binding("ctrl+b", "hold", "保持"),
        Binding("ctrl+t", "transfer", "转接"),
        Binding("ctrl+s", "save", "保存"),
        Binding("ctrl+f", "focus_search", "查址", show=False, priority=True),  # the panes' titles
        Binding("ctrl+e", "focus_content", "内容", show=False, priority=True),  # say these keys
        Binding("ctrl+k", "focus_category", "分类", show=False, priority=True),
        Binding("ctrl+n", "edit_caller", "改号码", show=False, priority=True),
        Binding("f10", "sign_out", "签退"),
    ]

    def __init__(self, session: CallSession, clock=time.monotonic):
        super().__init__(name="agent")
        self.session = session
        self.clock = clock
        self.address_latencies_ms: list[float] = []  # recognised → address pane updated

    def compose(self) -> ComposeResult:
        ctx = self.session.ctx
        yield SeatBar(ctx.seat_id, ctx.agent_id, clock=self.clock, id="seat-bar")
        yield CallerLine("等待来电", id="caller")
        with Horizontal(id="live"):
            yield TranscriptPane(id="transcript")
            with Vertical(id="side"):
                yield AddressPane(id="address")
                yield KnowledgePane(id="knowledge")
        yield TicketForm(CategoryFinder(ctx.categories), id="form")
        yield KeyBar()

    # The call keys of the moment: the footer (80 columns over SSH) shows only what the phase
    # allows; a key pressed out of its phase does nothing.
    _PHASE_KEYS = {"answer": {CallPhase.RINGING}, "hang_up": {CallPhase.TALKING},
                   "hold": {CallPhase.TALKING}, "transfer": {CallPhase.TALKING},
                   "toggle_break": {CallPhase.IDLE}, "sign_out": {CallPhase.IDLE}}

    def check_action(self, action: str, parameters) -> bool | None:
        phases = self._PHASE_KEYS.get(action)
        return phases is None or self.session.phase in phases

    def on_mount(self) -> None:
        if self.session.ctx.model is None:
            self.query_one(TranscriptPane).clear(
                f"[yellow]语音转写不可用：{escape(self.session.ctx.model_problem)}（hotline models fetch 安装中文模型）[/]")

    # -- rendering the session -------------------------------------------------------------------
    def show_event(self, event: SessionEvent) -> None:
        """Called by the session (on the UI loop) for everything that happens on the seat."""
        caller = self.query_one(CallerLine)
        form = self.query_one(TicketForm)
        self.refresh_bindings()  # the phase may have moved on
        if isinstance(event, DatabaseStatus):
            self.query_one(SeatBar).note = "" if event.online else "[b red]数据库连接中断，工单暂存本机[/]"
            if event.online:
                self.notify("数据库已恢复，暂存的记录正在补录")
        elif isinstance(event, SeatChanged):
            self.query_one(SeatBar).set_state(event.state, event.reason)
        elif isinstance(event, PhoneStatus):
            self.query_one(SeatBar).phone = event.text if event.registered else f"[b red]{escape(event.text)}[/]"
        elif isinstance(event, KeyPressed):
            self.query_one(TranscriptPane).key(event.digit)
        elif isinstance(event, CallHeld):
            self.query_one(SeatBar).note = "[b yellow]通话保持中（Ctrl+B 恢复）[/]" if event.on_hold else ""
        elif isinstance(event, Ringing):
            caller.ringing(event.caller_number, event.history)
            form.set_caller(event.caller_number)
            self.app.bell()
        elif isinstance(event, Answered):
            caller.talking(event.caller_number)
            if event.transcribing or event.captions:
                self.query_one(TranscriptPane).clear()
            self.query_one(TranscriptPane).captions(event.captions)
        elif isinstance(event, Missed):
            caller.missed(event.caller_number)
        elif isinstance(event, Heard):
            pane = self.query_one(TranscriptPane)
            pane.final(event.start, event.text, event.speaker) if event.final else pane.partial(event.text, event.speaker)
        elif isinstance(event, AddressSuggested):
            self.query_one(AddressPane).show(event.result, typed=event.recognised_at is None)
            if event.recognised_at is not None:
                self.address_latencies_ms.append((time.monotonic() - event.recognised_at) * 1000)
        elif isinstance(event, KnowledgeFound):
            self.query_one(KnowledgePane).show(event.result)
        elif isinstance(event, TicketSuggested):
            form.suggest(event.ticket_type, event.category_code)
            if event.content is not None:  # None: suggested from what the agent typed
                form.draft_content(event.content)
        elif isinstance(event, CallFinished):
            caller.wrapping_up(event.caller_number, event.seconds)
            self._refresh_ticket_info()
        elif isinstance(event, TicketSaved):
            if event.number is None:
                self.notify("数据库不可用：工单已暂存本地，恢复后自动补录", severity="warning")
            else:
                done = f"，派 {event.unit_name}" if event.unit_name else (
                    "，直办结" if event.handling_mode == HandlingMode.DIRECT else "")
                self.notify(f"工单 {event.number} 已保存{done}")
            self.query_one(AddressPane).reset()
            self.query_one(KnowledgePane).reset()
            form.reset()
            caller.waiting(self.session.saved[-1])

    def _refresh_ticket_info(self) -> None:
        form = self.query_one(TicketForm)
        unit, due = self.session.ticket_info(form.ticket_type, form.urgency, form.category)
        form.info(f"承办单位：{unit.name if unit else '—'}   办理时限：{due:%m-%d %H:%M}")

    async def _run(self, command) -> bool:
        """Carry out a session command; a refusal is shown to the agent, not raised."""
        try:
            await command
            return True
        except (SessionRefused, SeatStateError) as exc:
            self.notify(str(exc), severity="warning")
            return False

    # -- seat ------------------------------------------------------------------------------------
    async def action_toggle_break(self) -> None:
        if self.session.state == SeatState.BREAK:
            await self._run(self.session.back_to_ready())
            return
        if self.session.phase != CallPhase.IDLE:
            self.notify("通话中不能小休", severity="warning")
            return

        async def chosen(reason: str | None) -> None:
            if reason:
                await self._run(self.session.take_break(reason))

        self.app.push_screen(BreakReasonScreen(), chosen)

    async def action_sign_out(self) -> None:
        if await self._run(self.session.sign_out()):
            self.app.exit()

    # -- call ------------------------------------------------------------------------------------
    async def ring(self, line) -> None:
        await self._run(self.session.ring(line))

    async def action_answer(self) -> None:
        await self._run(self.session.answer())

    async def action_hang_up(self) -> None:
        await self._run(self.session.hang_up())

    async def action_hold(self) -> None:
        await self._run(self.session.hold())

    def action_transfer(self) -> None:
        """Ask for the number, then REFER the caller to it."""
        async def to(number: str | None) -> None:
            if number:
                if await self._run(self.session.transfer(number.strip())):
                    self.notify(f"已转接 {number.strip()}")

        self.app.push_screen(TransferPrompt(), to)

    # -- address ---------------------------------------------------------------------------------
    async def action_confirm_address(self, index: int) -> None:
        try:
            address, open_tickets = await self.session.confirm_address(index)
        except SessionRefused as exc:
            self.notify(str(exc), severity="warning")
            return
        self.query_one(AddressPane).show_confirmed(address)
        if open_tickets:
            self.notify("同地址未结工单：" + "；".join(f"{r['ticket_no']} {r['status']}" for r in open_tickets),
                        title="同址工单", timeout=8)
        self._refresh_ticket_info()

    def action_focus_search(self) -> None:
        self.query_one(AddressPane).focus_search()

    # -- the form --------------------------------------------------------------------------------
    def action_focus_content(self) -> None:
        self.query_one(TicketForm).focus_content()

    def action_focus_category(self) -> None:
        self.query_one("#category-search").focus()

    def action_edit_caller(self) -> None:
        self.query_one(TicketForm).edit_caller()

    @on(TicketForm.ContentTyped)
    def _content_typed(self, message: TicketForm.ContentTyped) -> None:
        """Typed as the citizen said it: knowledge and suggestions follow, as for speech."""
        self.run_worker(self.session.typed_content(message.text), group="typed", exclusive=True)

    @on(AddressPane.SearchRequested)
    def _search(self, message: AddressPane.SearchRequested) -> None:
        self.run_worker(self.session.search_address(message.text), group="address", exclusive=True)

    @on(AddressPane.ConfirmRequested)
    async def _confirm(self, message: AddressPane.ConfirmRequested) -> None:
        await self.action_confirm_address(message.index)

    @on(TicketForm.Changed)
    def _form_changed(self) -> None:
        self._refresh_ticket_info()

    # -- saving ----------------------------------------------------------------------------------
    async def action_save(self, handling_mode: str = HandlingMode.DISPATCH,
                          kb_article_id: str | None = None) -> None:
        form = self.query_one(TicketForm)
        self._refresh_ticket_info()
        try:
            await self.session.save(form.values(), handling_mode, kb_article_id)
        except SessionRefused as exc:
            self.notify(str(exc), severity="warning")
        except OutboxError as exc:  # nothing was acknowledged: the form keeps the ticket
            form.info("[b red]工单未保存：数据库不可用且本机无法暂存（磁盘已满或不可写），请勿关闭，联系班长[/]")
            self.notify(f"工单未保存：本机暂存失败（{escape(exc.strerror or str(exc))}）", severity="error",
                        timeout=30)
        except TicketValidationError as exc:
            reasons = "；".join(exc.errors.values())
            form.info(f"[red]{escape(reasons)}[/]")
            self.notify("工单未保存：" + reasons, severity="error")

    async def action_direct(self) -> None:
        pane = self.query_one(KnowledgePane)
        await self._direct(pane.selected(), pane)

    @on(KnowledgePane.AnswerChosen)
    async def _answer_chosen(self, message: KnowledgePane.AnswerChosen) -> None:
        await self._direct(message.hit, self.query_one(KnowledgePane))

    async def _direct(self, hit, pane: KnowledgePane) -> None:
        """直办 with the answer read out; one the system is not confident of is confirmed first.
        The ticket records which article was read (kb_article_id)."""
        if hit is None:
            self.notify("没有知识库答案可直办", severity="warning")
            return
        if pane.is_confident(hit):
            await self.action_save(HandlingMode.DIRECT, hit.article.id)
            return

        async def decided(yes: bool | None) -> None:
            if yes:
                await self.action_save(HandlingMode.DIRECT, hit.article.id)

        self.app.push_screen(ConfirmScreen(
            f"“{escape(hit.article.title)}”不是可信的答案（置信度 {hit.confidence:.2f}）。\n"
            "确认已按此答案答复市民，直办结案？"), decided)
