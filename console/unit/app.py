"""A unit's work queue app, connected as the unit role.

    hotline unit --unit ZD --actor 王五
"""

from __future__ import annotations

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen

from .screen import UnitQueueScreen


class UnitApp(HotlineApp):
    TITLE = "淄博12345 承办单位"

    def __init__(self, dsn: str, unit_code: str, unit_name: str, actor: str):
        super().__init__()
        self.queue = UnitQueueScreen(dsn, unit_code, unit_name, actor)
        self.dsn, self.unit_code = dsn, unit_code

    def lookup_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.dsn, only_unit=self.unit_code)

    def get_default_screen(self) -> UnitQueueScreen:
        return self.queue
