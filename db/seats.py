"""seats.toml: the seats of the floor, validated with errors that name line and field."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

FIELDS = ("id", "extension", "group", "audio_device", "row", "col")
_EXTENSION = re.compile(r"^\d{3,8}$")


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
    unknown_top = set(data) - {"defaults", "seat", "site", "alerts"}
    if unknown_top:
        raise SeatsConfigError(f"{source}: unknown section(s): {', '.join(sorted(unknown_top))}")
    raw_seats = data.get("seat")
    if not isinstance(raw_seats, list) or not raw_seats:
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
        if not isinstance(seat_id, int) or isinstance(seat_id, bool) or seat_id <= 0:
            fail("id", f"must be a positive integer, got {seat_id!r}")
        if not isinstance(extension, str) or not _EXTENSION.match(extension):
            fail("extension", f"must be a string of 3-8 digits, got {extension!r}")
        if not isinstance(group, str) or not group.strip() or len(group) > 32:
            fail("group", "must be a non-empty string of at most 32 characters")
        if isinstance(device, bool) or not isinstance(device, (str, int)) or device == "":
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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeatsConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise SeatsConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return parse_seats(text, str(path))


async def sync_seats(conn: asyncpg.Connection, seats: list[Seat]) -> int:
    """Insert or update every seat; return how many were written."""
    async with conn.transaction():
        # floor places may be swapped between seats: clear them first
        await conn.execute("SET CONSTRAINTS ALL DEFERRED")
        await conn.executemany(
            """INSERT INTO seats (id, extension, seat_group, audio_device, floor_row, floor_col)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (id) DO UPDATE SET extension = EXCLUDED.extension,
                   seat_group = EXCLUDED.seat_group, audio_device = EXCLUDED.audio_device,
                   floor_row = EXCLUDED.floor_row, floor_col = EXCLUDED.floor_col,
                   updated_at = now()""",
            [(s.id, s.extension, s.group, str(s.audio_device), s.row, s.col) for s in seats],
        )
    return len(seats)
