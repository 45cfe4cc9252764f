"""Reference data every program needs before it starts: seats, taxonomy, units and routing,
and the demo gazetteer and knowledge base when none was imported."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from db.gazetteer import GazetteerStore
from db.kb import KbStore
from db.reference import ReferenceStore
from db.seats import SeatStore
from domain.routing import DEFAULT_UNITS, parse_units
from domain.seats import load_seats
from domain.taxonomy import DEFAULT_TAXONOMY, parse_taxonomy


async def load_reference(conn: asyncpg.Connection, seats_file: Path) -> dict[str, int]:
    """Seats, and the default taxonomy, units, routing rules and demo gazetteer and KB when
    the database has none; returns what was loaded, by name."""
    from geo.service import DEMO_GAZETTEER, import_csv
    from kb.embed import load_embedder
    from kb.library import DEMO_KB, import_articles, sync_vectors

    reference = ReferenceStore(conn)
    counts = {"seats": await SeatStore(conn).sync(load_seats(seats_file))}
    if not await reference.has_categories():
        counts["categories"] = await reference.import_taxonomy(parse_taxonomy(DEFAULT_TAXONOMY))
    counts["units"], counts["routing_rules"] = await reference.replace_units(*parse_units(DEFAULT_UNITS))
    if await GazetteerStore(conn).is_empty():
        counts["demo addresses"] = (await import_csv(conn, DEMO_GAZETTEER)).rows_stored
    if await KbStore(conn).is_empty():
        counts["demo KB articles"] = (await import_articles(conn, DEMO_KB)).stored
    embedder, _ = load_embedder()
    if embedder is not None:
        counts["KB sentence vectors"] = await sync_vectors(conn, embedder)
    return counts
