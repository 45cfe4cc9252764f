"""The floor: seats.toml (validated with errors that name line and field) and the rules of
a seat's state — which changes are allowed, and what each needs."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from common.userfile import read_text

from .vocabulary import SeatState

FIELDS = ("id", "extension", "group", "audio_device", "row", "col")
_EXTENSION = re.compile(r"[0-9]{3,8}")  # ASCII digits only: a PBX dials these


class SeatsConfigError(ValueError):
    """seats.toml is malformed; the message names file, line and field."""


@dataclass(frozen=True)
class Seat:
    id: int
    extension: str
    group: str
    audio_device: str | int  # pyaudio device name (substring) or index
    row: int
    col: int


def _block_lines(text: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each [[seat]] table."""
    lines = text.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if re.match(r"^\s*\[\[\s*seat\s*\]\]", line)]
    ends = []
    for n, start in enumerate(starts):
        nxt = starts[n + 1] - 1 if n + 1 < len(starts) else len(lines)
        for j in range(start, nxt):  # stop at any other table header
            if re.match(r"^\s*\[", lines[j]):
                nxt = j
                break
        ends.append(nxt)
    return list(zip(starts, ends))


def _field_line(text: str, block: tuple[int, int], name: str) -> int:
    lines = text.splitlines()
    for number in range(block[0], block[1] + 1):
        if re.match(rf"^\s*{re.escape(name)}\s*=", lines[number - 1]):
            return number
    return block[0]


def parse_seats(text: str, source: str = "seats.toml") -> list[Seat]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeatsConfigError(f"{source}: not valid TOML: {exc}") from None
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SeatsConfigError(f"{source}: 'defaults' must be a table [defaults], got {defaults!r}")
    if "alerts" in data:
        raise SeatsConfigError(f"{source}: [alerts] moved to hotline.toml (the deployment settings)")
    unknown_top = set(data) - {"defaults", "seat", "site", "sip"}  # [sip]: domain/sip.py
    if unknown_top:
        raise SeatsConfigError(f"{source}: unknown section(s): {', '.join(sorted(unknown_top))}")
    raw_seats = data.get("seat")
    if not isinstance(raw_seats, list) or not raw_seats or not all(isinstance(r, dict) for r in raw_seats):
        raise SeatsConfigError(f"{source}: no [[seat]] tables found")
    blocks = _block_lines(text)
    seats: list[Seat] = []
    seen: dict[str, dict] = {"id": {}, "extension": {}, "place": {}}

    for index, raw in enumerate(raw_seats):
        block = blocks[index] if index < len(blocks) else (1, 1)

        def fail(name: str, message: str) -> None:
            line = _field_line(text, block, name)
            raise SeatsConfigError(f"{source}:{line}: seat #{index + 1}, field '{name}': {message}")

        merged = {**defaults, **raw}
        for name in merged:
            if name not in FIELDS:
                fail(name, f"unknown field (expected one of {', '.join(FIELDS)})")
        for name in FIELDS:
            if name not in merged:
                fail(name, "missing")
        seat_id, extension, group = merged["id"], merged["extension"], merged["group"]
        device, row, col = merged["audio_device"], merged["row"], merged["col"]
        if not isinstance(seat_id, int) or isinstance(seat_id, bool) or not 0 < seat_id < 2**31:
            fail("id", f"must be a positive integer below {2**31}, got {seat_id!r}")
        if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
            fail("extension", f"must be a string of 3-8 digits, got {extension!r}")
        if not isinstance(group, str) or not group.strip() or len(group) > 32 or not group.isprintable():
            fail("group", "must be a non-empty string of at most 32 printable characters")
        if isinstance(device, bool) or not isinstance(device, (str, int)) or device == "" or (
                isinstance(device, str) and not device.isprintable()) or (
                isinstance(device, int) and not 0 <= device < 1024):
            fail("audio_device", "must be a device name or a device index")
        for name, value in (("row", row), ("col", col)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
                fail(name, f"must be an integer from 1 to 100, got {value!r}")
        for key, value in (("id", seat_id), ("extension", extension), ("place", (row, col))):
            if value in seen[key]:
                other = seen[key][value]
                name = "row" if key == "place" else key
                fail(name, f"duplicate {key} {value!r} (also seat #{other})")
            seen[key][value] = index + 1
        seats.append(Seat(seat_id, extension, group.strip(), device, row, col))
    return seats


def load_seats(path: Path) -> list[Seat]:
    return parse_seats(read_text(path, SeatsConfigError), str(path))


class SeatStateError(ValueError):
    """A seat state change the floor's rules do not allow; the message is for the agent."""


# Which state a seat may go to from each state.  离线 is reachable from everywhere: a console
# that dies (or is signed out by whoever notices its heartbeat stopped) leaves the floor.
SEAT_TRANSITIONS = {
    SeatState.OFFLINE: (SeatState.READY,),
    SeatState.READY: (SeatState.TALKING, SeatState.BREAK, SeatState.OFFLINE),
    SeatState.TALKING: (SeatState.WRAP_UP, SeatState.OFFLINE),
    SeatState.WRAP_UP: (SeatState.READY, SeatState.BREAK, SeatState.OFFLINE),
    SeatState.BREAK: (SeatState.READY, SeatState.OFFLINE),
}


def check_seat_change(current: SeatState, new: SeatState, reason: str | None = None) -> None:
    """Refuse a change the floor does not allow (with the allowed ones), or a 小休 without
    its reason."""
    if new not in SEAT_TRANSITIONS[current]:
        allowed = "、".join(SEAT_TRANSITIONS[current])
        raise SeatStateError(f"座席不能从“{current}”变为“{new}”（可变为：{allowed}）")
    if new == SeatState.BREAK and not (reason or "").strip():
        raise SeatStateError("小休须选择原因")


def check_agent_id(agent_id: str) -> str:
    agent_id = (agent_id or "").strip()
    if not agent_id or len(agent_id) > 32 or not agent_id.isprintable():
        raise SeatStateError("工号须为1-32个可见字符")
    return agent_id
