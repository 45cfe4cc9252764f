"""The floor screen: every seat where it sits on the floor, and the figures beside them."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.screen import Screen
from textual.widgets import Static

from console.base import KeyBar

from domain.alerts import SeatView
from domain.settings import AlertLimits

from .figures import FiguresPanel
from .seat_tile import SeatTile


class FloorGrid(Grid):
    """The seats' grid: below NARROW columns per seat the seats touch (no gutter) — their
    colour still tells them apart — so that 150 fit 80 columns."""

    NARROW = 6

    def on_resize(self, event) -> None:
        self.set_class(event.size.width // self.styles.grid_size_columns < self.NARROW, "narrow")


class FloorScreen(Screen):
    BINDINGS = [Binding("enter", "app.drill", "座席详情"), Binding("q", "app.quit", "退出"),
                Binding("up", "move(-1, 0)", "上", show=False),
                Binding("down", "move(1, 0)", "下", show=False),
                Binding("left", "move(0, -1)", "左", show=False),
                Binding("right", "move(0, 1)", "右", show=False)]

    def __init__(self, views: dict[int, SeatView], limits: AlertLimits):
        super().__init__(name="floor")
        self.views = views
        self.limits = limits
        self.rows = max(v.row for v in views.values())
        self.cols = max(v.col for v in views.values())

    def compose(self) -> ComposeResult:
        by_place = {(v.row, v.col): v for v in self.views.values()}
        with Horizontal():
            grid = FloorGrid(id="floor")
            grid.styles.grid_size_columns = self.cols
            grid.styles.grid_size_rows = self.rows
            with grid:
                for row in range(1, self.rows + 1):
                    for col in range(1, self.cols + 1):
                        view = by_place.get((row, col))
                        yield SeatTile(view, id=f"seat-{view.seat_id}") if view else Static("", classes="aisle")
            yield FiguresPanel(id="side")
        yield KeyBar()

    def action_move(self, rows: int, cols: int) -> None:
        """Arrow keys walk the floor plan, over the aisles, as the seats sit."""
        by_place = {(v.row, v.col): v.seat_id for v in self.views.values()}
        focused = self.focused_seat()
        if focused is None:
            first = min(by_place.items())[1]
            self.query_one(f"#seat-{first}", SeatTile).focus()
            return
        row, col = self.views[focused].row, self.views[focused].col
        while 1 <= row + rows <= self.rows and 1 <= col + cols <= self.cols:
            row, col = row + rows, col + cols
            if (row, col) in by_place:
                self.query_one(f"#seat-{by_place[(row, col)]}", SeatTile).focus()
                return

    def show_seat(self, seat_id: int) -> None:
        self.query_one(f"#seat-{seat_id}", SeatTile).show(time.time(), self.limits)

    def tick(self) -> None:
        """Re-draw times in state, counts and alerts (heartbeats are checked against now)."""
        now = time.time()
        counts: dict[str, int] = {}
        alerts = []
        for tile in self.query(SeatTile):
            tile.show(now, self.limits)
            state = tile.view.shown_state(now, self.limits)
            counts[state] = counts.get(state, 0) + 1
            if (alert := tile.view.alert(now, self.limits)):
                alerts.append(alert)
        if panel := self._figures():
            panel.show_counts(counts, alerts)

    def _figures(self) -> FiguresPanel | None:
        """The figures panel; None while the screen is being taken down (a last tick may
        come after its widgets are gone when the app exits)."""
        found = self.query(FiguresPanel)
        return found.first() if found else None

    def show_connection(self, online: bool) -> None:
        if panel := self._figures():
            panel.show_connection(online)

    def show_figures(self, figures: dict) -> None:
        if panel := self._figures():
            panel.show_figures(figures)

    def focused_seat(self) -> int | None:
        return self.focused.view.seat_id if isinstance(self.focused, SeatTile) else None
