"""Address pane: top-3 standard addresses while the caller speaks, or a typed search."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from geo.gazetteer import Address
from geo.matcher import NAMESAKE, NOT_FOUND, MatchResult


def short_name(a: Address) -> str:
    """What the agent reads back: the compound and building, the door, or the village house."""
    if a.level in ("compound", "building", "room"):
        return a.compound + a.building
    if a.level == "door":
        return a.road + a.house_no
    if a.level == "village_house":
        return a.community + a.house_no
    if a.level == "intersection":
        return a.road
    return a.community


def doubt_hint(result: MatchResult, typed: bool = True) -> str:
    """What the agent asks next when no address is sure (short: it is the pane's bottom border
    at 80 columns): which district or town for a namesake — each candidate shows its own —, the
    address again when nothing in the gazetteer is like a typed one, else the first read back.
    Nothing like an address in what the caller said is no doubt: most of a call is not one."""
    if result.confident or not result.doubt or (result.doubt == NOT_FOUND and not typed):
        return ""
    if result.doubt == NOT_FOUND:
        return "？库中无此地址：请再说一遍或手填"
    if result.doubt == NAMESAKE:
        return "？多处同名：请问哪个区县、镇街"
    return "？没有把握：请复述核实"


class AddressPane(Vertical):
    BORDER_TITLE = "地址 F5/F6/F7确认"
    DEFAULT_CSS = """
    AddressPane {
        border: round $secondary;
        border-title-color: $secondary;
        border-subtitle-color: $warning;  /* why no address is sure (doubt_hint) */
    }
    /* no focus border: in one line it left no room for the text being typed */
    AddressPane Input, AddressPane Input:focus {
        height: 1;
        border: none;
        padding: 0 1;
    }
    AddressPane Input:focus {
        background: $boost;
    }
    /* one line per candidate and no focus border: at 80x24 the pane has four lines, and
       F5-F7 must all show (a wrapped place line or the border hid F6/F7) */
    AddressPane OptionList, AddressPane OptionList:focus {
        height: auto;
        max-height: 6;
        border: none;
        padding: 0;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    AddressPane #address-confirmed {
        height: auto;
        max-height: 3;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    @dataclass
    class SearchRequested(Message):
        """The agent typed an address and pressed Enter."""

        text: str

    @dataclass
    class ConfirmRequested(Message):
        """The agent picked candidate `index` from the list."""

        index: int

    def compose(self) -> ComposeResult:
        yield Input(placeholder="输入地址查找（Ctrl+F）", id="address-search")
        yield OptionList(id="address-options")
        yield Static("未确认地址", id="address-confirmed")

    def focus_search(self) -> None:
        self.query_one("#address-search", Input).focus()

    @on(Input.Submitted, "#address-search")
    def _typed(self, event: Input.Submitted) -> None:
        """A search; an empty one undoes it (the caller's words come back, if any)."""
        event.stop()
        self.post_message(self.SearchRequested(event.value))

    @on(OptionList.OptionSelected, "#address-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.ConfirmRequested(event.option_index))

    def show(self, result: MatchResult, typed: bool = False) -> None:
        options = self.query_one("#address-options", OptionList)
        options.clear_options()
        options.display = True
        # candidates come only while nothing is confirmed (a search drops the confirmed one)
        self.query_one("#address-confirmed", Static).update("未确认地址")
        doubtful = not result.confident  # the first standard address then gets a "？"
        for i, a in enumerate(result.candidates):
            if a.level == "intersection":
                mark = "[b]路口[/] "
            else:
                mark, doubtful = ("？" if doubtful else ""), False
            options.add_option(Option(
                f"F{5 + i} {mark}{escape(short_name(a))} [dim]{a.district}{a.town}·{a.grid or a.community}[/]"))
        self.border_subtitle = doubt_hint(result, typed)
        if typed:
            options.focus()

    def show_confirmed(self, a: Address) -> None:
        """The confirmed address takes the candidates' lines (at 80x24 it was below them, off
        the pane); F5-F7 still pick another, and a search brings the list back."""
        self.query_one("#address-options", OptionList).display = False
        self.border_subtitle = ""
        self.query_one("#address-confirmed", Static).update(
            f"[green]✔ {escape(short_name(a))}[/] {a.district}{a.town}\n"
            f"[dim]{a.community} {a.grid}\n{escape(a.full_address.removeprefix('淄博市'))}[/]")

    def reset(self) -> None:
        self.query_one("#address-options", OptionList).clear_options()
        self.query_one("#address-options", OptionList).display = True
        self.border_subtitle = ""
        self.query_one("#address-confirmed", Static).update("未确认地址")
        self.query_one("#address-search", Input).value = ""
