"""Live transcript: finals appended with their time and who spoke (市民 / 话务员), each
side's partial updating in place below them."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from console.display import speaker_tag
from domain.vocabulary import Speaker


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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._partials: dict[Speaker, str] = {}  # each side's utterance in progress

    def clear(self, notice: str = "") -> None:
        self._partials = {}
        self.query_one("#finals", RichLog).clear()
        self.query_one("#partial", Static).update(notice)

    def captions(self, on: bool) -> None:
        """Say so when the lines are the call's known script, not recognised speech."""
        self.border_subtitle = "演示字幕（未安装语音模型）" if on else ""

    def partial(self, text: str, speaker: Speaker = Speaker.CALLER) -> None:
        self._partials[speaker] = text
        self._show_partials()

    def _show_partials(self) -> None:
        self.query_one("#partial", Static).update("\n".join(
            f"[dim]{speaker_tag(who)}… {escape(text)}[/]"
            for who, text in self._partials.items() if text))

    def key(self, digit: str) -> None:
        """The caller pressed a phone key (DTMF)."""
        self.query_one("#finals", RichLog).write(f"[yellow]（市民按键 {escape(digit)}）[/]")

    def final(self, start: float, text: str, speaker: Speaker = Speaker.CALLER) -> None:
        minutes, seconds = divmod(int(start), 60)
        tag = speaker_tag(speaker)
        self.query_one("#finals", RichLog).write(f"[cyan]{minutes:02d}:{seconds:02d}[/] {tag}{escape(text)}")
        self._partials[speaker] = ""
        self._show_partials()
