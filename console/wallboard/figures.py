"""The side panel: seats per state, today's figures, calls per hour, alerts."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from console.display import SEAT_LOOK


def _pct(x: float | None) -> str:
    return f"{x * 100:.0f}%" if x is not None else "—"


def _minutes(seconds: float | None) -> str:
    return f"{seconds / 60:.1f}分" if seconds is not None else "—"


class FiguresPanel(Vertical):
    DEFAULT_CSS = """
    FiguresPanel {
        width: 1fr;
        min-width: 30;
        max-width: 60;
        padding: 0 1;
        border-left: solid $primary;
    }
    FiguresPanel #counts { height: auto; text-style: bold; }
    FiguresPanel #connection { height: auto; color: $error; text-style: bold; }
    FiguresPanel .caption { color: $text-muted; height: 1; }
    FiguresPanel #hourly { height: 3; }
    FiguresPanel #figures { height: auto; margin: 1 0; }
    FiguresPanel #alerts { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="connection")
        yield Static("", id="counts")
        yield Static("今日来电（每小时）", classes="caption")
        yield Sparkline([0] * 24, id="hourly")
        yield Static("", id="figures")
        yield Static("", id="alerts")

    def _part(self, selector: str):
        """A part of the panel; None while the app is being taken down (a last tick may come
        after the panel's children are gone)."""
        found = self.query(selector)
        return found.first() if found else None

    def show_connection(self, online: bool) -> None:
        """While the database is away the tiles show what was last heard (and age)."""
        if part := self._part("#connection"):
            part.update("" if online else "数据库连接中断，正在重连（座席状态为最后已知）")

    def show_counts(self, counts: dict[str, int], alerts: list[str]) -> None:
        shown, listed = self._part("#counts"), self._part("#alerts")
        if shown is None or listed is None:
            return
        shown.update("  ".join(f"{look.label} {counts.get(state, 0)}" for state, look in SEAT_LOOK.items()))
        listed.update(("[b red]告警[/]\n" + "\n".join(escape(a) for a in alerts[:12])) if alerts
                      else "[green]无告警[/]")

    def show_figures(self, f: dict) -> None:
        hourly, figures = self._part("#hourly"), self._part("#figures")
        if hourly is None or figures is None:
            return
        hourly.data = f["calls_per_hour"]
        lines = [
            f"来电 {f['offered']}  接通 {f['answered']}  服务水平(15秒) {_pct(f['service_level'])}",
            f"平均通话 {_minutes(f['handle_s'])}  平均整理 {_minutes(f['wrapup_s'])}",
            f"工单 {f['tickets']}  直办率 {_pct(f['direct_rate'])}",
            "类型 " + " ".join(f"{k}{v}" for k, v in f["by_type"].items()),
            "[b]热点分类[/b] " + "、".join(f"{escape(n)}{c}" for n, c in f["categories"]),
            "[b]热点区域[/b] " + "、".join(f"{escape(n)}{c}" for n, c in f["hotspots"]),
        ]
        figures.update("\n".join(lines))
