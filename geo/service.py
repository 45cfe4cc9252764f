"""The gazetteer's way in and out of PostgreSQL (through db.gazetteer), a cached index of it,
and the address heard so far in a call."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Callable

import asyncpg

from db.gazetteer import COLUMNS, GazetteerStore

from .gazetteer import Address, GazetteerError, read_csv
from .index import AddressIndex
from .matcher import AddressMatcher, MatchResult

log = logging.getLogger(__name__)
DEMO_GAZETTEER = Path(__file__).parent / "data" / "demo_gazetteer.csv"


@dataclass
class ImportReport:
    source: str
    rows_read: int = 0
    rows_stored: int = 0
    errors: list[GazetteerError] = field(default_factory=list)


async def import_csv(db: asyncpg.Pool | asyncpg.Connection, path: Path, strict: bool = False,
                     on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """Load a standard-address CSV; re-importing updates rows by address_code.

    Invalid rows are reported with their line numbers and skipped; with `strict` the first
    one aborts the import and nothing is stored.
    """
    report = ImportReport(str(path))
    rows = read_csv(path, on_error=None if strict else report.errors.append, on_progress=on_progress)
    record = attrgetter(*COLUMNS)  # the row as the store takes it (astuple deep-copies: 10× slower)
    report.rows_stored = await GazetteerStore(db).import_rows(
        (record(row) for row in rows), report.source, report.errors)
    report.rows_read = report.rows_stored + len(report.errors)
    return report


async def load_index(conn: asyncpg.Connection, cache: Path | None,
                     on_progress: Callable[[int], None] | None = None) -> AddressIndex:
    """The index of the imported gazetteer: the cache file when it is current, else rebuilt."""
    store = GazetteerStore(conn)
    current = await store.fingerprint()
    if cache and Path(cache).exists():
        try:
            index = AddressIndex.load(cache)
            if index.fingerprint == current:
                return index
        except (ValueError, EOFError, OSError) as exc:
            log.warning("index cache %s unusable (%s): rebuilding", cache, exc)
    rows = [Address(*row) async for row in store.rows()]
    index = AddressIndex.build(rows, on_progress=on_progress)
    index.fingerprint = current
    if cache:
        index.save(cache)
    return index


@dataclass
class AddressTracker:
    """Follows one call's transcript and keeps the address heard so far.

    Only the last `window` characters are matched (where the caller speaks now, and what
    keeps the cost flat as the call goes on); a confident match stays until a newer
    confident one replaces it, so small talk after the address does not erase it.
    """

    matcher: AddressMatcher
    window: int = 80
    _last_text: str = ""
    _latest: MatchResult | None = None
    _confident: MatchResult | None = None

    def update(self, transcript: str) -> MatchResult:
        text = transcript[-self.window:]
        if self._latest is None or text != self._last_text:
            self._last_text = text
            self._latest = self.matcher.match(text)
            if self._latest.confident:
                self._confident = self._latest
        return self.heard

    @property
    def heard(self) -> MatchResult | None:
        """The address as heard so far (the latest confident match, else the latest)."""
        return self._confident or self._latest
