"""Knowledge pane: answers for the latest utterances, with the passage to read out."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kb.search import KbHit, KbResult


class KnowledgePane(Vertical):
    BORDER_TITLE = "知识库 F8直办"

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
            options.add_option(Option(f"{mark}{hit.article.title} [dim]{hit.confidence:.2f}[/]"))
        preview = self.query_one("#kb-preview", Static)
        preview.update(self.hits[0].highlighted if self.hits and result.confident else
                       ("[dim]没有可信的答案[/]" if not result.confident else ""))

    def selected(self) -> KbHit | None:
        options = self.query_one("#kb-options", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        return self.hits[index] if index < len(self.hits) else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "kb-options" and event.option_index < len(self.hits):
            self.query_one("#kb-preview", Static).update(self.hits[event.option_index].highlighted)

    def reset(self) -> None:
        self.hits, self.confident = [], False
        self.query_one("#kb-options", OptionList).clear_options()
        self.query_one("#kb-preview", Static).update("")
