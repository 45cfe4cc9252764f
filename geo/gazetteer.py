"""Standard-address (一标三实) rows: the CSV export format, with row-level validation."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

LEVELS = ("community", "village_house", "compound", "building", "door", "room")
REQUIRED = ("address_code", "level", "district_code", "district", "town_code", "town",
            "community_code", "community", "full_address")
OPTIONAL = ("grid_code", "grid", "road", "house_no", "compound", "building", "unit_count",
            "households", "population", "org_count", "aliases")
COLUMNS = REQUIRED + OPTIONAL
MAX_FIELD = 200

_DIGITS = re.compile(r"^\d+$")
_HOUSE_RANGE = re.compile(r"^(\d+)-(\d+)号$")


@dataclass(frozen=True, slots=True)
class Address:
    address_code: str
    level: str
    district_code: str
    district: str
    town_code: str
    town: str
    community_code: str
    community: str
    grid_code: str
    grid: str
    road: str
    house_no: str
    compound: str
    building: str
    full_address: str
    aliases: tuple[str, ...]
    unit_count: int | None = None
    households: int | None = None  # 实有户数
    population: int | None = None  # 实有人口
    org_count: int | None = None  # 实有单位

    @property
    def house_range(self) -> tuple[int, int] | None:
        match = _HOUSE_RANGE.match(self.house_no)
        return (int(match[1]), int(match[2])) if match else None


class GazetteerError(ValueError):
    """A row of the standard-address file is invalid; `line` is its line number."""

    def __init__(self, line: int, message: str, source: str | Path | None = None):
        self.line, self.message = line, message
        super().__init__(f"{source}: line {line}: {message}" if source else f"line {line}: {message}")

    def of(self, source: str | Path) -> "GazetteerError":
        """The same error, naming the file."""
        return GazetteerError(self.line, self.message, source)


def validate_row(raw: dict, line: int) -> Address:
    values = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for name in REQUIRED:
        if not values[name]:
            raise GazetteerError(line, f"'{name}' is empty")
    for name, value in values.items():
        if len(value) > (MAX_FIELD * 4 if name in ("aliases", "full_address") else MAX_FIELD):
            raise GazetteerError(line, f"'{name}' is too long ({len(value)} characters)")
    code, level = values["address_code"], values["level"]
    if not _DIGITS.match(code) or len(code) < 12:
        raise GazetteerError(line, f"address_code must be at least 12 digits, got {code!r}")
    if level not in LEVELS:
        raise GazetteerError(line, f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if not (_DIGITS.match(values["district_code"]) and len(values["district_code"]) == 6):
        raise GazetteerError(line, f"district_code must be 6 digits, got {values['district_code']!r}")
    if not values["town_code"].startswith(values["district_code"]):
        raise GazetteerError(line, "town_code does not start with district_code")
    if not values["community_code"].startswith(values["town_code"]):
        raise GazetteerError(line, "community_code does not start with town_code")
    if not code.startswith(values["community_code"]):
        raise GazetteerError(line, "address_code does not start with community_code")
    if level in ("compound", "building", "room") and not values["compound"]:
        raise GazetteerError(line, f"a {level} row needs 'compound'")
    if level in ("building", "room") and not values["building"]:
        raise GazetteerError(line, f"a {level} row needs 'building'")
    if level == "door" and not (values["road"] and values["house_no"]):
        raise GazetteerError(line, "a door row needs 'road' and 'house_no'")
    if level == "village_house" and not _HOUSE_RANGE.match(values["house_no"]):
        raise GazetteerError(line, f"a village_house row needs a house_no range like 1-82号, got {values['house_no']!r}")
    aliases = tuple(a.strip() for a in values["aliases"].split(";") if a.strip())
    counts = []
    for name in ("unit_count", "households", "population", "org_count"):
        value = values[name]
        if value and not _DIGITS.match(value):
            raise GazetteerError(line, f"'{name}' must be a whole number, got {value!r}")
        counts.append(int(value) if value else None)
    return Address(
        code, level, values["district_code"], values["district"], values["town_code"],
        values["town"], values["community_code"], values["community"], values["grid_code"],
        values["grid"], values["road"], values["house_no"], values["compound"],
        values["building"], values["full_address"], aliases, *counts,
    )


def read_csv(path: Path, on_error: Callable[[GazetteerError], None] | None = None,
             on_progress: Callable[[int], None] | None = None) -> Iterator[Address]:
    """Yield valid rows; invalid ones go to `on_error` (or raise when it is None)."""
    path = Path(path)
    consumed = 0

    def lines(fh) -> Iterator[str]:
        nonlocal consumed
        for number, raw in enumerate(fh, 1):
            consumed += len(raw)
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise GazetteerError(number, "not UTF-8 text; save the file as UTF-8", path) from None
            if "\x00" in text:
                raise GazetteerError(number, "contains a NUL byte (a damaged or binary file)", path)
            yield text

    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise GazetteerError(0, "file not found", path) from None
    except IsADirectoryError:
        raise GazetteerError(0, "is a directory, not a file", path) from None
    except OSError as exc:
        raise GazetteerError(0, f"cannot be read ({exc.strerror})", path) from None
    with fh:
        reader = csv.DictReader(lines(fh))
        try:
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise GazetteerError(1, f"missing column(s): {', '.join(missing)}", path)
            seen: set[str] = set()
            for number, raw in enumerate(reader, 2):
                if on_progress and number % 10000 == 0:
                    on_progress(consumed)
                try:
                    if None in raw:
                        raise GazetteerError(reader.line_num, "more fields than the header has")
                    row = validate_row(raw, reader.line_num)
                    if row.address_code in seen:
                        raise GazetteerError(reader.line_num, f"duplicate address_code {row.address_code}")
                    seen.add(row.address_code)
                except GazetteerError as exc:
                    if on_error is None:
                        raise exc.of(path) from None
                    on_error(exc.of(path))
                    continue
                yield row
        except csv.Error as exc:
            raise GazetteerError(reader.line_num, str(exc), path) from None
        if on_progress:
            on_progress(consumed)
