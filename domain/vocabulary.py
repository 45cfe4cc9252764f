"""The hotline's words, defined once: seat states, ticket types, statuses, handling modes.

Each is a `StrEnum` whose value is the Chinese word stored in PostgreSQL and shown on
screens, so a member compares equal to the string the database returns.  The database's
`CHECK` constraints list the same words (a test keeps the two in step); how a word looks
on a screen (label, colour) is `console.display`.
"""

from __future__ import annotations

from enum import StrEnum


class SeatState(StrEnum):
    READY = "就绪"
    TALKING = "通话中"
    WRAP_UP = "话后整理"
    BREAK = "小休"
    OFFLINE = "离线"


class Speaker(StrEnum):
    """Who said an utterance of a call's transcript (a phone line hears both sides apart)."""

    CALLER = "市民"
    AGENT = "话务员"


class BreakReason(StrEnum):
    MEAL = "用餐"
    REST = "休息"
    TRAINING = "培训"
    MEETING = "会议"
    OTHER = "其他"


class TicketType(StrEnum):
    CONSULTATION = "咨询"
    HELP = "求助"
    COMPLAINT = "投诉"
    REPORT = "举报"
    SUGGESTION = "建议"
    PRAISE = "表扬"


class Urgency(StrEnum):
    NORMAL = "一般"
    URGENT = "紧急"


class Channel(StrEnum):
    PHONE = "电话"
    WEBSITE = "网站"
    WECHAT = "微信"
    SMS = "短信"
    APP = "APP"


class HandlingMode(StrEnum):
    DIRECT = "直办"  # answered on the spot from the knowledge base
    DISPATCH = "派单"  # sent to a responsible unit


class TicketStatus(StrEnum):
    ACCEPTED = "受理"
    DISPATCHED = "已派单"
    SIGNED = "已签收"
    IN_PROGRESS = "办理中"
    REPLIED = "已办结"
    VISITED = "已回访"
    ARCHIVED = "已归档"
    RETURNED = "退单"
    REOPENED = "重办"  # the citizen was not satisfied: the same unit handles it again
    CLOSED_DIRECT = "直办结"


# A ticket in one of these needs nothing more from anyone.
CLOSED_STATUSES = frozenset({TicketStatus.ARCHIVED, TicketStatus.CLOSED_DIRECT, TicketStatus.VISITED})


class CallPhase(StrEnum):
    """Where the seat's current call is (not stored: the seat state is what others see)."""

    IDLE = "idle"
    RINGING = "ringing"
    TALKING = "talking"
    WRAP_UP = "wrapup"
