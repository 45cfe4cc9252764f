"""A unit's work queue app, connected as the unit role.

    hotline unit --unit ZD --actor 王五
"""

from __future__ import annotations

from console.base import HotlineApp

from .screen import UnitQueueScreen


class UnitApp(HotlineApp):
    TITLE = "淄博12345 承办单位"

    def __init__(self, dsn: str, unit_code: str, unit_name: str, actor: str):
        super().__init__()
        self.queue = UnitQueueScreen(dsn, unit_code, unit_name, actor)

    def get_default_screen(self) -> UnitQueueScreen:
        return self.queue
