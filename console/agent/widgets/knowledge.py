"""Knowledge pane: answers for the latest utterances, with the passage to read out."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kb.search import KbHit, KbResult


class KnowledgePane(Vertical):
    BORDER_TITLE = "知识库 F8直办"
    DEFAULT_CSS = """
    KnowledgePane {
        border: round $secondary;
        border-title-color: $secondary;
    }
    KnowledgePane OptionList {
        height: auto;
        max-height: 6;
        border: none;
        padding: 0;
    }
    KnowledgePane #kb-preview {
        height: auto;
        max-height: 3;
    }
    """

    @dataclass
    class AnswerChosen(Message):
        """The agent chose this answer to read out and close the call on the spot (直办)."""

        hit: KbHit

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hits: list[KbHit] = []
        self.confident = False

    def compose(self) -> ComposeResult:
        yield OptionList(id="kb-options")
        yield Static("", id="kb-preview")

    def show(self, result: KbResult) -> None:
        self.hits, self.confident = list(result.hits), result.confident
        options = self.query_one("#kb-options", OptionList)
        options.clear_options()
        for i, hit in enumerate(self.hits):
            mark = "" if (result.confident and i == 0) else "[dim]？[/]"
            options.add_option(Option(f"{mark}{escape(hit.article.title)} [dim]{hit.confidence:.2f}[/]"))
        preview = self.query_one("#kb-preview", Static)
        preview.update(self.hits[0].highlighted if self.hits and result.confident else
                       ("[dim]没有可信的答案[/]" if not result.confident else ""))

    def is_confident(self, hit: KbHit) -> bool:
        """Only the top answer of a confident search is trusted without asking."""
        return self.confident and bool(self.hits) and hit is self.hits[0]

    def selected(self) -> KbHit | None:
        options = self.query_one("#kb-options", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        return self.hits[index] if index < len(self.hits) else None

    @on(OptionList.OptionHighlighted, "#kb-options")
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index < len(self.hits):
            self.query_one("#kb-preview", Static).update(self.hits[event.option_index].highlighted)

    @on(OptionList.OptionSelected, "#kb-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self.hits):
            self.post_message(self.AnswerChosen(self.hits[event.option_index]))

    def reset(self) -> None:
        self.hits, self.confident = [], False
        self.query_one("#kb-options", OptionList).clear_options()
        self.query_one("#kb-preview", Static).update("")
