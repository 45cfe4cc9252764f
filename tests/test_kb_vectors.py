"""Sentence vectors: the real e5 model, stored per article version in PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from kb.articles import read_articles
from kb.embed import DISABLE_ENV, VectorFile, assemble, content_hash, load_embedder
from kb.search import KnowledgeIndex, file_index
from kb.library import DEMO_KB, import_articles, read_all, read_vectors, sync_vectors


@pytest.fixture(scope="module")
def embedder():
    embedder, problem = load_embedder()
    assert embedder is not None, problem
    return embedder


def test_meaning_without_shared_words(embedder, tmp_path):
    # 扯证 is what people say for 结婚登记: no word or character pair in common with the article
    articles = list(read_articles(DEMO_KB))
    by_words = KnowledgeIndex(articles).search("我和对象打算扯证")
    with_vectors = file_index(articles, tmp_path / "kb-vectors.npz").search("我和对象打算扯证")
    assert not by_words.hits or by_words.hits[0].article.id != "zb-jiehun-dengji"
    assert with_vectors.hits[0].article.id == "zb-jiehun-dengji"
    pairs = embedder.vectors(articles[:2])
    assert pairs[0][0].shape == (embedder.dim,)
    assert abs(float(np.linalg.norm(pairs[0][0])) - 1.0) < 1e-2


async def test_vectors_are_stored_once_per_article_version(conn, tmp_path, embedder):
    await import_articles(conn, DEMO_KB)
    articles = await read_all(conn)
    assert await read_vectors(conn, articles, embedder.name) is None
    seen = []
    assert await sync_vectors(conn, embedder, lambda done, total: seen.append((done, total))) == len(articles)
    assert seen[-1] == (len(articles), len(articles))
    assert await sync_vectors(conn, embedder) == 0  # all current
    vectors = await read_vectors(conn, articles, embedder.name)
    assert vectors.heads.shape == (len(articles), embedder.dim)

    # an edited article gets a new vector; the others are kept
    edited = dataclasses.replace(articles[0], title=articles[0].title + "（新）")
    path = tmp_path / "edited.jsonl"
    path.write_text(json.dumps(edited.to_json(), ensure_ascii=False) + "\n", encoding="utf-8")
    await import_articles(conn, path)
    assert await sync_vectors(conn, embedder) == 1
    stored = await conn.fetchval("SELECT content_hash FROM kb_vectors WHERE article_id = $1", edited.id)
    assert stored == content_hash(edited)

    # deleting an article deletes its vectors
    await conn.execute("DELETE FROM kb_articles WHERE id = $1", articles[-1].id)
    assert await conn.fetchval("SELECT count(*) FROM kb_vectors") == len(articles) - 1


def test_vector_file_cache_is_reused_and_survives_corruption(tmp_path, embedder):
    articles = list(read_articles(DEMO_KB))
    cache = VectorFile(tmp_path / "kb-vectors.npz")
    first = cache.vectors(embedder, articles)
    assert len(cache.load()) == len(articles)
    calls = []
    again = cache.vectors(embedder, articles, lambda done, total: calls.append(done))
    assert calls == [] and np.array_equal(first.heads, again.heads)  # read back, not recomputed
    cache.path.write_bytes(b"not a numpy file")
    assert cache.load() == {}
    assert np.array_equal(cache.vectors(embedder, articles).bodies, first.bodies)


def test_index_refuses_vectors_that_do_not_fit(embedder):
    articles = list(read_articles(DEMO_KB))
    pairs = dict(zip((content_hash(a) for a in articles), embedder.vectors(articles)))
    with pytest.raises(ValueError, match="article vectors"):
        KnowledgeIndex(articles[:-1], assemble(articles, pairs), embedder)


def test_search_without_vectors_when_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv(DISABLE_ENV, "off")
    embedder, problem = load_embedder()
    assert embedder is None and "off" in problem
    index = file_index(list(read_articles(DEMO_KB)), tmp_path / "kb-vectors.npz")
    assert not index.uses_vectors and index.search("暖气费怎么交").best is not None
