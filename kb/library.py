"""The knowledge base's way in and out of PostgreSQL (through db.kb): import a file, read the
articles for the index, keep their sentence vectors current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from db.kb import KbStore

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
    report.stored = await KbStore(conn).upsert_articles(
        [(a.id, a.title, a.questions, a.answer, a.department, a.basis, a.category, a.tags,
          a.valid_from, a.valid_to, a.updated_at or now) for a in articles])
    return report


async def read_all(conn: asyncpg.Connection) -> list[Article]:
    rows = await KbStore(conn).articles()
    return [Article(r["id"], r["title"], r["answer"], tuple(r["questions"]),
                    r["department"], r["basis"], r["category"], tuple(r["tags"]),
                    r["valid_from"], r["valid_to"], r["updated_at"]) for r in rows]


async def sync_vectors(conn: asyncpg.Connection, embedder: Embedder,
                       progress: Progress | None = None, articles: list[Article] | None = None) -> int:
    """Compute the vectors of articles that have none for this model, or stale ones; returns
    how many were computed.  `articles`: the imported ones when the caller has just read
    them.  Safe to run from several consoles at once."""
    if articles is None:
        articles = await read_all(conn)
    store = KbStore(conn)
    current = await store.vector_hashes(embedder.name)
    stale = [a for a in articles if current.get(a.id) != content_hash(a)]
    if not stale:
        return 0
    pairs = embedder.vectors(stale, progress)
    await store.save_vectors(embedder.name, [(a.id, content_hash(a), to_bytes(h), to_bytes(b))
                                             for a, (h, b) in zip(stale, pairs)])
    return len(stale)


async def read_vectors(conn: asyncpg.Connection, articles: list[Article], model: str
                       ) -> ArticleVectors | None:
    """The stored vectors in article order, or None when any article lacks a current one."""
    known = {digest: (from_bytes(head), from_bytes(body))
             for digest, (head, body) in (await KbStore(conn).vectors(model)).items()}
    if not articles or any(content_hash(a) not in known for a in articles):
        return None
    return assemble(articles, known)
