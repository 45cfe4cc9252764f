"""Address pane: top-3 standard addresses while the caller speaks, or typed search."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from geo.gazetteer import Address
from geo.matcher import MatchResult

LEVELS = {"community": "社区", "village_house": "村户", "compound": "小区", "building": "楼栋",
          "door": "门牌", "room": "房屋"}


def short_name(a: Address) -> str:
    """What the agent reads back: the compound and building, the door, or the village house."""
    if a.level in ("compound", "building", "room"):
        return a.compound + a.building
    if a.level == "door":
        return a.road + a.house_no
    if a.level == "village_house":
        return a.community + a.house_no
    return a.community


class AddressPane(Vertical):
    BORDER_TITLE = "地址 F5/F6/F7确认"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.suggestions: list[Address] = []
        self.confirmed: Address | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="输入地址查找（Ctrl+F）", id="address-search")
        yield OptionList(id="address-options")
        yield Static("未确认地址", id="address-confirmed")

    def show(self, result: MatchResult) -> None:
        self.suggestions = [m.address for m in result.matches]
        options = self.query_one("#address-options", OptionList)
        options.clear_options()
        for i, m in enumerate(result.matches):
            a = m.address
            mark = "" if result.confident or i else "？"
            options.add_option(Option(f"F{5 + i} {mark}{short_name(a)} [dim]{a.district}{a.town}·{a.grid or a.community}[/]"))

    def confirm(self, index: int) -> Address | None:
        if index >= len(self.suggestions):
            return None
        self.confirmed = self.suggestions[index]
        a = self.confirmed
        self.query_one("#address-confirmed", Static).update(
            f"[green]✔ {a.full_address.removeprefix('淄博市')}[/]\n[dim]{a.town} {a.community} {a.grid}[/]")
        return a

    def reset(self) -> None:
        self.suggestions, self.confirmed = [], None
        self.query_one("#address-options", OptionList).clear_options()
        self.query_one("#address-confirmed", Static).update("未确认地址")
        self.query_one("#address-search", Input).value = ""
