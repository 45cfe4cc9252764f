"""Ticket rules of Chinese 12345 practice: types, statuses, deadlines, validation.

Pure functions and small dataclasses: no SQL and no UI here.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .workdays import HolidayCalendar, local, now

TICKET_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
URGENCIES = ("一般", "紧急")
CHANNELS = ("电话", "网站", "微信", "短信", "APP")
HANDLING_MODES = ("直办", "派单")

STATUSES = ("受理", "已派单", "已签收", "办理中", "已办结", "已回访", "已归档", "退单", "直办结")
# Allowed status changes.  退单 (a unit sends the ticket back) returns it to the
# hotline, which dispatches it again; 直办结 closes a ticket answered on the spot.
TRANSITIONS = MappingProxyType({
    "受理": ("已派单", "直办结"),
    "已派单": ("已签收", "退单"),
    "已签收": ("办理中", "退单"),
    "办理中": ("已办结",),
    "已办结": ("已回访", "办理中"),  # a failed callback reopens the case
    "已回访": ("已归档",),
    "退单": ("已派单",),
    "直办结": ("已回访", "已归档"),
    "已归档": (),
})

# Working days to handle a ticket, by type (configurable per deployment).
DEFAULT_DEADLINE_DAYS = MappingProxyType({
    "咨询": 1, "求助": 2, "投诉": 3, "举报": 5, "建议": 5, "表扬": 5,
})
URGENT_MIN_HOURS = 2  # an urgent ticket is due the same day, and never in under 2 hours

LIMITS = MappingProxyType({
    "content": 2000,
    "caller_name": 32,
    "address_text": 200,
    "kb_article_id": 64,
})

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# 010 and 02x have 8-digit local numbers; other area codes (0xxx) 7 or 8 digits.
_LANDLINE = re.compile(r"^(?:(010|02\d)(\d{8})|(0[3-9]\d{2})(\d{7,8}))$")


class TicketValidationError(ValueError):
    """One or more ticket fields are invalid; `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class TransitionError(ValueError):
    """A status change that the ticket workflow does not allow."""


def normalize_phone(raw: str) -> str:
    """Return a mainland mobile (13812345678) or landline with area code (0533-1234567).

    Accepts spaces, dashes and a +86/0086/86 prefix; raises ValueError with the reason.
    """
    if raw is None or not str(raw).strip():
        raise ValueError("号码为空 (phone number is empty)")
    digits = re.sub(r"[\s\-()（）]", "", str(raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit():
        raise ValueError(f"号码含非数字字符 (not a phone number): {raw!r}")
    if _MOBILE.match(digits):
        return digits
    landline = _LANDLINE.match(digits)
    if landline:
        area = landline[1] or landline[3]
        number = landline[2] or landline[4]
        return f"{area}-{number}"
    if digits.startswith("1"):
        raise ValueError(f"手机号应为1开头的11位数字 (invalid mobile number): {raw!r}")
    if digits.startswith("0"):
        raise ValueError(f"固话区号或号码长度不对 (invalid landline): {raw!r}")
    raise ValueError(f"固话需带区号，如0533-1234567 (landline needs its area code): {raw!r}")


@dataclass(frozen=True)
class TicketDraft:
    """What an agent submits.  `idempotency_key` makes a resubmission harmless."""

    ticket_type: str
    content: str
    caller_number: str
    urgency: str = "一般"
    channel: str = "电话"
    handling_mode: str = "派单"
    category_code: str | None = None
    caller_name: str = ""
    address_code: str | None = None
    address_text: str = ""
    unit_code: str | None = None
    kb_article_id: str | None = None
    call_id: int | None = None
    seat_id: int | None = None
    agent_id: str | None = None
    accepted_at: dt.datetime = field(default_factory=now)
    idempotency_key: uuid.UUID = field(default_factory=uuid.uuid4)


def validate(draft: TicketDraft) -> TicketDraft:
    """Check every field; return the draft with normalised phone and trimmed text."""
    errors: dict[str, str] = {}
    if draft.ticket_type not in TICKET_TYPES:
        errors["ticket_type"] = f"工单类型须为{'/'.join(TICKET_TYPES)}"
    if draft.urgency not in URGENCIES:
        errors["urgency"] = f"紧急程度须为{'/'.join(URGENCIES)}"
    if draft.channel not in CHANNELS:
        errors["channel"] = f"渠道须为{'/'.join(CHANNELS)}"
    if draft.handling_mode not in HANDLING_MODES:
        errors["handling_mode"] = f"办理方式须为{'/'.join(HANDLING_MODES)}"
    content = (draft.content or "").strip()
    if not content:
        errors["content"] = "诉求内容不能为空"
    for name, limit in LIMITS.items():
        value = content if name == "content" else (getattr(draft, name) or "")
        if len(value) > limit:
            errors[name] = f"超长：{len(value)}字，上限{limit}字"
    try:
        phone = normalize_phone(draft.caller_number)
    except ValueError as exc:
        errors["caller_number"] = str(exc)
        phone = draft.caller_number
    if draft.handling_mode == "直办" and not draft.kb_article_id:
        errors["kb_article_id"] = "直办须关联知识库条目"
    if draft.handling_mode == "派单" and draft.ticket_type != "咨询" and not draft.unit_code:
        # consultation may be dispatched later; everything else needs a unit now
        errors["unit_code"] = "派单须指定承办单位"
    if draft.accepted_at.tzinfo is None:
        errors["accepted_at"] = "受理时间缺少时区"
    if errors:
        raise TicketValidationError(errors)
    return replace(
        draft,
        content=content,
        caller_number=phone,
        caller_name=draft.caller_name.strip(),
        address_text=draft.address_text.strip(),
    )


@dataclass(frozen=True)
class TicketRules:
    """Deadlines over a holiday calendar; deadline days per type are configurable."""

    calendar: HolidayCalendar
    deadline_days: MappingProxyType = field(default_factory=lambda: DEFAULT_DEADLINE_DAYS)
    day_end: dt.time = dt.time(23, 59, 59)

    @classmethod
    def default(cls) -> "TicketRules":
        return cls(HolidayCalendar.load())

    def deadline(self, ticket_type: str, urgency: str, accepted_at: dt.datetime) -> dt.datetime:
        accepted = local(accepted_at)
        if urgency == "紧急":
            end_of_day = accepted.replace(hour=self.day_end.hour, minute=self.day_end.minute,
                                          second=self.day_end.second, microsecond=0)
            return max(end_of_day, accepted + dt.timedelta(hours=URGENT_MIN_HOURS))
        days = self.deadline_days[ticket_type]
        due = self.calendar.add_workdays(accepted.date(), days)
        return dt.datetime.combine(due, self.day_end, tzinfo=accepted.tzinfo)

    @staticmethod
    def initial_statuses(draft: TicketDraft) -> tuple[str, ...]:
        """Status events written with a new ticket."""
        if draft.handling_mode == "直办":
            return ("受理", "直办结")
        if draft.unit_code:
            return ("受理", "已派单")
        return ("受理",)

    @staticmethod
    def check_transition(current: str, new: str) -> None:
        if new not in STATUSES:
            raise TransitionError(f"未知状态: {new}")
        if new not in TRANSITIONS.get(current, ()):
            allowed = "、".join(TRANSITIONS.get(current, ())) or "无"
            raise TransitionError(f"不能从“{current}”变为“{new}”（可变为：{allowed}）")
