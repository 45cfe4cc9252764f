"""The knowledge base in PostgreSQL: import, export, read for indexing."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from .articles import Article, ArticleError, read_articles
from .embed import ArticleVectors, Embedder, Progress, assemble, content_hash, from_bytes, to_bytes

DEMO_KB = Path(__file__).parent / "data" / "demo"


@dataclass
class KbImportReport:
    source: str
    stored: int = 0
    errors: list[ArticleError] = field(default_factory=list)


async def import_articles(conn: asyncpg.Connection, path: Path, strict: bool = False) -> KbImportReport:
    """Insert or update articles by id; invalid ones are reported (or refused with strict)."""
    report = KbImportReport(str(path))
    articles = list(read_articles(path, None if strict else report.errors.append))
    now = dt.datetime.now(dt.timezone.utc)
    async with conn.transaction():
        await conn.executemany(
            """INSERT INTO kb_articles (id, title, questions, answer, department, basis, category,
                                        tags, valid_from, valid_to, updated_at)
               VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, questions = EXCLUDED.questions,
                   answer = EXCLUDED.answer, department = EXCLUDED.department, basis = EXCLUDED.basis,
                   category = EXCLUDED.category, tags = EXCLUDED.tags,
                   valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
                   updated_at = EXCLUDED.updated_at""",
            [(a.id, a.title, json.dumps(list(a.questions), ensure_ascii=False), a.answer,
              a.department, a.basis, a.category, list(a.tags), a.valid_from, a.valid_to,
              a.updated_at or now) for a in articles])
    report.stored = len(articles)
    return report


async def read_all(conn: asyncpg.Connection) -> list[Article]:
    rows = await conn.fetch("SELECT * FROM kb_articles ORDER BY id")
    return [Article(r["id"], r["title"], r["answer"], tuple(json.loads(r["questions"])),
                    r["department"], r["basis"], r["category"], tuple(r["tags"]),
                    r["valid_from"], r["valid_to"], r["updated_at"]) for r in rows]


async def sync_vectors(conn: asyncpg.Connection, embedder: Embedder,
                       progress: Progress | None = None, articles: list[Article] | None = None) -> int:
    """Compute the vectors of articles that have none for this model, or stale ones; returns
    how many were computed.  `articles`: the imported ones when the caller has just read
    them.  Safe to run from several consoles at once."""
    if articles is None:
        articles = await read_all(conn)
    rows = await conn.fetch("SELECT article_id, content_hash FROM kb_vectors WHERE model = $1",
                            embedder.name)
    current = {r["article_id"]: r["content_hash"] for r in rows}
    stale = [a for a in articles if current.get(a.id) != content_hash(a)]
    if not stale:
        return 0
    pairs = embedder.vectors(stale, progress)
    await conn.executemany(
        """INSERT INTO kb_vectors (article_id, model, content_hash, head, body)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (article_id, model) DO UPDATE SET content_hash = EXCLUDED.content_hash,
               head = EXCLUDED.head, body = EXCLUDED.body, computed_at = now()""",
        [(a.id, embedder.name, content_hash(a), to_bytes(h), to_bytes(b))
         for a, (h, b) in zip(stale, pairs)])
    return len(stale)


async def read_vectors(conn: asyncpg.Connection, articles: list[Article], model: str
                       ) -> ArticleVectors | None:
    """The stored vectors in article order, or None when any article lacks a current one."""
    rows = await conn.fetch(
        "SELECT content_hash, head, body FROM kb_vectors WHERE model = $1", model)
    known = {r["content_hash"]: (from_bytes(r["head"]), from_bytes(r["body"])) for r in rows}
    if not articles or any(content_hash(a) not in known for a in articles):
        return None
    return assemble(articles, known)
