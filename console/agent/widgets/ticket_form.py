"""The ticket form, filled in from the call and editable: labelled fields, the category found
by typing, the caller's number protected, the content growing with the screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Select, Static, TextArea

from domain.category_search import CategoryFinder
from domain.tickets import HIDDEN_NUMBER
from domain.vocabulary import TicketType, Urgency
from floor.session import TicketInput

from .category import CategoryPicker

TYPED_PAUSE = 0.6  # seconds of no typing before typed content is searched like speech


class TicketForm(Vertical):
    BORDER_TITLE = "工单 Ctrl+S保存"
    DEFAULT_CSS = """
    TicketForm {
        height: 45%;
        min-height: 10;
        max-height: 26;
        border: round $accent;
        border-title-color: $accent;
    }
    TicketForm #form-row {
        height: 3;
    }
    TicketForm #form-row Select {
        width: 12;
    }
    TicketForm #form-row #caller-number {
        width: 19;
    }
    TicketForm #form-row #caller-number:disabled {
        opacity: 100%;
        color: $text;
    }
    TicketForm #category OptionList {
        overlay: screen;
        constrain: none inside;
        width: 50;
    }
    TicketForm #content {
        height: 1fr;
        min-height: 3;
    }
    TicketForm #ticket-info {
        height: 1;
        color: $text-muted;
    }
    """

    class Changed(Message):
        """Type, urgency or category changed: the unit and the deadline may change too."""

    @dataclass
    class ContentTyped(Message):
        """The agent typed the citizen's request (after a pause): search it as speech is."""

        text: str

    def __init__(self, finder: CategoryFinder, **kwargs):
        super().__init__(**kwargs)
        self.finder = finder
        self._chosen: set[str] = set()  # fields the agent set by hand: suggestions leave them
        self._typed: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="form-row"):
            yield Select([(t.value, t.value) for t in TicketType], value=TicketType.CONSULTATION.value,
                         allow_blank=False, id="ticket-type")
            yield Select([(u.value, u.value) for u in Urgency], value=Urgency.NORMAL.value,
                         allow_blank=False, id="urgency")
            yield CategoryPicker(self.finder, id="category")
            number = Input(placeholder="Ctrl+N输入", id="caller-number", disabled=True)
            number.border_title = "号码 Ctrl+N"
            yield number
        content = TextArea(id="content")
        content.border_title = "诉求内容 Ctrl+E"
        yield content
        yield Static("", id="ticket-info")

    def on_mount(self) -> None:
        for select_id, label in (("#ticket-type", "类型"), ("#urgency", "紧急")):
            self.query_one(select_id, Select).query_one("SelectCurrent").border_title = label

    # -- reading and filling -------------------------------------------------------------------
    @property
    def ticket_type(self) -> str:
        return str(self.query_one("#ticket-type", Select).value)

    @property
    def urgency(self) -> str:
        return str(self.query_one("#urgency", Select).value)

    @property
    def category(self) -> str | None:
        return self.query_one(CategoryPicker).code

    def values(self) -> TicketInput:
        return TicketInput(self.ticket_type, self.urgency, self.category,
                           self.query_one("#caller-number", Input).value,
                           self.query_one("#content", TextArea).text)

    def suggest(self, ticket_type: str | None = None, category: str | None = None) -> None:
        """Fill suggestions in, unless the agent has chosen already."""
        if ticket_type and "ticket-type" not in self._chosen:
            self.query_one("#ticket-type", Select).value = ticket_type
        if category and "category" not in self._chosen:
            self.query_one(CategoryPicker).set_code(category)
            self.post_message(self.Changed())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.has_focus:  # the agent's own choice wins over later suggestions
            self._chosen.add(event.select.id)
        self.post_message(self.Changed())

    @on(CategoryPicker.Picked)
    def _category_picked(self, event: CategoryPicker.Picked) -> None:
        event.stop()
        self._chosen.add("category")
        self.post_message(self.Changed())

    # -- the caller's number: shown from the call, edited only on purpose -----------------------
    def set_caller(self, number: str) -> None:
        self.query_one("#caller-number", Input).value = number or HIDDEN_NUMBER

    def edit_caller(self) -> None:
        number = self.query_one("#caller-number", Input)
        number.disabled = False
        number.focus()

    @on(Input.Submitted, "#caller-number")
    def _caller_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#content", TextArea).focus()

    def on_descendant_blur(self) -> None:
        number = self.query_one("#caller-number", Input)
        if not number.has_focus:
            number.disabled = True  # typing elsewhere never lands in it again

    # -- the content ---------------------------------------------------------------------------
    def focus_content(self) -> None:
        area = self.query_one("#content", TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def draft_content(self, text: str) -> None:
        area = self.query_one("#content", TextArea)
        if not area.has_focus:
            area.text = text

    @on(TextArea.Changed, "#content")
    def _content_changed(self, event: TextArea.Changed) -> None:
        if not event.text_area.has_focus:
            return  # drafted from speech, not typed
        if self._typed:
            self._typed.stop()
        self._typed = self.set_timer(TYPED_PAUSE, lambda: self.post_message(
            self.ContentTyped(self.query_one("#content", TextArea).text)))

    def info(self, text: str) -> None:
        self.query_one("#ticket-info", Static).update(text)

    def reset(self) -> None:
        self._chosen.clear()
        self.query_one("#ticket-type", Select).value = TicketType.CONSULTATION.value
        self.query_one("#urgency", Select).value = Urgency.NORMAL.value
        self.query_one(CategoryPicker).set_code(None)
        self.query_one("#caller-number", Input).value = ""
        self.query_one("#content", TextArea).text = ""
        self.info("")
