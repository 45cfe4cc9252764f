"""Ticket rules of Chinese 12345 practice: validation, status changes, deadlines.

Pure functions and small dataclasses: no SQL and no UI here.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .settings import TicketSettings
from .vocabulary import Channel, HandlingMode, TicketStatus, TicketType, Urgency
from .workdays import HolidayCalendar, local, now

# Allowed status changes (the steps that make them are domain/lifecycle.py; a test keeps the
# two in step). 退单 (a unit sends the ticket back) is reviewed by the hotline: re-dispatched,
# or refused back to the unit (已签收); 不满意 at the call-back reopens it (重办) to the same
# unit; 直办结 closes a ticket answered on the spot.
S = TicketStatus
TRANSITIONS = MappingProxyType({
    S.ACCEPTED: (S.DISPATCHED, S.CLOSED_DIRECT),
    S.DISPATCHED: (S.DISPATCHED, S.SIGNED, S.RETURNED),
    S.SIGNED: (S.IN_PROGRESS, S.RETURNED),
    S.IN_PROGRESS: (S.REPLIED,),
    S.REPLIED: (S.VISITED, S.REOPENED),
    S.VISITED: (S.ARCHIVED,),
    S.RETURNED: (S.DISPATCHED, S.SIGNED),
    S.REOPENED: (S.SIGNED, S.RETURNED),
    S.CLOSED_DIRECT: (S.VISITED, S.ARCHIVED),
    S.ARCHIVED: (),
})

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


# What the form shows, and accepts, for a caller who withheld the number; stored as "".
HIDDEN_NUMBER = "号码未显示"


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
    urgency: str = Urgency.NORMAL
    channel: str = Channel.PHONE
    handling_mode: str = HandlingMode.DISPATCH
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


_TEXT = ("ticket_type", "content", "caller_number", "urgency", "channel", "handling_mode",
         "caller_name", "address_text")
_CODES = ("category_code", "address_code", "unit_code", "kb_article_id", "agent_id")  # text or None
_IDS = {"call_id": 2**63, "seat_id": 2**31}  # positive whole numbers or None, below these
_YEARS = (2000, 2100)  # an accepted_at outside is a wrong clock or a wrong field


def _text_problem(value) -> str | None:
    """Why a value cannot be stored as text (PostgreSQL refuses NUL and lone surrogates)."""
    if not isinstance(value, str):
        return f"须为文本，收到{type(value).__name__}"
    if "\x00" in value:
        return "含空字符（NUL）"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "含无效字符（不成对的代理项）"
    return None


def _shape_errors(draft: TicketDraft) -> dict[str, str]:
    """Fields of the wrong type or impossible values: checked before anything reads them."""
    errors: dict[str, str] = {}
    for name in _TEXT:
        if (problem := _text_problem(getattr(draft, name))):
            errors[name] = problem
    for name in _CODES:
        value = getattr(draft, name)
        if value is not None and (problem := _text_problem(value) or (
                "超长：上限64字" if len(value) > 64 else None)):
            errors[name] = problem
    for name, bound in _IDS.items():
        value = getattr(draft, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value < bound):
            errors[name] = f"须为小于{bound}的正整数"
    if not isinstance(draft.accepted_at, dt.datetime):
        errors["accepted_at"] = "须为时间"
    elif draft.accepted_at.tzinfo is None:
        errors["accepted_at"] = "受理时间缺少时区"
    elif not _YEARS[0] <= draft.accepted_at.year < _YEARS[1]:
        errors["accepted_at"] = f"受理时间不合理：{draft.accepted_at.year}年"
    if not isinstance(draft.idempotency_key, uuid.UUID):
        errors["idempotency_key"] = "须为UUID"
    return errors


def validate(draft: TicketDraft) -> TicketDraft:
    """Check every field; return the draft with normalised phone and trimmed text. The one
    error it raises is TicketValidationError, naming every bad field."""
    errors = _shape_errors(draft)
    if errors:
        raise TicketValidationError(errors)
    for name, words, label in (("ticket_type", TicketType, "工单类型"), ("urgency", Urgency, "紧急程度"),
                               ("channel", Channel, "渠道"), ("handling_mode", HandlingMode, "办理方式")):
        if getattr(draft, name) not in set(words):
            errors[name] = f"{label}须为{'/'.join(words)}"
    content = (draft.content or "").strip()
    if not content:
        errors["content"] = "诉求内容不能为空"
    for name, limit in LIMITS.items():
        value = content if name == "content" else (getattr(draft, name) or "")
        if len(value) > limit:
            errors[name] = f"超长：{len(value)}字，上限{limit}字"
    try:
        phone = "" if draft.caller_number.strip() == HIDDEN_NUMBER else normalize_phone(draft.caller_number)
    except ValueError as exc:
        errors["caller_number"] = str(exc)
        phone = draft.caller_number
    if draft.handling_mode == HandlingMode.DIRECT and not draft.kb_article_id:
        errors["kb_article_id"] = "直办须关联知识库条目"
    if (draft.handling_mode == HandlingMode.DISPATCH and draft.ticket_type != TicketType.CONSULTATION
            and not draft.unit_code):
        # consultation may be dispatched later; everything else needs a unit now
        errors["unit_code"] = "派单须指定承办单位"
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
    """Deadlines over a holiday calendar, with the centre's deadline settings."""

    calendar: HolidayCalendar
    settings: TicketSettings = field(default_factory=TicketSettings)
    day_end: dt.time = dt.time(23, 59, 59)

    @classmethod
    def default(cls) -> "TicketRules":
        """Zibo's defaults over the shipped national calendar."""
        return cls(HolidayCalendar.load())

    @classmethod
    def from_settings(cls, settings: TicketSettings) -> "TicketRules":
        calendar = HolidayCalendar.load(settings.holidays) if settings.holidays else HolidayCalendar.load()
        return cls(calendar, settings)

    def deadline(self, ticket_type: str, urgency: str, accepted_at: dt.datetime) -> dt.datetime:
        accepted = local(accepted_at)
        if urgency == Urgency.URGENT:
            end_of_day = accepted.replace(hour=self.day_end.hour, minute=self.day_end.minute,
                                          second=self.day_end.second, microsecond=0)
            return max(end_of_day, accepted + dt.timedelta(hours=self.settings.urgent_min_hours))
        days = self.settings.deadline_days[TicketType(ticket_type)]
        due = self.calendar.add_workdays(accepted.date(), days)
        return dt.datetime.combine(due, self.day_end, tzinfo=accepted.tzinfo)

    @staticmethod
    def initial_statuses(draft: TicketDraft) -> tuple[TicketStatus, ...]:
        """Status events written with a new ticket."""
        if draft.handling_mode == HandlingMode.DIRECT:
            return (TicketStatus.ACCEPTED, TicketStatus.CLOSED_DIRECT)
        if draft.unit_code:
            return (TicketStatus.ACCEPTED, TicketStatus.DISPATCHED)
        return (TicketStatus.ACCEPTED,)

    @staticmethod
    def check_transition(current: str, new: str) -> None:
        if new not in set(TicketStatus):
            raise TransitionError(f"未知状态: {new}")
        if new not in TRANSITIONS.get(TicketStatus(current), ()):
            allowed = "、".join(TRANSITIONS.get(TicketStatus(current), ())) or "无"
            raise TransitionError(f"不能从“{current}”变为“{new}”（可变为：{allowed}）")
