"""How the hotline's words look on every screen: one table of label, colour and CSS class.

The words themselves are `domain.vocabulary`; a screen never spells a state or a colour of
its own, so adding a seat state is one line here and one there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.vocabulary import SeatState, Speaker, TicketStatus
from domain.workdays import SHANGHAI


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


SPEAKER_COLOUR = {Speaker.CALLER: "bright_white", Speaker.AGENT: "green"}


def speaker_tag(speaker: str | None) -> str:
    """"市民" / "话务员" before an utterance; nothing for one of a transcript of one voice
    (stored before the sides were told apart: no speaker)."""
    if speaker not in SPEAKER_COLOUR:
        return ""
    return f"[{SPEAKER_COLOUR[Speaker(speaker)]}]{speaker}[/] "


def seat_badge(state: str, reason: str = "") -> str:
    """Rich markup of a seat state, with the break reason."""
    look = SEAT_LOOK[SeatState(state)]
    return f"[{look.colour} b]{look.label}{f'（{reason}）' if reason else ''}[/]"


def ticket_badge(status: str) -> str:
    look = TICKET_LOOK[TicketStatus(status)]
    return f"[{look.colour}]{look.label}[/]"


EVENT_LABEL = {"status": "状态", "note": "进展", "correction": "更正", "contact": "联系群众",
               "extension_request": "延期申请", "extension_decision": "延期审批", "deadline": "期限变更",
               "visit": "回访", "supervision": "督办", "supervision_reply": "督办回复", "warning": "预警"}
WARNING_LOOK = {"yellow": "[yellow]黄色预警[/]", "orange": "[dark_orange]橙色预警[/]", "red": "[red]红色预警[/]"}
TIMER_LABEL = {"sign": "签收", "contact": "联系", "handle": "办理", "supervision": "督办回复"}


def event_detail(kind: str, payload: dict) -> str:
    """What an event's payload says, in the users' words (times in Asia/Shanghai)."""
    def when(value) -> str:
        moment = dt.datetime.fromtimestamp(float(value), SHANGHAI) if isinstance(value, (int, float)) \
            else dt.datetime.fromisoformat(value).astimezone(SHANGHAI)
        return f"{moment:%m-%d %H:%M}"

    if kind == "warning":
        return f"{WARNING_LOOK[payload['level']]} {TIMER_LABEL[payload['timer']]}时限 {when(payload['due_at'])}"
    if kind in ("extension_request", "deadline"):
        return f"期限 {when(payload['due_at'])}"
    if kind == "extension_decision":
        return "批准" if payload.get("approved") else "驳回"
    if kind == "visit":
        return payload.get("outcome", "")
    if kind == "supervision":
        return f"限 {when(payload['answer_by'])} 前回复"
    return ""
