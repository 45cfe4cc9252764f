"""Asks for what a step needs: its text (reason, reply, note) and, for 延期申请, the new deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from domain.workdays import SHANGHAI


@dataclass
class StepInput:
    text: str
    due_at: dt.datetime | None = None


class StepPrompt(ModalScreen[StepInput | None]):
    DEFAULT_CSS = """
    StepPrompt { align: center middle; }
    StepPrompt #prompt { width: 64; height: auto; border: thick $primary; background: $surface; padding: 1; }
    StepPrompt Input { margin-top: 1; }
    StepPrompt #problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "取消")]

    def __init__(self, title: str, ask_due: bool = False):
        super().__init__()
        self.title_text, self.ask_due = title, ask_due

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(f"{self.title_text}（回车确认，Esc取消）")
            yield Input(placeholder="说明", id="text")
            if self.ask_due:
                yield Input(placeholder="新期限，如 2026-12-20 18:00", id="due")
            yield Static("", id="problem")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if self.ask_due and event.input.id == "text":
            self.query_one("#due", Input).focus()
            return
        due = None
        if self.ask_due:
            raw = self.query_one("#due", Input).value.strip()
            try:
                due = dt.datetime.fromisoformat(raw.replace(" ", "T")).replace(tzinfo=SHANGHAI)
            except ValueError:
                self.query_one("#problem", Static).update("期限格式：2026-12-20 18:00")
                return
        self.dismiss(StepInput(self.query_one("#text", Input).value, due))
