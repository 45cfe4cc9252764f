"""Asks for the number to transfer the caller to (转接), e.g. a unit's duty phone."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class TransferPrompt(ModalScreen[str | None]):
    DEFAULT_CSS = """
    TransferPrompt { align: center middle; }
    TransferPrompt #transfer { width: 56; height: auto; border: thick $primary; background: $surface; padding: 1; }
    TransferPrompt #problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "取消")]

    def compose(self) -> ComposeResult:
        with Vertical(id="transfer"):
            yield Static("转接到（分机或值班电话，回车确认，Esc取消）")
            yield Input(placeholder="如 8003 或 05332181234", id="number")
            yield Static("", id="problem")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        number = event.value.strip().replace("-", "")
        if not re.fullmatch(r"\d{3,20}", number):
            self.query_one("#problem", Static).update("号码须为3到20位数字")
            return
        self.dismiss(number)
