"""Deployment settings: the deadlines, limits and thresholds one centre chooses (hotline.toml).

Every table is optional and every key has the default of Zibo's practice, so a centre writes
only what it changes.  A wrong key, type or value is refused with file, line and key: a
deadline silently left at its default is worse than a console that does not start.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from common.userfile import read_text

from .vocabulary import TicketType

REPO_SETTINGS = Path(__file__).resolve().parents[1] / "hotline.toml"


class SettingsError(ValueError):
    """hotline.toml is malformed; the message names file, line and key."""


@dataclass(frozen=True)
class TicketSettings:
    """[tickets]: handling deadlines in working days after the day of acceptance."""

    deadline_days: MappingProxyType = field(default_factory=lambda: MappingProxyType({
        TicketType.CONSULTATION: 1, TicketType.HELP: 2, TicketType.COMPLAINT: 3,
        TicketType.REPORT: 5, TicketType.SUGGESTION: 5, TicketType.PRAISE: 5}))
    urgent_min_hours: float = 2  # an urgent ticket is due the same day, never in under this
    holidays: str = ""  # a holiday calendar TOML instead of the shipped one


@dataclass(frozen=True)
class AlertLimits:
    """[alerts]: when the wallboard flags a seat."""

    long_call_minutes: float = 15
    wrapup_minutes: float = 3
    break_minutes: float = 15
    offline_seconds: float = 30  # no heartbeat for this long: the seat is closed (离线)
    closed_seat_minutes: float = 10  # a seat closed that way stays among the alerts this long


@dataclass(frozen=True)
class LifecycleSettings:
    """[lifecycle]: a unit's timers after dispatch, and when warnings turn yellow and orange
    (a fraction of the time used; red when it is over)."""

    sign_minutes: float = 15
    contact_minutes: float = 30
    yellow: float = 0.5
    orange: float = 0.8
    worker_seconds: float = 1  # how often `hotline worker` looks for warnings due


@dataclass(frozen=True)
class SeatSettings:
    """[console]: how a seat console behaves."""

    heartbeat_seconds: float = 10
    kb_utterances: int = 3  # the knowledge base is searched with the caller's last utterances
    address_window: int = 80  # characters of the transcript the address matcher reads


@dataclass(frozen=True)
class Settings:
    tickets: TicketSettings = field(default_factory=TicketSettings)
    alerts: AlertLimits = field(default_factory=AlertLimits)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    console: SeatSettings = field(default_factory=SeatSettings)
    source: str = "(defaults)"


_TABLES = {"tickets": TicketSettings, "alerts": AlertLimits, "lifecycle": LifecycleSettings,
           "console": SeatSettings}


def _line_of(text: str, table: str, key: str | None) -> int:
    """The line of `key` inside `[table]` (or of the table header), for messages."""
    current, header_line = None, 1
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]").strip()
            if current == table:
                header_line = number
        elif current == table and key and stripped.split("=", 1)[0].strip() == key:
            return number
    return header_line


def _check_value(kind: str, default, value):
    """The value checked against the field's declared type (`kind`), or a reason it is not one."""
    if isinstance(default, MappingProxyType):
        if not isinstance(value, dict):
            raise TypeError("must be a table of ticket type = working days")
        unknown = set(value) - {t.value for t in TicketType}
        if unknown:
            raise TypeError(f"unknown ticket type(s) {', '.join(sorted(unknown))} "
                            f"(expected {'/'.join(t.value for t in TicketType)})")
        merged = dict(default)
        for kind, days in value.items():
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
                raise TypeError(f"{kind} must be whole working days from 0 to 60, got {days!r}")
            merged[TicketType(kind)] = days
        return MappingProxyType(merged)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise TypeError(f"must be a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"must be a number, got {value!r}")
    if kind == "int" and not isinstance(value, int):
        raise TypeError(f"must be a whole number, got {value!r}")
    if value <= 0:
        raise TypeError(f"must be positive, got {value!r}")
    return value


def parse_settings(text: str, source: str = "hotline.toml") -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(data) - set(_TABLES)
    if unknown:
        name = sorted(unknown)[0]
        raise SettingsError(f"{source}:{_line_of(text, name, None)}: unknown table [{name}] "
                            f"(expected {', '.join(f'[{t}]' for t in _TABLES)})")
    sections = {}
    for table, kind in _TABLES.items():
        raw = data.get(table, {})
        if not isinstance(raw, dict):
            raise SettingsError(f"{source}: '{table}' must be a table [{table}]")
        defaults = kind()
        declared = {f.name: f.type for f in dataclasses.fields(kind)}
        values = {}
        for key, value in raw.items():
            line = _line_of(text, table, key)
            if key not in declared:
                known = ", ".join(f.name for f in dataclasses.fields(kind))
                raise SettingsError(f"{source}:{line}: [{table}] unknown key '{key}' (expected one of {known})")
            try:
                values[key] = _check_value(declared[key], getattr(defaults, key), value)
            except TypeError as exc:
                raise SettingsError(f"{source}:{line}: [{table}] {key} {exc}") from None
        sections[table] = kind(**values)
    return Settings(**sections, source=source)


def settings_path() -> Path:
    """`HOTLINE_SETTINGS`, else hotline.toml in the working directory, else the repo's."""
    env = os.environ.get("HOTLINE_SETTINGS")
    if env:
        return Path(env)
    here = Path.cwd() / "hotline.toml"
    return here if here.exists() else REPO_SETTINGS


def load_settings(path: Path | None = None) -> Settings:
    path = Path(path) if path else settings_path()
    if path == REPO_SETTINGS and not path.exists():
        return Settings()
    return parse_settings(read_text(path, SettingsError), str(path))
