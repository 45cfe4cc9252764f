"""Asks for what a step needs: its text (reason, reply, note), and where the step needs them
a date (延期申请's new deadline, 督办's answer-by) or a unit (改派)."""

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
    unit_code: str | None = None


class StepPrompt(ModalScreen[StepInput | None]):
    DEFAULT_CSS = """
    StepPrompt { align: center middle; }
    StepPrompt #prompt { width: 64; height: auto; border: thick $primary; background: $surface; padding: 1; }
    StepPrompt Input { margin-top: 1; }
    StepPrompt #problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "取消")]

    def __init__(self, title: str, ask_due: bool = False, ask_unit: bool = False,
                 due_label: str = "新期限，如 2026-12-20 18:00"):
        super().__init__()
        self.title_text, self.ask_due, self.ask_unit, self.due_label = title, ask_due, ask_unit, due_label

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(f"{self.title_text}（回车确认，Esc取消）")
            if self.ask_unit:
                yield Input(placeholder="承办单位代码，如 CGJ", id="unit")
            yield Input(placeholder="说明", id="text")
            if self.ask_due:
                yield Input(placeholder=self.due_label, id="due")
            yield Static("", id="problem")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        order = [i.id for i in self.query(Input)]
        if order.index(event.input.id) < len(order) - 1:  # Enter moves to the next field
            self.query_one(f"#{order[order.index(event.input.id) + 1]}", Input).focus()
            return
        due = None
        if self.ask_due:
            raw = self.query_one("#due", Input).value.strip()
            try:
                due = dt.datetime.fromisoformat(raw.replace(" ", "T")).replace(tzinfo=SHANGHAI)
            except ValueError:
                self.query_one("#problem", Static).update("期限格式：2026-12-20 18:00")
                return
        unit = self.query_one("#unit", Input).value.strip().upper() if self.ask_unit else None
        self.dismiss(StepInput(self.query_one("#text", Input).value, due, unit))
