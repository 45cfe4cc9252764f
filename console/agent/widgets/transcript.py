"""Live transcript: finals appended with their time, the partial updating in place."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static


class TranscriptPane(Vertical):
    BORDER_TITLE = "通话转写"
    DEFAULT_CSS = """
    TranscriptPane {
        border: round $primary;
        border-title-color: $primary;
    }
    TranscriptPane RichLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    TranscriptPane #partial {
        height: auto;
        max-height: 2;
    }
    """

    def compose(self) -> ComposeResult:
        yield RichLog(id="finals", wrap=True, markup=True)
        yield Static("", id="partial")

    def clear(self, notice: str = "") -> None:
        self.query_one("#finals", RichLog).clear()
        self.query_one("#partial", Static).update(notice)

    def captions(self, on: bool) -> None:
        """Say so when the lines are the call's known script, not recognised speech."""
        self.border_subtitle = "演示字幕（未安装语音模型）" if on else ""

    def partial(self, text: str) -> None:
        self.query_one("#partial", Static).update(f"[dim]… {escape(text)}[/]")

    def key(self, digit: str) -> None:
        """The caller pressed a phone key (DTMF)."""
        self.query_one("#finals", RichLog).write(f"[yellow]（市民按键 {escape(digit)}）[/]")

    def final(self, start: float, text: str) -> None:
        minutes, seconds = divmod(int(start), 60)
        self.query_one("#finals", RichLog).write(f"[cyan]{minutes:02d}:{seconds:02d}[/] {escape(text)}")
        self.query_one("#partial", Static).update("")
