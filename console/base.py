"""What every hotline app shares: F1 shows the keys of the current screen, F9 looks tickets up
(in the app's own role: masked for a supervisor, one unit's for a unit), and the command
palette (Ctrl+P) lists the screen's own actions in Chinese instead of Textual's English ones."""

from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, HelpPanel


class KeyBar(Footer):
    """The footer of every screen: compact, so that a screen's keys fit 80 columns over SSH;
    Ctrl+P (命令) and the rest are listed by F1."""

    def __init__(self, **kwargs):
        super().__init__(compact=True, show_command_palette=False, **kwargs)


class HotlineApp(App):
    # a screen is "-narrow" in an SSH window (80–99 columns): layouts give up side margins
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [Binding("f1", "toggle_help", "帮助"), Binding("f9", "lookup", "查工单"),
                Binding("ctrl+p", "command_palette", "命令", show=False, priority=True)]

    def lookup_screen(self) -> Screen | None:
        """The ticket lookup this app's user may use (None: none, e.g. quality inspection)."""
        return None

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "lookup":  # F9 only where this app's user may look tickets up
            return type(self).lookup_screen is not HotlineApp.lookup_screen
        return True

    def action_lookup(self) -> None:
        from console.ticket_views.search import TicketSearchScreen

        if isinstance(self.screen, TicketSearchScreen):
            self.screen.action_focus_query()
        elif (screen := self.lookup_screen()) is not None:
            self.push_screen(screen)
        else:
            self.notify("本程序不能查工单", severity="warning")

    def action_toggle_help(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if binding.action in seen or binding.action in ("toggle_help", "command_palette") \
                    or not binding.description \
                    or binding.action not in _declared_by_us(active.node):
                continue  # a widget's scrolling, Textual's own defaults
            seen.add(binding.action)
            yield SystemCommand(binding.description, f"按键 {self.get_key_display(binding)}",
                                partial(self.run_action, binding.action, active.node))
        yield SystemCommand("帮助", "显示本屏的按键（F1）", self.action_toggle_help)
        yield SystemCommand("退出", "退出本程序", self.action_quit)


def _declared_by_us(node) -> set[str]:
    """Actions bound in the project's own classes of this node (not Textual's)."""
    return {b.action for cls in type(node).__mro__ if not cls.__module__.startswith("textual")
            for b in cls.__dict__.get("BINDINGS", [])}
