"""Working-day arithmetic over the national holiday calendar (Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_CALENDAR = Path(__file__).parent / "data" / "holidays_cn.toml"


@dataclass(frozen=True)
class HolidayCalendar:
    """Weekends are off unless listed as make-up working days; listed holidays are off."""

    off: frozenset[dt.date] = field(default_factory=frozenset)
    work: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: Path = DEFAULT_CALENDAR) -> "HolidayCalendar":
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        off: set[dt.date] = set()
        work: set[dt.date] = set()
        for year, lists in data.items():
            for key, target in (("off", off), ("work", work)):
                for raw in lists.get(key, []):
                    day = dt.date.fromisoformat(raw)
                    if str(day.year) != year:
                        raise ValueError(f"{path}: {raw} listed under [{year}]")
                    target.add(day)
        clash = off & work
        if clash:
            raise ValueError(f"{path}: days both off and working: {sorted(clash)}")
        return cls(frozenset(off), frozenset(work))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.work:
            return True
        if day in self.off:
            return False
        return day.weekday() < 5

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (`day` itself never counts; n=0 gives `day`)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        current = day
        while n > 0:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                n -= 1
        return current


def now() -> dt.datetime:
    return dt.datetime.now(SHANGHAI)


def local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return moment.astimezone(SHANGHAI)
