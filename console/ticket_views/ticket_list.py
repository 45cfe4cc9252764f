"""A screen listing tickets that its user takes lifecycle steps on (the unit's queue, the
督办 view): its own connection, the highlighted ticket, a step refused at once when the ticket's
state does not allow it (before any words are asked), the step's prompt, and the ticket's
history on Enter."""

from __future__ import annotations

import asyncpg
from textual import on
from textual.screen import Screen
from textual.widgets import DataTable

from db.lifecycle import LifecycleStore
from domain.lifecycle import LifecycleError, Request, Role, Step, check_allowed

from .history import HistoryScreen
from .prompt import StepInput, StepPrompt


class TicketListScreen(Screen):
    ID_KEY = "id"  # the ticket id in a row of `tickets`

    def __init__(self, dsn: str, name: str):
        super().__init__(name=name)
        self.dsn = dsn
        self.conn: asyncpg.Connection | None = None
        self.tickets: list[dict] = []

    async def action_reload(self) -> None:
        raise NotImplementedError

    async def on_unmount(self) -> None:
        if self.conn and not self.conn.is_closed():
            await self.conn.close()

    def _current(self) -> dict | None:
        row = self.query_one(DataTable).cursor_row
        return self.tickets[row] if self.tickets and row < len(self.tickets) else None

    async def offer(self, step: Step, role: Role, actor: str, unit_code: str | None = None,
                    prompt: StepPrompt | None = None) -> None:
        """Take `step` on the highlighted ticket, asking `prompt` first when the step needs words."""
        ticket = self._current()
        if ticket is None:
            self.notify("没有工单", severity="warning")
            return
        try:
            check_allowed(await LifecycleStore(self.conn).state(ticket[self.ID_KEY]), step, role, unit_code)
        except LifecycleError as exc:
            self.notify(str(exc), severity="warning", timeout=8)
            return

        async def take(got: StepInput | None) -> None:
            if got is None:
                return
            request = Request(step, role, actor, got.unit_code or unit_code, got.text, due_at=got.due_at)
            try:
                await LifecycleStore(self.conn).apply(ticket[self.ID_KEY], request)
            except LifecycleError as exc:
                self.notify(str(exc), severity="warning", timeout=8)
                return
            self.notify(f"{ticket['ticket_no']} {step}：已记录")
            await self.action_reload()

        if prompt is None:
            await take(StepInput(""))
        else:
            self.app.push_screen(prompt, take)

    @on(DataTable.RowSelected)
    async def _history(self, event: DataTable.RowSelected) -> None:
        """Enter on a ticket: its whole history."""
        ticket = self._current()
        if ticket is not None:
            events = await LifecycleStore(self.conn).history(ticket[self.ID_KEY])
            self.app.push_screen(HistoryScreen(ticket, events))
