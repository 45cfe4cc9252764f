"""The dialog that asks why the seat goes on a break (小休)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from domain.vocabulary import BreakReason


class BreakReasonScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    BreakReasonScreen {
        align: center middle;
    }
    BreakReasonScreen #break-dialog {
        width: 40;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 1;
    }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "取消")]

    def compose(self) -> ComposeResult:
        with Vertical(id="break-dialog"):
            yield Static("小休原因（回车确认，Esc取消）")
            yield OptionList(*[Option(r.value, id=r.value) for r in BreakReason], id="break-reasons")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
