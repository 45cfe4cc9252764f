"""The rankings screen app, connected as the supervisor role.

    hotline rankings --from 2026-12-01 --to 2026-12-31 --screen
"""

from __future__ import annotations

import datetime as dt

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen
from domain.settings import LifecycleSettings

from .screen import RankingsScreen


class RankingsApp(HotlineApp):
    TITLE = "淄博12345 承办单位排名"

    def __init__(self, dsn: str, start: dt.datetime, end: dt.datetime, settings: LifecycleSettings):
        super().__init__()
        self.rankings = RankingsScreen(dsn, start, end, settings)
        self.dsn = dsn

    def lookup_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.dsn, masked=True)

    def get_default_screen(self) -> RankingsScreen:
        return self.rankings
