"""The knowledge base in PostgreSQL: articles by id, and their sentence vectors per model."""

from __future__ import annotations

import json

import asyncpg

from .connect import connection


class KbStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection):
        self.db = db

    async def upsert_articles(self, rows: list[tuple]) -> int:
        """Insert or update articles by id. A row: (id, title, questions (list), answer,
        department, basis, category, tags (list), valid_from, valid_to, updated_at)."""
        async with connection(self.db) as conn, conn.transaction():
            await conn.executemany(
                """INSERT INTO kb_articles (id, title, questions, answer, department, basis, category,
                                            tags, valid_from, valid_to, updated_at)
                   VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11)
                   ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, questions = EXCLUDED.questions,
                       answer = EXCLUDED.answer, department = EXCLUDED.department, basis = EXCLUDED.basis,
                       category = EXCLUDED.category, tags = EXCLUDED.tags,
                       valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
                       updated_at = EXCLUDED.updated_at""",
                [(r[0], r[1], json.dumps(list(r[2]), ensure_ascii=False), *r[3:7], list(r[7]), *r[8:])
                 for r in rows])
        return len(rows)

    async def articles(self) -> list[asyncpg.Record]:
        """Every article, by id; `questions` decoded to a list."""
        rows = await self.db.fetch("SELECT * FROM kb_articles ORDER BY id")
        return [{**dict(r), "questions": json.loads(r["questions"])} for r in rows]

    async def is_empty(self) -> bool:
        return not await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM kb_articles)")

    async def vector_hashes(self, model: str) -> dict[str, str]:
        """article id → content hash of its stored vectors for this model."""
        rows = await self.db.fetch("SELECT article_id, content_hash FROM kb_vectors WHERE model = $1", model)
        return {r["article_id"]: r["content_hash"] for r in rows}

    async def save_vectors(self, model: str, rows: list[tuple[str, str, bytes, bytes]]) -> None:
        """(article id, content hash, head vector, body vectors) per article, replacing older ones."""
        await self.db.executemany(
            """INSERT INTO kb_vectors (article_id, model, content_hash, head, body)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (article_id, model) DO UPDATE SET content_hash = EXCLUDED.content_hash,
                   head = EXCLUDED.head, body = EXCLUDED.body, computed_at = now()""",
            [(article_id, model, digest, head, body) for article_id, digest, head, body in rows])

    async def vectors(self, model: str) -> dict[str, tuple[bytes, bytes]]:
        """content hash → (head, body) of every stored vector for this model."""
        rows = await self.db.fetch("SELECT content_hash, head, body FROM kb_vectors WHERE model = $1", model)
        return {r["content_hash"]: (r["head"], r["body"]) for r in rows}
