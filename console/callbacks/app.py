"""The agent's call-back list app, connected as the agent role.

    hotline callbacks --agent A012
"""

from __future__ import annotations

import datetime as dt

from console.base import HotlineApp
from console.ticket_views.search import TicketSearchScreen

from .screen import CallbackScreen


class CallbackApp(HotlineApp):
    TITLE = "淄博12345 回访"

    def __init__(self, dsn: str, agent_id: str, replied_before: dt.datetime):
        super().__init__()
        self.callbacks = CallbackScreen(dsn, agent_id, replied_before)
        self.dsn = dsn

    def lookup_screen(self) -> TicketSearchScreen:
        return TicketSearchScreen(self.dsn)

    def get_default_screen(self) -> CallbackScreen:
        return self.callbacks
