"""The ticket form, filled in from the call and editable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Select, Static, TextArea

from domain.vocabulary import TicketType, Urgency
from floor.session import TicketInput


class TicketForm(Vertical):
    BORDER_TITLE = "工单 Ctrl+S保存"
    DEFAULT_CSS = """
    TicketForm {
        height: auto;
        max-height: 12;
        border: round $accent;
        border-title-color: $accent;
    }
    TicketForm #form-row {
        height: 3;
    }
    TicketForm #form-row Select {
        width: 14;
    }
    TicketForm #form-row #category {
        width: 1fr;
    }
    TicketForm #form-row #caller-number {
        width: 18;
    }
    TicketForm #content {
        height: 4;
    }
    TicketForm #ticket-info {
        height: 1;
        color: $text-muted;
    }
    """

    class Changed(Message):
        """Type, urgency or category changed: the unit and the deadline may change too."""

    def __init__(self, categories: list[tuple[str, str]], **kwargs):
        super().__init__(**kwargs)
        self.categories = categories  # (label, code)
        self._chosen: set[str] = set()  # selects the agent set by hand

    def compose(self) -> ComposeResult:
        with Horizontal(id="form-row"):
            yield Select([(t.value, t.value) for t in TicketType], value=TicketType.CONSULTATION.value,
                         allow_blank=False, id="ticket-type", prompt="类型")
            yield Select([(u.value, u.value) for u in Urgency], value=Urgency.NORMAL.value,
                         allow_blank=False, id="urgency")
            yield Select(self.categories, id="category", prompt="分类")
            yield Input(placeholder="来电号码", id="caller-number")
        yield TextArea(id="content")
        yield Static("", id="ticket-info")

    # -- reading and filling -------------------------------------------------------------------
    @property
    def ticket_type(self) -> str:
        return str(self.query_one("#ticket-type", Select).value)

    @property
    def urgency(self) -> str:
        return str(self.query_one("#urgency", Select).value)

    @property
    def category(self) -> str | None:
        value = self.query_one("#category", Select).value
        return value if isinstance(value, str) else None  # blank is a sentinel object

    def values(self) -> TicketInput:
        return TicketInput(self.ticket_type, self.urgency, self.category,
                           self.query_one("#caller-number", Input).value,
                           self.query_one("#content", TextArea).text)

    def suggest(self, ticket_type: str | None = None, category: str | None = None) -> None:
        """Fill suggestions in, unless the agent has chosen already."""
        if ticket_type and "ticket-type" not in self._chosen:
            self.query_one("#ticket-type", Select).value = ticket_type
        if category and "category" not in self._chosen:
            self.query_one("#category", Select).value = category

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.has_focus:  # the agent's own choice wins over later suggestions
            self._chosen.add(event.select.id)
        self.post_message(self.Changed())

    def set_caller(self, number: str) -> None:
        self.query_one("#caller-number", Input).value = number

    def draft_content(self, text: str) -> None:
        area = self.query_one("#content", TextArea)
        if not area.has_focus:
            area.text = text

    def info(self, text: str) -> None:
        self.query_one("#ticket-info", Static).update(text)

    def reset(self) -> None:
        self._chosen.clear()
        self.query_one("#ticket-type", Select).value = TicketType.CONSULTATION.value
        self.query_one("#urgency", Select).value = Urgency.NORMAL.value
        self.query_one("#category", Select).clear()
        self.query_one("#caller-number", Input).value = ""
        self.query_one("#content", TextArea).text = ""
        self.info("")
