"""The supervisor's 督办 view app, connected as the supervisor role.

    hotline supervise --supervisor B01
"""

from __future__ import annotations

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen

from .screen import SupervisionScreen


class SupervisionApp(HotlineApp):
    TITLE = "淄博12345 督办"

    def __init__(self, dsn: str, supervisor_id: str):
        super().__init__()
        self.board = SupervisionScreen(dsn, supervisor_id)
        self.dsn = dsn

    def lookup_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.dsn, masked=True)

    def get_default_screen(self) -> SupervisionScreen:
        return self.board
