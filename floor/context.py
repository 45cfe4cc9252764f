"""Everything a seat needs, loaded once at start-up: the address index, the knowledge base,
the taxonomy and its suggestion model, routing rules, the centre's settings, the ticket
writer with its outbox, and the speech model when one is installed."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from common.heap import freeze_startup_heap
from common.paths import data_dir
from db.outbox import Outbox, TicketWriter
from db.reference import ReferenceStore
from db.tickets import TicketStore
from domain.routing import RoutingRule, Unit, route
from domain.settings import Settings, load_settings
from domain.taxonomy import Category, category_examples
from domain.tickets import TicketRules
from geo.gazetteer import Address
from geo.matcher import AddressMatcher
from geo.service import load_index
from kb.classify import CategoryModel
from kb.embed import load_embedder
from kb.library import read_all, read_vectors, sync_vectors
from kb.search import KnowledgeIndex

log = logging.getLogger(__name__)


@dataclass
class SeatContext:
    dsn: str
    seat_id: int
    agent_id: str
    settings: Settings
    matcher: AddressMatcher
    kb: KnowledgeIndex | None
    categories: list[Category]
    category_model: CategoryModel | None
    routing: list[RoutingRule]
    rules: TicketRules
    writer: TicketWriter
    recordings: Path
    model: object | None = None  # the Vosk model, when one is installed
    model_problem: str = ""  # why there is no live transcript

    @classmethod
    async def load(cls, dsn: str, seat_id: int, agent_id: str, model_path: str | None = None,
                   want_model: bool = True, settings: Settings | None = None) -> "SeatContext":
        settings = settings or load_settings()
        conn = await asyncpg.connect(dsn)
        try:
            index = await load_index(conn, data_dir() / "geo-index.pkl")
            articles = await read_all(conn)
            embedder, _ = load_embedder()
            vectors = None
            if embedder is not None and articles:
                # normally done at import; here for articles stored before vectors existed
                computed = await sync_vectors(conn, embedder, articles=articles)
                if computed:
                    log.info("computed sentence vectors for %d articles", computed)
                vectors = await read_vectors(conn, articles, embedder.name)
            reference = ReferenceStore(conn)
            categories = await reference.categories(level=3)
            routing = await reference.routing_rules()
            history = await TicketStore(conn).labelled_contents(5000)
        finally:
            await conn.close()
        # the category model learns from the taxonomy's own names, a few typical phrasings per
        # category shipped with the product, and the tickets the centre has filed
        known = {c.code for c in categories}
        examples = [(text, code) for text, code in category_examples() if code in known]
        texts = [c.path.replace("/", " ") for c in categories] + [t for t, _ in examples] \
            + [content for content, _ in history]
        labels = [c.code for c in categories] + [code for _, code in examples] + [code for _, code in history]
        category_model = CategoryModel(texts, labels) if len(set(labels)) >= 2 else None
        model, problem = None, "未加载语音模型"
        if want_model:
            try:
                from speech.model import find_model, load_model
                model, problem = load_model(find_model(model_path)), ""
            except Exception as exc:  # the console works without live transcription
                problem = str(exc).splitlines()[0]
        # what was loaded lives as long as the console: keep full collections from walking it
        # (tens of ms on a large gazetteer) while the agent types
        freeze_startup_heap()
        rules = TicketRules.from_settings(settings.tickets)
        writer = TicketWriter(dsn, Outbox(data_dir() / f"outbox-seat{seat_id:03d}.jsonl"), rules)
        return cls(dsn, seat_id, agent_id, settings, AddressMatcher(index),
                   KnowledgeIndex(articles, vectors, embedder) if articles else None, categories,
                   category_model, routing, rules, writer, data_dir() / "recordings", model, problem)

    def route(self, address: Address | None, category_code: str | None) -> Unit | None:
        """The unit a ticket would go to (in memory: works while the database is away)."""
        return route(self.routing, address.district_code if address else None,
                     address.town_code if address else None, category_code)

    def deadline(self, ticket_type: str, urgency: str, accepted_at: dt.datetime) -> dt.datetime:
        return self.rules.deadline(ticket_type, urgency, accepted_at)
