"""Everything a seat console needs, loaded once at start-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from db import config
from db.heap import freeze_startup_heap
from db.outbox import Outbox, TicketWriter
from db.routing import route
from db.rules import TicketRules
from geo.matcher import AddressMatcher
from geo.service import load_index
from kb.classify import CategoryModel
from kb.search import KnowledgeIndex
from kb.embed import load_embedder
from kb.store import read_all, read_vectors, sync_vectors

log = logging.getLogger(__name__)


@dataclass
class Category:
    code: str
    path: str


@dataclass
class ConsoleContext:
    dsn: str
    seat_id: int
    agent_id: str
    matcher: AddressMatcher
    kb: KnowledgeIndex | None
    categories: list[Category]
    category_model: CategoryModel | None
    rules: TicketRules
    writer: TicketWriter
    recordings: Path
    model: object | None = None  # the Vosk model, when one is installed
    model_problem: str = ""  # why there is no live transcript
    units: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, dsn: str, seat_id: int, agent_id: str, model_path: str | None = None,
                   want_model: bool = True) -> "ConsoleContext":
        conn = await asyncpg.connect(dsn)
        try:
            index = await load_index(conn, config.data_dir() / "geo-index.pkl")
            articles = await read_all(conn)
            embedder, _ = load_embedder()
            vectors = None
            if embedder is not None and articles:
                # normally done at import; here for articles stored before vectors existed
                computed = await sync_vectors(conn, embedder, articles=articles)
                if computed:
                    log.info("computed sentence vectors for %d articles", computed)
                vectors = await read_vectors(conn, articles, embedder.name)
            rows = await conn.fetch("SELECT code, path FROM categories WHERE level = 3 ORDER BY code")
            categories = [Category(r["code"], r["path"]) for r in rows]
            history = await conn.fetch(
                "SELECT content, category_code FROM tickets WHERE category_code IS NOT NULL "
                "ORDER BY id DESC LIMIT 5000")
            units = {r["code"]: r["name"] for r in await conn.fetch("SELECT code, name FROM units")}
        finally:
            await conn.close()
        # the category model learns from the taxonomy's own names and from filed tickets
        texts = [c.path.replace("/", " ") for c in categories] + [h["content"] for h in history]
        labels = [c.code for c in categories] + [h["category_code"] for h in history]
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
        writer = TicketWriter(dsn, Outbox(config.data_dir() / f"outbox-seat{seat_id:03d}.jsonl"),
                              TicketRules.default())
        return cls(dsn, seat_id, agent_id, AddressMatcher(index),
                   KnowledgeIndex(articles, vectors, embedder) if articles else None, categories, category_model,
                   writer.rules, writer, config.data_dir() / "recordings", model, problem, units)

    async def route(self, conn, address, category_code: str | None):
        return await route(conn, address.district_code if address else None,
                           address.town_code if address else None, category_code)
