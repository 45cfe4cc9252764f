"""How the hotline's words look on every screen: one table of label, colour and CSS class.

The words themselves are `domain.vocabulary`; a screen never spells a state or a colour of
its own, so adding a seat state is one line here and one there.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import SeatState, TicketStatus


@dataclass(frozen=True)
class Look:
    label: str  # the full word, as the agent reads it
    short: str  # two characters, for a wallboard tile
    colour: str  # Rich colour for text
    css: str  # class for tiles and badges


SEAT_LOOK = {
    SeatState.READY: Look("就绪", "就绪", "green", "ready"),
    SeatState.TALKING: Look("通话中", "通话", "red", "talking"),
    SeatState.WRAP_UP: Look("话后整理", "整理", "yellow", "wrapup"),
    SeatState.BREAK: Look("小休", "小休", "dodger_blue1", "break"),
    SeatState.OFFLINE: Look("离线", "离线", "grey50", "offline"),
}

TICKET_LOOK = {
    TicketStatus.ACCEPTED: Look("受理", "受理", "white", "accepted"),
    TicketStatus.DISPATCHED: Look("已派单", "派单", "cyan", "dispatched"),
    TicketStatus.SIGNED: Look("已签收", "签收", "cyan", "signed"),
    TicketStatus.IN_PROGRESS: Look("办理中", "办理", "yellow", "in-progress"),
    TicketStatus.REPLIED: Look("已办结", "办结", "green", "replied"),
    TicketStatus.VISITED: Look("已回访", "回访", "green", "visited"),
    TicketStatus.ARCHIVED: Look("已归档", "归档", "grey50", "archived"),
    TicketStatus.RETURNED: Look("退单", "退单", "red", "returned"),
    TicketStatus.REOPENED: Look("重办", "重办", "dark_orange", "reopened"),
    TicketStatus.CLOSED_DIRECT: Look("直办结", "直办", "green", "closed-direct"),
}


def seat_badge(state: str, reason: str = "") -> str:
    """Rich markup of a seat state, with the break reason."""
    look = SEAT_LOOK[SeatState(state)]
    return f"[{look.colour} b]{look.label}{f'（{reason}）' if reason else ''}[/]"


def ticket_badge(status: str) -> str:
    look = TICKET_LOOK[TicketStatus(status)]
    return f"[{look.colour}]{look.label}[/]"
