"""分类: the ticket category found by typing — words of any level or pinyin initials."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Key
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from domain.category_search import CategoryFinder


class CategoryPicker(Vertical):
    DEFAULT_CSS = """
    CategoryPicker {
        height: auto;
        width: 1fr;
    }
    CategoryPicker Input {
        width: 1fr;
    }
    CategoryPicker OptionList {
        display: none;
        height: auto;
        max-height: 6;
        border: none;
        padding: 0 1;
        background: $panel;
    }
    CategoryPicker.open OptionList {
        display: block;
    }
    """

    @dataclass
    class Picked(Message):
        """The agent took a category (None: cleared)."""

        code: str | None

    def __init__(self, finder: CategoryFinder, **kwargs):
        super().__init__(**kwargs)
        self.finder = finder
        self.code: str | None = None
        self._quiet = False  # the value is being set by code, not typed

    def compose(self) -> ComposeResult:
        search = Input(placeholder="输入汉字或拼音首字母，如 wysf 物业收费", id="category-search")
        search.border_title = "分类 Ctrl+K"
        yield search
        yield OptionList(id="category-options")

    # -- set by code ------------------------------------------------------------------------------
    def set_code(self, code: str | None) -> None:
        """Show `code` (a suggestion, or a reset with None) without opening the list."""
        category = self.finder.get(code) if code else None
        self.code = category.code if category else None
        self._show(category.path if category else "")

    def _show(self, text: str) -> None:
        self._quiet = True
        self.query_one(Input).value = text
        self._quiet = False
        self.remove_class("open")

    # -- typed ------------------------------------------------------------------------------------
    @on(Input.Changed, "#category-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._quiet:
            return
        options = self.query_one(OptionList)
        options.clear_options()
        found = self.finder.find(event.value)
        for category in found:
            *parents, leaf = category.path.split("/")
            options.add_option(Option(f"[b]{escape(leaf)}[/] [dim]{escape('/'.join(parents))}[/]", id=category.code))
        if found:
            options.highlighted = 0
        self.set_class(bool(found), "open")

    def on_key(self, event: Key) -> None:
        """↑↓ move in the list while typing; Esc closes it."""
        if not self.has_class("open"):
            return
        options = self.query_one(OptionList)
        if event.key in ("down", "up"):
            event.stop()
            event.prevent_default()
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
        elif event.key == "escape":
            event.stop()
            self.remove_class("open")

    @on(Input.Submitted, "#category-search")
    def _take_highlighted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if self.has_class("open") and options.highlighted is not None:
            self._take(options.get_option_at_index(options.highlighted).id)
        elif not event.value.strip():
            self._take(None)

    @on(OptionList.OptionSelected, "#category-options")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._take(event.option.id)

    def _take(self, code: str | None) -> None:
        self.set_code(code)
        self.post_message(self.Picked(self.code))

    def on_descendant_blur(self) -> None:
        """Leaving the field: the list closes and the text shows what is really chosen."""
        if not self.query_one(Input).has_focus and not self.query_one(OptionList).has_focus:
            self.set_code(self.code)
