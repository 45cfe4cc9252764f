"""The quality inspector's app: one screen, the day's sample to replay and score.

    hotline qa [--date 2026-11-22] --inspector Q01
"""

from __future__ import annotations

import datetime as dt

from console.base import HotlineApp

from quality.config import Rubric

from .screen import InspectionScreen


class QaApp(HotlineApp):
    CSS_PATH = "qa.tcss"
    TITLE = "淄博12345 质检"

    def __init__(self, dsn: str, day: dt.date, inspector: str, rubric: Rubric,
                 output_device: str | int | None = None):
        super().__init__()
        self.main = InspectionScreen(dsn, day, inspector, rubric, output_device)

    def get_default_screen(self) -> InspectionScreen:
        return self.main
