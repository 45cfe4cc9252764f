"""Getting a ready matcher: from PostgreSQL through a cache file, or straight from a CSV."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import asyncpg

from .index import AddressIndex
from .matcher import AddressMatcher, MatchResult
from .store import fingerprint, read_rows

log = logging.getLogger(__name__)
DEMO_GAZETTEER = Path(__file__).parent / "data" / "demo_gazetteer.csv"


async def load_index(conn: asyncpg.Connection, cache: Path | None,
                     on_progress: Callable[[int], None] | None = None) -> AddressIndex:
    """The index of the imported gazetteer: the cache file when it is current, else rebuilt."""
    current = await fingerprint(conn)
    if cache and Path(cache).exists():
        try:
            index = AddressIndex.load(cache)
            if index.fingerprint == current:
                return index
        except (ValueError, EOFError, OSError) as exc:
            log.warning("index cache %s unusable (%s): rebuilding", cache, exc)
    rows = [row async for row in read_rows(conn)]
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
        return self._confident or self._latest
