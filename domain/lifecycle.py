"""A ticket's life after the call: who may take which step from which status, what each step
needs, and the events it appends. Pure rules; db.lifecycle stores the events.

The steps of Zibo-style 12345 practice: the hotline dispatches (派单) or re-dispatches (改派);
the unit signs for the ticket (签收, within `sign_minutes`), contacts the citizen (联系群众,
within `contact_minutes`), notes progress, replies (办结) or sends it back (退单, with a
reason), which the hotline reviews — accepted and re-dispatched, or refused back to the unit;
the unit may ask for more time (延期申请), which the hotline approves (the deadline moves) or
refuses; an agent calls the citizen back (回访: 满意 / 基本满意 / 不满意 — 不满意 reopens the ticket
as 重办 to the same unit); a supervisor chases a ticket (督办) and the unit answers by a set
time; the hotline archives (归档).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from .vocabulary import TicketStatus

S = TicketStatus


class Role(StrEnum):
    HOTLINE = "热线"  # agents and supervisors acting for the hotline
    UNIT = "承办单位"
    SUPERVISOR = "班长"


class Step(StrEnum):
    DISPATCH = "派单"
    REDISPATCH = "改派"
    SIGN = "签收"
    CONTACT = "联系群众"
    NOTE = "进展"
    REPLY = "办结"
    RETURN = "退单"
    REFUSE_RETURN = "退单驳回"
    REQUEST_EXTENSION = "延期申请"
    APPROVE_EXTENSION = "延期批准"
    REFUSE_EXTENSION = "延期驳回"
    VISIT = "回访"
    SUPERVISE = "督办"
    ANSWER_SUPERVISION = "督办回复"
    ARCHIVE = "归档"


class Satisfaction(StrEnum):
    SATISFIED = "满意"
    BASICALLY = "基本满意"
    DISSATISFIED = "不满意"


OPEN = (S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RETURNED, S.REOPENED)  # a unit has work to do


@dataclass(frozen=True)
class Rule:
    role: Role
    from_statuses: tuple[TicketStatus, ...]
    to_status: TicketStatus | None  # None: the status stays
    needs: tuple[str, ...] = ()  # "unit", "text", "outcome", "due_at"
    own_unit: bool = False  # only the unit that holds the ticket


RULES: dict[Step, Rule] = {
    Step.DISPATCH: Rule(Role.HOTLINE, (S.ACCEPTED,), S.DISPATCHED, ("unit",)),
    Step.REDISPATCH: Rule(Role.HOTLINE, (S.DISPATCHED, S.RETURNED), S.DISPATCHED, ("unit",)),
    Step.SIGN: Rule(Role.UNIT, (S.DISPATCHED, S.REOPENED), S.SIGNED, own_unit=True),
    Step.CONTACT: Rule(Role.UNIT, (S.SIGNED,), S.IN_PROGRESS, own_unit=True),
    Step.NOTE: Rule(Role.UNIT, (S.SIGNED, S.IN_PROGRESS), None, ("text",), own_unit=True),
    Step.REPLY: Rule(Role.UNIT, (S.IN_PROGRESS,), S.REPLIED, ("text",), own_unit=True),
    Step.RETURN: Rule(Role.UNIT, (S.DISPATCHED, S.SIGNED, S.REOPENED), S.RETURNED, ("text",), own_unit=True),
    Step.REFUSE_RETURN: Rule(Role.HOTLINE, (S.RETURNED,), S.SIGNED, ("text",)),
    Step.REQUEST_EXTENSION: Rule(Role.UNIT, (S.SIGNED, S.IN_PROGRESS), None, ("text", "due_at"), own_unit=True),
    Step.APPROVE_EXTENSION: Rule(Role.HOTLINE, (S.SIGNED, S.IN_PROGRESS), None),
    Step.REFUSE_EXTENSION: Rule(Role.HOTLINE, (S.SIGNED, S.IN_PROGRESS), None, ("text",)),
    Step.VISIT: Rule(Role.HOTLINE, (S.REPLIED,), None, ("outcome",)),
    Step.SUPERVISE: Rule(Role.SUPERVISOR, OPEN, None, ("text", "due_at")),
    Step.ANSWER_SUPERVISION: Rule(Role.UNIT, OPEN, None, ("text",), own_unit=True),
    Step.ARCHIVE: Rule(Role.HOTLINE, (S.VISITED, S.CLOSED_DIRECT), S.ARCHIVED),
}


class LifecycleError(ValueError):
    """A step the ticket's state or the actor's role does not allow; the message says what is."""


@dataclass(frozen=True)
class TicketState:
    """What the rules need to know of a ticket (read from its events)."""

    status: TicketStatus
    unit_code: str | None  # the unit that holds it
    deadline: dt.datetime
    pending_extension: dt.datetime | None = None  # the due date a unit asked for
    open_supervision: bool = False  # a 督办 without its answer yet


@dataclass(frozen=True)
class Request:
    step: Step
    role: Role
    actor: str
    unit_code: str | None = None  # dispatching: the unit; a unit acting: who it is
    text: str = ""
    outcome: str | None = None
    due_at: dt.datetime | None = None


@dataclass(frozen=True)
class NewEvent:
    """An event to append: kind ('status', 'note', 'contact', 'extension_request', …)."""

    kind: str
    status: TicketStatus | None = None
    unit_code: str | None = None
    note: str = ""
    payload: dict = field(default_factory=dict)


def allowed_steps(state: TicketState, role: Role) -> list[Step]:
    return [step for step, rule in RULES.items() if rule.role == role and state.status in rule.from_statuses]


def check_allowed(state: TicketState, step: Step, role: Role, unit_code: str | None = None) -> None:
    """Refuse a step this role may not take on this ticket now (before asking for its text)."""
    rule = RULES[step]
    if role != rule.role:
        raise LifecycleError(f"“{step}”须由{rule.role}办理，不能由{role}办理")
    if state.status not in rule.from_statuses:
        allowed = "、".join(allowed_steps(state, role)) or "无"
        raise LifecycleError(f"工单处于“{state.status}”，不能{step}（{role}现在可以：{allowed}）")
    if rule.own_unit and unit_code != state.unit_code:
        raise LifecycleError(f"工单由{state.unit_code or '—'}承办，{unit_code or '—'}不能{step}")
    if step in (Step.APPROVE_EXTENSION, Step.REFUSE_EXTENSION) and state.pending_extension is None:
        raise LifecycleError("没有待审批的延期申请")
    if step == Step.ANSWER_SUPERVISION and not state.open_supervision:
        raise LifecycleError("没有待回复的督办")
    if step == Step.SUPERVISE and state.open_supervision:  # one 督办 at a time: its answer clears it
        raise LifecycleError("已有待回复的督办，须等承办单位回复")


def plan(state: TicketState, request: Request) -> list[NewEvent]:
    """The events a step appends, or LifecycleError with the steps that are allowed."""
    step, rule = request.step, RULES[request.step]
    check_allowed(state, step, request.role, request.unit_code)
    text = (request.text or "").strip()
    missing = {"unit": not request.unit_code, "text": not text, "outcome": not request.outcome,
               "due_at": request.due_at is None}
    labels = {"unit": "承办单位", "text": "说明", "outcome": "满意度", "due_at": "期限"}
    lacking = [labels[n] for n in rule.needs if missing[n]]
    if lacking:
        raise LifecycleError(f"{step}须填写：{'、'.join(lacking)}")
    if len(text) > 2000:
        raise LifecycleError(f"说明超长：{len(text)}字，上限2000字")
    if step == Step.REDISPATCH and request.unit_code == state.unit_code and state.status != S.RETURNED:
        raise LifecycleError("改派须换一个承办单位")
    if step == Step.REQUEST_EXTENSION and request.due_at <= state.deadline:
        raise LifecycleError(f"延期须晚于现在的期限 {state.deadline:%Y-%m-%d %H:%M}")
    if step == Step.VISIT and request.outcome not in set(Satisfaction):
        raise LifecycleError(f"满意度须为{'/'.join(Satisfaction)}")

    def status(to: TicketStatus, unit: str | None = None) -> NewEvent:
        return NewEvent("status", to, unit, text, {"step": step.value})

    if step in (Step.DISPATCH, Step.REDISPATCH):
        return [status(S.DISPATCHED, request.unit_code)]
    if step == Step.CONTACT:
        return [NewEvent("contact", note=text), status(S.IN_PROGRESS)]
    if step == Step.NOTE:
        return [NewEvent("note", note=text)]
    if step == Step.REFUSE_RETURN:  # back to the unit that returned it
        return [status(S.SIGNED, state.unit_code)]
    if step == Step.REQUEST_EXTENSION:
        return [NewEvent("extension_request", note=text, payload={"due_at": request.due_at.isoformat()})]
    if step == Step.APPROVE_EXTENSION:
        return [NewEvent("extension_decision", note=text, payload={"approved": True}),
                NewEvent("deadline", note=text, payload={"due_at": state.pending_extension.isoformat()})]
    if step == Step.REFUSE_EXTENSION:
        return [NewEvent("extension_decision", note=text, payload={"approved": False})]
    if step == Step.VISIT:
        visit = NewEvent("visit", note=text, payload={"outcome": request.outcome})
        if request.outcome == Satisfaction.DISSATISFIED:  # 重办: the same unit again
            return [visit, status(S.REOPENED, state.unit_code)]
        return [visit, status(S.VISITED)]
    if step == Step.SUPERVISE:
        return [NewEvent("supervision", note=text, payload={"answer_by": request.due_at.isoformat()})]
    if step == Step.ANSWER_SUPERVISION:
        return [NewEvent("supervision_reply", note=text)]
    return [status(rule.to_status)]
