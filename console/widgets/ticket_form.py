"""The ticket form, filled in from the call and editable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select, Static, TextArea

from db.rules import TICKET_TYPES, URGENCIES


class TicketForm(Vertical):
    BORDER_TITLE = "工单 Ctrl+S保存"

    def __init__(self, categories: list[tuple[str, str]], **kwargs):
        super().__init__(**kwargs)
        self.categories = categories  # (label, code)

    def compose(self) -> ComposeResult:
        with Horizontal(id="form-row"):
            yield Select([(t, t) for t in TICKET_TYPES], value="咨询", allow_blank=False,
                         id="ticket-type", prompt="类型")
            yield Select([(u, u) for u in URGENCIES], value="一般", allow_blank=False, id="urgency")
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

    @property
    def caller_number(self) -> str:
        return self.query_one("#caller-number", Input).value

    @property
    def content(self) -> str:
        return self.query_one("#content", TextArea).text

    def suggest(self, ticket_type: str | None = None, category: str | None = None) -> None:
        """Fill suggestions in, unless the agent has chosen already."""
        if ticket_type and not getattr(self, "_type_chosen", False):
            self.query_one("#ticket-type", Select).value = ticket_type
        if category and not getattr(self, "_category_chosen", False):
            self.query_one("#category", Select).value = category

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.has_focus:  # the agent's own choice wins over later suggestions
            if event.select.id == "ticket-type":
                self._type_chosen = True
            elif event.select.id == "category":
                self._category_chosen = True

    def set_caller(self, number: str) -> None:
        self.query_one("#caller-number", Input).value = number

    def draft_content(self, text: str) -> None:
        area = self.query_one("#content", TextArea)
        if not area.has_focus:
            area.text = text

    def info(self, text: str) -> None:
        self.query_one("#ticket-info", Static).update(text)

    def reset(self) -> None:
        self._type_chosen = self._category_chosen = False
        self.query_one("#ticket-type", Select).value = "咨询"
        self.query_one("#urgency", Select).value = "一般"
        self.query_one("#category", Select).clear()
        self.query_one("#caller-number", Input).value = ""
        self.query_one("#content", TextArea).text = ""
        self.info("")
