"""Ticket lookup on its own (`hotline tickets --screen`): the F9 screen of every app, for
whoever needs only that.

    hotline tickets --screen [--caller N | --number … | other filters as a first query]
"""

from __future__ import annotations

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen


class LookupApp(HotlineApp):
    TITLE = "淄博12345 工单查询"

    def __init__(self, dsn: str, masked: bool, first_query: str = ""):
        super().__init__()
        self.dsn, self.masked, self.first_query = dsn, masked, first_query

    def get_default_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.dsn, masked=self.masked, first_query=self.first_query)

    def lookup_screen(self) -> TicketSearchScreen:
        return self.screen if isinstance(self.screen, TicketSearchScreen) else self.get_default_screen()
