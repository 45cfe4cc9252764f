"""Asks the agent to confirm a step that should not happen by one key alone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen #confirm { width: 60; height: auto; border: thick $warning; background: $surface; padding: 1; }
    """
    BINDINGS = [Binding("y,enter", "dismiss(True)", "确认"), Binding("n,escape", "dismiss(False)", "取消")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            yield Static("[b]Y[/b]/回车 确认    [b]N[/b]/Esc 取消")
