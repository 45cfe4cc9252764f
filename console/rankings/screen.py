"""承办单位排名: the units best first by on-time replies, a bar for each rate that matters most,
and the weeks' hot spots (category × 街道/社区)."""

from __future__ import annotations

import datetime as dt

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.base import KeyBar

from db.connect import connect
from db.rankings import hot_spots, unit_rankings
from domain.settings import LifecycleSettings
from domain.workdays import SHANGHAI

BAR_WIDTH = 20


def bar(rate: float | None, colour: str) -> Text:
    """A rate as a bar of BAR_WIDTH cells and its percentage."""
    if rate is None:
        return Text("—")
    filled = round(rate * BAR_WIDTH)
    return Text("█" * filled, style=colour) + Text("░" * (BAR_WIDTH - filled), style="grey30") + Text(
        f" {rate * 100:5.1f}%")


def percent(rate: float | None) -> str:
    return f"{rate * 100:.1f}%" if rate is not None else "—"


class RankingsScreen(Screen):
    DEFAULT_CSS = """
    RankingsScreen #heading { height: 1; background: $boost; padding: 0 1; }
    RankingsScreen #units { height: 2fr; }
    RankingsScreen #spots { height: 1fr; }
    """
    BINDINGS = [Binding("f5", "reload", "刷新", show=False), Binding("q", "app.quit", "退出")]

    def __init__(self, dsn: str, start: dt.datetime, end: dt.datetime, settings: LifecycleSettings):
        super().__init__(name="rankings")
        self.dsn, self.start, self.end, self.settings = dsn, start, end, settings
        self.units: list[dict] = []
        self.spots: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="heading")
        yield DataTable(id="units", zebra_stripes=True, cursor_type="row")
        yield DataTable(id="spots", zebra_stripes=True, cursor_type="row")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#units", DataTable).add_columns(
            "名次", "单位", "办件量", "按期办结率", "满意率", "按时签收", "按时联系", "退单率", "延期率", "重办率", "平均办理(时)")
        self.query_one("#spots", DataTable).add_columns("周", "分类", "街道", "社区", "工单数")
        await self.action_reload()

    async def action_reload(self) -> None:
        conn = await connect(self.dsn)
        try:
            self.units = await unit_rankings(conn, self.start, self.end, self.settings, dt.datetime.now(SHANGHAI))
            self.spots = await hot_spots(conn, self.start, self.end)
        finally:
            await conn.close()
        units = self.query_one("#units", DataTable)
        units.clear()
        for place, u in enumerate(self.units, 1):
            units.add_row(str(place), Text(u["单位"]), str(u["办件量"]), bar(u["按期办结率"], "green"),
                          bar(u["满意率"], "cyan"), percent(u["按时签收率"]), percent(u["按时联系率"]),
                          percent(u["退单率"]), percent(u["延期率"]), percent(u["重办率"]),
                          f"{u['平均办理小时']:.1f}" if u["平均办理小时"] is not None else "—")
        spots = self.query_one("#spots", DataTable)
        spots.clear()
        for s in self.spots:
            spots.add_row(s["week"], Text(s["分类"]), Text(s["街道"]), Text(s["社区"]), str(s["工单数"]))
        last_day = self.end - dt.timedelta(days=1)
        self.query_one("#heading", Static).update(
            f"[b]承办单位排名[/b] {self.start:%Y-%m-%d} — {last_day:%Y-%m-%d}  单位 {len(self.units)}  "
            f"[dim]按期办结率、满意率为条形；下方为每周热点[/]" if self.units else
            f"[b]承办单位排名[/b] {self.start:%Y-%m-%d} — {last_day:%Y-%m-%d}  {escape('这段时间没有派单')}")
