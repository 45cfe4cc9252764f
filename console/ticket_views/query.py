"""One search box for tickets, read word by word, so that an agent types what they know and
nothing else: `13805331234` (a caller), `20261202-0012` or `20261202` (a ticket number or
its start), `2026-12-01` or `2026-12-01..2026-12-02` (the days accepted), `已派单` (a status),
`ZD` (a unit code), anything else — words of the address."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from domain.tickets import normalize_phone
from domain.vocabulary import TicketStatus
from domain.workdays import SHANGHAI

_NUMBER = re.compile(r"^\d{8}(-\d{0,6})?$")
_CALLER = re.compile(r"^\+?\d[\d-]{4,19}$")
_DAYS = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?$")
_UNIT = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")


class QueryError(ValueError):
    """A word of the search box that cannot be what it looks like (a date that is no date)."""


@dataclass
class TicketQuery:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    status: str | None = None
    caller: str | None = None
    address: str | None = None
    unit: str | None = None
    number: str | None = None

    def filters(self) -> dict:
        return {"start": self.start, "end": self.end, "status": self.status, "caller": self.caller,
                "address": self.address, "unit": self.unit, "number": self.number}

    def describe(self) -> str:
        """The filters as the user reads them back (Chinese)."""
        parts = []
        if self.start:
            last = (self.end - dt.timedelta(days=1)).date()
            parts.append(f"受理 {self.start.date()}" + (f"至{last}" if last != self.start.date() else ""))
        for label, value in (("工单号", self.number), ("来电", self.caller), ("状态", self.status),
                             ("单位", self.unit), ("地址含", self.address)):
            if value:
                parts.append(f"{label} {value}")
        return "；".join(parts) or "全部工单"


def _midnight(text: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), SHANGHAI)
    except ValueError:
        raise QueryError(f"日期不对：{text}（如 2026-12-01）") from None


def parse_query(text: str) -> TicketQuery:
    query = TicketQuery()
    address = []
    for word in text.replace("\u3000", " ").split():
        if _NUMBER.match(word):
            query.number = word
        elif days := _DAYS.match(word):
            query.start = _midnight(days[1])
            query.end = _midnight(days[2] or days[1]) + dt.timedelta(days=1)
            if query.end <= query.start:
                raise QueryError(f"日期范围倒了：{word}")
        elif _CALLER.match(word):
            try:
                query.caller = normalize_phone(word)
            except ValueError as exc:
                raise QueryError(f"号码不对：{word}（{exc}）") from None
        elif word in set(TicketStatus):
            query.status = word
        elif _UNIT.match(word):
            query.unit = word
        else:
            address.append(word)
    query.address = " ".join(address) or None
    return query
